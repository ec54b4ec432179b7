# SPEC §3.4: an app names provider range files (as fcgi-normalizer-ranges
# writes them); -t warns about one fetched more than 30 days ago, and the
# status page shows each file's provider, fetch time, age and entries.
mkdir -p "$T/ranges"
ranges_file() {	# ranges_file NAME PROVIDER FETCHED CIDR...
	local f=$T/ranges/$1 p=$2 when=$3
	shift 3
	{
		echo "# provider: $p"
		echo "# source: https://provider.example/$p"
		echo "# fetched: $when"
		echo "# entries: $#"
		echo "# sha256: $(printf '%s\n' "$@" | sha256sum | cut -d' ' -f1)"
		printf '%s\n' "$@"
	} > "$f"
}
fresh=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
stale=$(date -u -d '-45 days' +%Y-%m-%dT%H:%M:%SZ)
ranges_file cloudflare.txt cloudflare "$fresh" 198.51.100.0/24 2001:db8:cf::/48
ranges_file fastly.txt fastly "$stale" 203.0.113.0/24
app="trusted_proxies = [ \"127.0.0.1\" ];
	trusted_proxies_file = \"$T/ranges/fastly.txt\";
	client_headers = ( { header = \"HTTP_CF_CONNECTING_IP\";
		from_file = \"$T/ranges/cloudflare.txt\"; },
		{ header = \"HTTP_FASTLY_CLIENT_IP\";
		from_file = \"$T/ranges/fastly.txt\"; }, \"HTTP_X_FORWARDED_FOR\" );
	status_path = \"/fcgi-normalizer-status\";"
start_daemon "$app"
out=$("$BIN" -t -c "$T/fcn.conf" 2>&1)
rc=$?
[ $rc = 0 ] || fail "-t exit $rc: $out"
echo "$out" | grep -q "warn: $T/fcn.conf:[0-9]*: trusted_proxies_file \"$T/ranges/fastly.txt\": the fastly list was fetched $stale, 45 days ago: run fcgi-normalizer-ranges update" ||
    fail "-t lacks the stale warning: $out"
# Named twice (trusted_proxies_file and a from_file): warned once.
[ "$(echo "$out" | grep -c 'fastly list was fetched')" = 1 ] ||
    fail "-t warned more than once: $out"
echo "$out" | grep -q 'cloudflare list' && fail "-t warned about a fresh list"
log_has "warn.*the fastly list was fetched $stale, 45 days ago"
st=$(curl -s "http://127.0.0.1:$ORIGIN/fcgi-normalizer-status")
for want in "ranges file: *$T/ranges/fastly.txt" "provider: *fastly" \
    "fetched: *$stale" "entries: *1" "ranges file: *$T/ranges/cloudflare.txt" \
    "provider: *cloudflare" "fetched: *$fresh" "entries: *2"; do
	printf '%s\n' "$st" | grep -q "^$want\$" || fail "status lacks '$want'"
done
age=$(printf '%s\n' "$st" | grep -A3 "ranges file: *$T/ranges/cloudflare.txt" |
    sed -n 's/^age seconds: *//p')
[ -n "$age" ] && [ "$age" -ge 7200 ] && [ "$age" -lt 7300 ] ||
    fail "cloudflare age: '$age' (want about 7200)"
js=$(curl -s "http://127.0.0.1:$ORIGIN/fcgi-normalizer-status?json")
n=$(printf '%s' "$js" | php -r '$j = json_decode(stream_get_contents(STDIN),
    true); echo count($j["ranges files"]), " ", $j["ranges files"][0]["provider"];')
[ "$n" = "2 fastly" ] || fail "json ranges files: $n"
# A reload re-reads them: the list was refreshed, the warning goes away.
ranges_file fastly.txt fastly "$fresh" 203.0.113.0/24 192.0.2.0/24
: > "$T/daemon.log"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.3
log_lacks 'fastly list was fetched'
st=$(curl -s "http://127.0.0.1:$ORIGIN/fcgi-normalizer-status")
printf '%s\n' "$st" | grep -A4 "ranges file: *$T/ranges/fastly.txt" |
    grep -q '^entries: *2$' || fail "after reload: $(printf '%s' "$st" | grep -A4 fastly)"
good_request
