# SPEC §3.4: fcgi-normalizer-ranges update against a fake provider
# (tests/e2e/provider.py).  A good list is installed and the daemon,
# whose CF-Connecting-IP group names the file in from_file, reloads and
# believes the new range.  Every bad answer is refused with its reason,
# the installed file stays byte-identical and the daemon is not reloaded;
# --force lets a shrunk list in; a run that changes nothing does not
# reload.  The JSON providers keep only their service's entries.
RANGES=${FCN_RANGES_BIN:-$(dirname "$BIN")/fcgi-normalizer-ranges}
PPORT=$(free_port)
python3 "$HERE/provider.py" "$PPORT" 2>"$T/provider.log" &
PIDS="$PIDS $!"
PURL=http://127.0.0.1:$PPORT
for i in $(seq 1 50); do
	curl -s -o /dev/null "$PURL/v4" && break
	sleep 0.1
done
# Its own directory: cases share $T (case 56 leaves a ranges/ there).
RDIR=$T/ranges-82
rm -rf "$RDIR"
mkdir -p "$RDIR"

# ranges ARGS...: the tool on $RDIR; its output in $T/ranges.out, status in RC.
# The provider is on loopback: no proxy from the environment may step in.
ranges() {
	no_proxy='*' NO_PROXY='*' "$RANGES" update --dir "$RDIR" "$@" \
	    >"$T/ranges.out" 2>&1
	RC=$?
	if grep -q -E 'Sanitizer|runtime error:' "$T/ranges.out"; then
		fail "sanitizer report from the tool:"
		sed 's/^/      | /' "$T/ranges.out" | head -30
	fi
}
out_has() { grep -q -F -- "$1" "$T/ranges.out" ||
    fail "$2: output lacks '$1': $(cat "$T/ranges.out")"; }
reloads() { grep -c 'reloaded ' "$T/daemon.log"; }

# CF-Connecting-IP 203.0.113.50 through the CDN edge 198.51.100.77: the
# header is believed only once 198.51.100.0/24 is in the file.
cdn_client() {
	curl -s -H 'CF-Connecting-IP: 203.0.113.50' \
	    -H 'X-Forwarded-For: 198.51.100.77' \
	    "http://127.0.0.1:$ORIGIN/dump.php" | json REMOTE_ADDR
}

# No file yet and no provider named: nothing to update.
ranges
[ "$RC" = 1 ] || fail "empty dir: want exit 1, got $RC"
out_has 'no provider file in' 'empty dir'

# The first install, two sources (v4 then v6), before the daemon starts.
ranges cloudflare --url "cloudflare=$PURL/v4" --url "cloudflare=$PURL/v6" --no-reload
[ "$RC" = 0 ] || fail "first install: exit $RC: $(cat "$T/ranges.out")"
out_has "cloudflare: installed 10 entries (was none) in $RDIR/cloudflare.txt" \
    'first install'
head -5 "$RDIR/cloudflare.txt" > "$T/head" 2>/dev/null
d2='[0-9][0-9]'
sha=$(curl -s "$PURL/v4" "$PURL/v6" |
    sha256sum | cut -d' ' -f1)
grep -q -x '# provider: cloudflare' "$T/head" &&
grep -q -x "# source: $PURL/v4 $PURL/v6" "$T/head" &&
grep -q -x "# fetched: 2${d2}[0-9]-$d2-${d2}T$d2:$d2:${d2}Z" "$T/head" &&
grep -q -x '# entries: 10' "$T/head" &&
grep -q -x "# sha256: $sha" "$T/head" ||
    fail "header: $(cat "$T/head")"
[ "$(sed -n 6p "$RDIR/cloudflare.txt")" = 173.245.48.0/20 ] &&
[ "$(tail -1 "$RDIR/cloudflare.txt")" = 2405:b500::/32 ] ||
    fail "entries out of order: $(cat "$RDIR/cloudflare.txt")"
[ "$(stat -c %a "$RDIR/cloudflare.txt")" = 644 ] || fail "mode not 0644"

