# SPEC §6.2: workers = 2 behind a master.  One daemon with three
# listeners: TCP (a SO_REUSEPORT socket per worker), unix and a socket
# passed by systemd (systemd-socket-activate; both shared, exclusive
# wake-ups).  Both workers take a share of each; ?json&full lists them
# and the page sums them; a SIGHUP's new config answers from each worker
# of the new generation; a killed worker is replaced and logged; the pool
# (upstream_max_conns = 5, so 3 a worker) never holds more than 5 + 1
# php-fpm connections under 64 clients; SIGQUIT drains both workers.
stop_daemon
WP=$(free_port)
# Its own php-fpm with more children than the pool may hold, so that a
# pool over its share shows as accepted connections, not a backlog.
sed -e "s|$T/php|$T/php16|g" -e 's/^pm.max_children = .*/pm.max_children = 16/' \
    -e 's/^\[www\]/[w16]/' "$T/php-fpm.conf" > "$T/php16.conf"
php-fpm8.2 -R -y "$T/php16.conf" -F >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/php16.sock"
w_conf() {	# w_conf TRUSTED
	cat > "$T/fcn.conf" <<CONF
log_level = "info";
workers = 2;
apps = ( { name = "wt"; listen = "127.0.0.1:$WP"; upstream = "unix:$T/php16.sock";
	trusted_proxies = [ $1 ]; upstream_max_conns = 5;
	status_path = "/st"; },
{ name = "wu"; listen = "unix:$T/w.sock"; upstream = "unix:$T/php.sock";
	trusted_proxies = [ $1 ]; status_path = "/st"; },
{ name = "ws"; listen = "systemd:web"; upstream = "unix:$T/php.sock";
	trusted_proxies = [ $1 ]; status_path = "/st"; } );
CONF
}
w_conf '"10.9.9.9"'
# w_req TARGET: one request as a trusted proxy for 198.51.100.7.
w_req() {
	env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
	    REMOTE_ADDR=127.0.0.1 HTTP_X_FORWARDED_FOR=198.51.100.7 \
	    cgi-fcgi -bind -connect "$1" 2>/dev/null | sed -n '/^{/,$p' |
	    json REMOTE_ADDR
	echo
}
: > "$T/daemon.log"
systemd-socket-activate -l "$T/ws.sock" --fdname=web "$BIN" -c "$T/fcn.conf" \
    >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
MPID=$(cat "$T/daemon.pid")
wait_for "$T/ws.sock"
# systemd-socket-activate starts the daemon at the first connection.
[ "$(w_req "$T/ws.sock")" = 127.0.0.1 ] || fail "first request on ws.sock"
for i in $(seq 1 100); do
	[ "$(grep -c 'worker [01] started' "$T/daemon.log")" = 2 ] && break
	sleep 0.05
done
wait_for "$T/w.sock"
kids() { ps -o pid= --ppid "$MPID" | tr -d ' ' | sort; }
[ "$(kids | wc -l)" = 2 ] || fail "want 2 workers, have: $(kids | tr '\n' ' ')"

# w_status TARGET: the page, JSON, full.
w_status() {
	env -i REQUEST_METHOD=GET SCRIPT_NAME=/st QUERY_STRING='json&full' \
	    REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect "$1" 2>/dev/null |
	    sed -n '/^{/,$p'
}
# w_share TARGET: "SUM W1 W2 ...": requests on the page and per worker.
w_share() {
	w_status "$1" | php -r '$j = json_decode(stream_get_contents(STDIN),
	    true); echo $j["requests"] ?? "none";
	    foreach ($j["workers"] ?? [] as $w) echo " ", $w["requests"];'
}
# Every request of a round in its own process: SO_REUSEPORT hashes
# each connection, the exclusive wake-up picks one waiting worker.
w_round() {	# w_round TARGET N WANT
	local i got=0 pids=""
	for i in $(seq 1 "$2"); do
		w_req "$1" > "$T/wr.$i" &
		pids="$pids $!"
	done
	wait $pids
	got=$(cat "$T"/wr.* | grep -c -x "$3")
	rm -f "$T"/wr.*
	[ "$got" = "$2" ] || fail "$1: $got of $2 answered REMOTE_ADDR $3"
}
for tgt in 127.0.0.1:$WP "$T/w.sock" "$T/ws.sock"; do
	w_round "$tgt" 40 127.0.0.1
	s=$(w_share "$tgt")
	echo "    $tgt: requests sum and per worker: $s"
	read -r sum w1 w2 more <<< "$s"
	[ -n "${w2:-}" ] && [ -z "${more:-}" ] ||
	    fail "$tgt: want 2 workers on the page, got: $s"
	[ "${sum:-0}" = $((${w1:-0} + ${w2:-0})) ] ||
	    fail "$tgt: sum is not the total: $s"
	[ "${w1:-0}" -gt 0 ] && [ "${w2:-0}" -gt 0 ] ||
	    fail "$tgt: a worker took no share: $s"
	# The OpenMetrics page shows the same sum, whichever worker answers.
	om=$(env -i REQUEST_METHOD=GET SCRIPT_NAME=/st QUERY_STRING=openmetrics \
	    REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect "$tgt" 2>/dev/null |
	    awk '$1 ~ /^fcgi_normalizer_requests_total/ { print $2 }')
	[ "$om" = "${sum:-x}" ] || fail "$tgt: openmetrics requests_total $om, JSON $sum"
