# listen = "systemd:NAME" takes the socket systemd passes (here
# systemd-socket-activate), and READY=1 reaches NOTIFY_SOCKET.
stop_daemon
cat > "$T/fcn.conf" <<CONF
apps = ( { name = "sa"; listen = "systemd:web";
	upstream = "unix:$T/php.sock"; trusted_proxies = [ "10.0.0.0/8" ]; } );
CONF
: > "$T/daemon.log"
timeout 5 php -r '$s = stream_socket_server("udg://" . $argv[1], $e, $es,
    STREAM_SERVER_BIND); stream_set_timeout($s, 5);
    echo stream_socket_recvfrom($s, 512), "\n";' "$T/notify.sock" > "$T/notify.out" &
npid=$!
sleep 0.2
systemd-socket-activate -l "$T/sa.sock" --fdname=web \
    -E NOTIFY_SOCKET="$T/notify.sock" "$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
wait_for "$T/sa.sock"
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    REMOTE_ADDR=10.0.0.1 HTTP_X_FORWARDED_FOR=198.51.100.8 \
    cgi-fcgi -bind -connect "$T/sa.sock")
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect REMOTE_ADDR 198.51.100.8
wait $npid
grep -q 'READY=1' "$T/notify.out" || fail "no READY=1 on NOTIFY_SOCKET"
kill -TERM "$(cat "$T/daemon.pid")"; wait "$(cat "$T/daemon.pid")"
rm -f "$T/daemon.pid"
