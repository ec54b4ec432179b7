# Pieces for the upstream-pool cases: extra php-fpm pools and a
# concurrent HTTP client.  Sourced by those cases.

# start_fpm NAME 'extra pool settings': php-fpm on $T/php-NAME.sock with
# env POOL=NAME; its master PID in FPM_NAME... via $T/php-NAME.pid.
start_fpm() {
	cat > "$T/php-$1.conf" <<CONF
[global]
pid = $T/php-$1.pid
error_log = $T/php-$1.log
daemonize = no
[$1]
user = root
group = root
listen = $T/php-$1.sock
listen.mode = 0666
pm = static
pm.max_children = 4
clear_env = no
env[POOL] = $1
${2:-}
CONF
	rm -f "$T/php-$1.sock"
	php-fpm8.2 -R -y "$T/php-$1.conf" -F >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	echo $! > "$T/php-$1.mpid"
	wait_for "$T/php-$1.sock"
}

stop_fpm() {	# stop_fpm NAME [SIGNAL]
	local p
	p=$(cat "$T/php-$1.mpid" 2>/dev/null) || return 0
	kill -"${2:-QUIT}" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$T/php-$1.mpid"
}

# load N CONC URL: N GET requests, CONC at a time, each on its own
# connection; one line per request: "CODE MS BODY-FIRST-LINE".
load() {
	php -r '
	[$n, $conc, $url] = array_slice($argv, 1);
	$u = parse_url($url);
	$req = "GET " . $u["path"] . (isset($u["query"]) ? "?" . $u["query"] : "")
	    . " HTTP/1.0\r\nHost: " . $u["host"] . "\r\n\r\n";
	$open = []; $started = 0; $done = 0;
	while ($done < $n) {
		while (count($open) < $conc && $started < $n) {
			$s = stream_socket_client("tcp://" . $u["host"] . ":" .
			    $u["port"], $e, $es, 5);
			if (!$s) { echo "000 0 connect\n"; $started++; $done++;
			    continue; }
			stream_set_blocking($s, false);
			fwrite($s, $req);
			$open[(int)$s] = [$s, microtime(true), ""];
			$started++;
		}
		if (!$open) continue;
		$r = array_map(fn($x) => $x[0], $open); $w = $x = null;
		if (stream_select($r, $w, $x, 30) < 1) break;
		foreach ($r as $s) {
			$k = (int)$s;
			$d = fread($s, 65536);
			if ($d !== "" && $d !== false) { $open[$k][2] .= $d;
			    if (!feof($s)) continue; }
			$resp = $open[$k][2];
			preg_match("/^HTTP\/1\.. (\d+)/", $resp, $m);
			$body = substr($resp, strpos($resp, "\r\n\r\n") + 4);
			printf("%s %d %s\n", $m[1] ?? "000",
			    (microtime(true) - $open[$k][1]) * 1000,
			    strtok($body, "\n") ?: "-");
			fclose($s); unset($open[$k]); $done++;
		}
	}' "$@"
}