start_daemon "trusted_proxies = [ \"127.0.0.1\" ];
	client_headers = ( { header = \"HTTP_CF_CONNECTING_IP\";
		from_file = \"$RDIR/cloudflare.txt\"; },
		\"HTTP_X_FORWARDED_FOR\" );"
DPID=$(cat "$T/daemon.pid")
[ "$(cdn_client)" = 198.51.100.77 ] || fail "edge trusted before the update"

# A bigger list (one more range, a duplicate, CRLF): installed, reloaded,
# and the new edge is believed.
ranges --url "cloudflare=$PURL/v4-bigger" --url "cloudflare=$PURL/v6" \
    --reload-cmd "kill -HUP $DPID"
[ "$RC" = 0 ] || fail "bigger list: exit $RC: $(cat "$T/ranges.out")"
out_has 'cloudflare: installed 11 entries (was 10)' 'bigger list'
out_has "reload: kill -HUP $DPID: done" 'bigger list'
[ "$(grep -c -x 173.245.48.0/20 "$RDIR/cloudflare.txt")" = 1 ] ||
    fail "duplicate entry kept"
for i in $(seq 1 40); do [ "$(reloads)" = 1 ] && break; sleep 0.05; done
log_has 'SIGHUP: reloading'
[ "$(reloads)" = 1 ] || fail "want 1 reload, log has $(reloads)"
[ "$(cdn_client)" = 203.0.113.50 ] || fail "new range not trusted"

# The same list again (the first source through a redirect): unchanged,
# the file rewritten for its fetch time, no reload.
ranges --url "cloudflare=$PURL/redirect" --url "cloudflare=$PURL/v6" \
    --reload-cmd "kill -HUP $DPID"
[ "$RC" = 0 ] || fail "unchanged: exit $RC: $(cat "$T/ranges.out")"
out_has 'cloudflare: unchanged (11 entries)' 'unchanged'
grep -q -x "# source: $PURL/redirect $PURL/v6" "$RDIR/cloudflare.txt" ||
    fail "unchanged: file not rewritten"
grep -q reload: "$T/ranges.out" && fail "unchanged: reload ran"

# Each bad answer: refused with its reason, the file byte-identical.
cp "$RDIR/cloudflare.txt" "$T/installed"
refused() {	# refused REASON URL [ARGS...]
	local why=$1 url=$2
	shift 2
	ranges cloudflare --url "cloudflare=$PURL$url" \
	    --reload-cmd "kill -HUP $DPID" "$@"
	[ "$RC" = 1 ] || fail "$url: want exit 1, got $RC"
	out_has "cloudflare: refused: " "$url"
	out_has "$why" "$url"
	out_has "; $RDIR/cloudflare.txt kept (fetched " "$url"
	cmp -s "$RDIR/cloudflare.txt" "$T/installed" || fail "$url: file changed"
}
refused "$PURL/404 answered HTTP 404" /404
refused "$PURL/503 answered HTTP 503" /503
refused "$PURL/html: line 1 \"<!DOCTYPE html>\" is not a valid CIDR" /html
refused "$PURL/empty answered an empty body" /empty
refused "$PURL/not-cidr: line 7 \"www.cloudflare.com\" is not a valid CIDR" \
    /not-cidr
refused '"0.0.0.0/0" is the whole address space' /all-v4
refused '"::/0" is the whole address space' /all-v6
refused '"10.0.0.0/8" overlaps the private range 10.0.0.0/8' /private
refused '"192.168.10.0/24" overlaps the private range 192.168.0.0/16' \
    /private-inside
refused '"127.0.0.0/8" overlaps the loopback range' /loopback
refused '"100.64.0.0/10" overlaps the private (shared address space)' /cgnat
refused '"fe80::/10" overlaps the link-local range' /linklocal-v6
refused '"fd00::/8" overlaps the private range fc00::/7' /ula
refused 'is an IPv4-mapped IPv6 range' /mapped
refused 'address has bits set right of the prefix' /hostbits
refused 'answered more than 4 MiB' /big
refused 'redirected more than 3 times' /redirect-loop
refused 'did not answer completely within 1 s' /slow --timeout 1
# Two sources: a bad second one refuses the whole list.
ranges cloudflare --url "cloudflare=$PURL/v4-bigger" --url "cloudflare=$PURL/503"
[ "$RC" = 1 ] || fail "bad second source: want exit 1, got $RC"
out_has "refused: $PURL/503 answered HTTP 503" 'bad second source'
cmp -s "$RDIR/cloudflare.txt" "$T/installed" || fail "second source: file changed"
# A shrunk list: refused, then let in by --force (and reloaded).
refused 'the list has 2 entries, fewer than half of the 11 installed' /shrunk
[ "$(reloads)" = 1 ] || fail "a refused list reloaded the daemon"
[ "$(cdn_client)" = 203.0.113.50 ] || fail "trust lost after refusals"
good_request
ranges cloudflare --url "cloudflare=$PURL/shrunk" --force \
    --reload-cmd "kill -HUP $DPID"
[ "$RC" = 0 ] || fail "--force: exit $RC: $(cat "$T/ranges.out")"
out_has 'cloudflare: installed 2 entries (was 11)' '--force'
for i in $(seq 1 40); do [ "$(reloads)" = 2 ] && break; sleep 0.05; done
[ "$(reloads)" = 2 ] || fail "--force: want 2 reloads, log has $(reloads)"
[ "$(cdn_client)" = 198.51.100.77 ] || fail "removed range still trusted"

# A failing reload command is reported and makes the exit status 1.
ranges cloudflare --url "cloudflare=$PURL/v4-bigger" --reload-cmd 'exit 4'
[ "$RC" = 1 ] || fail "failing reload: want exit 1, got $RC"
out_has 'cloudflare: installed 7 entries (was 2)' 'failing reload'
out_has 'reload: exit 4: failed (exit status 4)' 'failing reload'

# The JSON providers: only their service's entries, in document order.
ranges cloudfront cloudfront-origin-facing fastly --no-reload \
    --url "cloudfront=$PURL/aws.json" \
    --url "cloudfront-origin-facing=$PURL/aws.json" --url "fastly=$PURL/fastly.json"
[ "$RC" = 0 ] || fail "json providers: exit $RC: $(cat "$T/ranges.out")"
[ "$(grep -v '^#' "$RDIR/cloudfront.txt" | tr '\n' ' ')" = \
    '120.52.22.96/27 205.251.249.0/24 2600:9000:2000::/36 ' ] ||
    fail "cloudfront: $(cat "$RDIR/cloudfront.txt")"
[ "$(grep -v '^#' "$RDIR/cloudfront-origin-facing.txt" | tr '\n' ' ')" = \
    '13.113.196.64/26 2600:9000:1000::/36 ' ] ||
    fail "cloudfront-origin-facing: $(cat "$RDIR/cloudfront-origin-facing.txt")"
[ "$(grep -v '^#' "$RDIR/fastly.txt" | tr '\n' ' ')" = \
    '23.235.32.0/20 43.249.72.0/22 2a04:4e40::/32 2a04:4e42::/32 ' ] ||
    fail "fastly: $(cat "$RDIR/fastly.txt")"
cp "$RDIR/cloudfront.txt" "$T/cf-installed"
cp "$RDIR/fastly.txt" "$T/fastly-installed"
jrefused() {	# jrefused PROVIDER REASON URL
	ranges "$1" --no-reload --url "$1=$PURL$3"
	[ "$RC" = 1 ] || fail "$3: want exit 1, got $RC"
	out_has "$1: refused: $PURL$3" "$3"
	out_has "$2" "$3"
}
jrefused cloudfront 'not JSON: unexpected end of data' /aws-bad.json
jrefused cloudfront 'not JSON: unexpected character' /aws-trailing.json
jrefused cloudfront 'the JSON has no "ipv6_prefixes" array' /aws-nofield.json
jrefused cloudfront 'prefixes[1] is not an object with the strings' \
    /aws-number.json
jrefused cloudfront \
    'prefixes[2].ip_prefix "172.16.0.0/12" overlaps the private' \
    /aws-private.json
jrefused fastly 'addresses[1] is not a string' /fastly-nonstring.json
jrefused fastly 'not JSON: unexpected character at byte 0' /fastly-html.json
cmp -s "$RDIR/cloudfront.txt" "$T/cf-installed" || fail "cloudfront file changed"
cmp -s "$RDIR/fastly.txt" "$T/fastly-installed" || fail "fastly file changed"

# No provider named: every installed file; one refusal makes the status
# 1 while the others are still updated.
ranges --no-reload --url "cloudflare=$PURL/v4-bigger" \
    --url "cloudfront=$PURL/aws.json" --url "cloudfront-origin-facing=$PURL/404" \
    --url "fastly=$PURL/fastly.json"
[ "$RC" = 1 ] || fail "all installed: want exit 1, got $RC"
out_has 'cloudflare: unchanged (7 entries)' 'all installed'
out_has 'cloudfront: unchanged (3 entries)' 'all installed'
out_has 'cloudfront-origin-facing: refused:' 'all installed'
out_has 'fastly: unchanged (4 entries)' 'all installed'
grep -q google-lb "$T/ranges.out" && fail "google-lb updated uninstalled"
ranges google-lb --no-reload
[ "$RC" = 0 ] || fail "google-lb: exit $RC"
[ "$(grep -v '^#' "$RDIR/google-lb.txt" | tr '\n' ' ')" = \
    '35.191.0.0/16 130.211.0.0/22 ' ] || fail "google-lb list"
# Usage errors.
ranges cloudflare --url 'cloudflare' ; [ "$RC" = 2 ] || fail "bad --url: $RC"
ranges nosuch ; [ "$RC" = 2 ] || fail "unknown provider: $RC"
[ -z "$(ls -A "$RDIR" | grep '^\.')" ] || fail "temp files left: $(ls -A "$RDIR")"
good_request
