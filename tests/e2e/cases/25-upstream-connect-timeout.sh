# A TCP upstream that never completes the handshake: 502 from the daemon
# within connect_timeout_ms.
UP=$(free_port)
php -r '$s = stream_socket_server("tcp://127.0.0.1:" . $argv[1], $e, $es,
    STREAM_SERVER_BIND | STREAM_SERVER_LISTEN,
    stream_context_create(["socket" => ["backlog" => 0]]));
    $c = [];
    for ($i = 0; $i < 4; $i++)
        $c[] = stream_socket_client("tcp://127.0.0.1:" . $argv[1], $e, $es,
            1, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
    sleep(6);' "$UP" &
bh=$!
sleep 0.5
start_daemon "trusted_proxies = [ \"127.0.0.1\" ];
	connect_timeout_ms = 400;"
sed -i "s|unix:$T/php.sock|127.0.0.1:$UP|" "$T/fcn.conf"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.3
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ORIGIN/dump.php")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$code" = 502 ] || fail "black-holed upstream: want 502, got $code"
[ $ms -ge 350 ] && [ $ms -lt 2500 ] || fail "502 after $ms ms, want ~400"
log_has 'connect timeout'
kill $bh 2>/dev/null; wait $bh 2>/dev/null