done

# A reload: trusted now; each worker of the new generation applies it.
old=$(kids | tr '\n' ' ')
w_conf '"127.0.0.1"'
kill -HUP "$MPID"
# The old generation stops accepting at its SIGQUIT and, idle, ends.
for i in $(seq 1 100); do
	[ "$(grep -c 'of generation 0 ended' "$T/daemon.log")" = 2 ] && break
	sleep 0.05
done
for tgt in 127.0.0.1:$WP "$T/w.sock" "$T/ws.sock"; do
	w_round "$tgt" 40 198.51.100.7
	s=$(w_status "$tgt" | php -r '$j = json_decode(stream_get_contents(
	    STDIN), true); foreach ($j["workers"] as $w) echo $w["pid"], ":",
	    $w["trusted requests"], " ";')
	echo "    after SIGHUP, $tgt: trusted requests by worker: $s"
	for w in $s; do
		case $w in *:0) fail "$tgt: worker ${w%:*} trusted none";; esac
		case " $old " in *" ${w%:*} "*) fail "$tgt: old worker ${w%:*} listed";; esac
	done
done
log_has 'generation 1: 2 workers'
log_has 'worker 0 (pid .*) of generation 0 ended'
log_has 'worker 1 (pid .*) of generation 0 ended'

# A killed worker: logged, replaced, the socket still served by two.
victim=$(kids | head -1)
kill -KILL "$victim"
for i in $(seq 1 60); do
	[ "$(kids | wc -l)" = 2 ] && ! kids | grep -q -x "$victim" && break
	sleep 0.05
done
log_has "(pid $victim) killed by signal 9: starting another"
[ "$(kids | wc -l)" = 2 ] || fail "killed worker not replaced: $(kids | tr '\n' ' ')"
w_round 127.0.0.1:$WP 20 198.51.100.7

# 64 clients on the pooled TCP app: php-fpm's side of our connections,
# sampled, never more than ceil(5 / 2) * 2 = 6 (= 5 + workers - 1).
end=$(($(date +%s) + 4))
pids=""
for i in $(seq 1 64); do
	( while [ "$(date +%s)" -lt "$end" ]; do
		env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/slow.php" \
		    QUERY_STRING=s=0.02 REMOTE_ADDR=127.0.0.1 \
		    cgi-fcgi -bind -connect 127.0.0.1:$WP 2>/dev/null |
		    grep -c slept
	done > "$T/wl.$i" ) &
	pids="$pids $!"
done
peak=0
while [ "$(date +%s)" -lt "$end" ]; do
	n=$(ss -x -H state connected src "$T/php16.sock" 2>/dev/null | wc -l)
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.1
done
wait $pids
ok=$(cat "$T"/wl.* | grep -c -x 1)
all=$(cat "$T"/wl.* | wc -l)
rm -f "$T"/wl.*
echo "    64 clients for 4 s: $ok of $all answered; php-fpm connections at most $peak"
[ "$ok" -gt 0 ] && [ "$ok" = "$all" ] || fail "load: $ok of $all answered"
[ "$peak" -le 6 ] || fail "pool held $peak php-fpm connections, want <= 6"
[ "$peak" -ge 2 ] || fail "the load used $peak php-fpm connections"

# SIGQUIT: both workers drain their slow requests, then all exit.
pids=""
for i in $(seq 1 8); do
	env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/slow.php" \
	    QUERY_STRING=s=1 REMOTE_ADDR=127.0.0.1 \
	    cgi-fcgi -bind -connect 127.0.0.1:$WP > "$T/wq.$i" 2>/dev/null &
	pids="$pids $!"
done
# Every one connected (accepted, in a worker) before the SIGQUIT.
for i in $(seq 1 100); do
	[ "$(ss -t -H state established dport = :$WP | wc -l)" -ge 8 ] && break
	sleep 0.05
done
sleep 0.1
workers=$(kids | tr '\n' ' ')
kill -QUIT "$MPID"
wait $pids
got=$(cat "$T"/wq.* | grep -c -x slept)
rm -f "$T"/wq.*
[ "$got" = 8 ] || fail "SIGQUIT: $got of 8 slow requests answered"
for i in $(seq 1 60); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$MPID" 2>/dev/null && fail "master still running after the drain"
[ "$(grep -c 'SIGQUIT: graceful stop' "$T/daemon.log")" -ge 2 ] ||
    fail "SIGQUIT did not reach both workers ($workers)"
for w in $workers; do
	kill -0 "$w" 2>/dev/null && fail "worker $w still running"
done
[ -e "$T/w.sock" ] && fail "unix socket left behind"
rm -f "$T/daemon.pid"
san_check
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
good_request
