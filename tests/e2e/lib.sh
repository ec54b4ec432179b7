# Shared e2e runner pieces: start php-fpm, nginx and the daemon in a temp
# dir on loopback and unix sockets, stop them by PID.  Sourced by run.
T=$(mktemp -d /tmp/fcn-e2e.XXXXXX)
chmod 755 "$T"	# the privilege-drop case runs as nobody
BIN=${FCN_BIN:-build/fcgi-normalizer}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PIDS=""
FAILS=0
PASSES=0

# A port nobody listens on, and not one handed out before in this run:
# nothing binds between two calls, so without the list two calls could
# get the same port (seen: the bench's unix and keep rows shared one).
free_port() {
	local p
	for p in $(shuf -i 20000-31999 -n 50); do
		grep -q -x "$p" "$T/.ports" 2>/dev/null && continue
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
		echo "$p" >> "$T/.ports"
		echo "$p"
		return
	done
	return 1
}

cleanup() {
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "left running in $T; stop with:"
		echo "  kill $(cat "$T/daemon.pid" 2>/dev/null) $PIDS"
		return
	fi
	[ -f "$T/daemon.pid" ] && kill -TERM "$(cat "$T/daemon.pid")" 2>/dev/null
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

wait_for() {	# wait_for FILE-OR-SOCKET
	local i
	for i in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.05; done
	echo "timeout waiting for $1" >&2
	return 1
}

start_php() {
	mkdir -p "$T/www" && cp "$HERE"/www/*.php "$T/www/"
	cat > "$T/php-fpm.conf" <<CONF
[global]
pid = $T/php-fpm.pid
error_log = $T/php-fpm.log
daemonize = no
[www]
user = root
group = root
listen = $T/php.sock
listen.mode = 0666
pm = static
pm.max_children = 6
clear_env = no
catch_workers_output = yes
CONF
	php-fpm8.2 -R -y "$T/php-fpm.conf" -F >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	PHP_PID=$!
	wait_for "$T/php.sock"
}

# nginx_head NAME CONNS: the top of an nginx config of the tests, up to
# and inside "http {": pid $T/NAME.pid, error log $T/NAME-error.log, temp
# paths in $T/NAME.tmp/ (the caller closes the http block).
nginx_head() {
	mkdir -p "$T/$1.tmp"
	cat <<CONF
user root;
daemon off;
worker_processes 1;
pid $T/$1.pid;
error_log $T/$1-error.log;
events { worker_connections $2; }
http {
	access_log off;
	client_body_temp_path $T/$1.tmp/body;
	fastcgi_temp_path $T/$1.tmp/fastcgi;
	proxy_temp_path $T/$1.tmp/proxy;
	scgi_temp_path $T/$1.tmp/scgi;
	uwsgi_temp_path $T/$1.tmp/uwsgi;
CONF
}

start_nginx() {
	EDGE=$(free_port); ORIGIN=$(free_port); DIRECT=$(free_port)
	SCGI=$(free_port); PPNGINX=$(free_port)
	mkdir -p "$T/nginx"
	{ nginx_head nginx 1024; cat <<CONF; } > "$T/nginx.conf"
	client_max_body_size 64m;
	upstream fcn_keep { server unix:$T/fcn.sock; keepalive 8; }
	# The edge: what a TLS-terminating load balancer does.
	server {
		listen 127.0.0.1:$EDGE;
		location /direct/ {
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto https;
			proxy_set_header X-Forwarded-Host public.example;
			proxy_pass http://127.0.0.1:$DIRECT/;
		}
		location /scgi/ {
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto https;
			proxy_pass http://127.0.0.1:$SCGI/;
		}
		location /matomo/ {
			proxy_set_header X-Forwarded-Uri /matomo;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto https;
			proxy_set_header X-Forwarded-Host public.example;
			proxy_pass http://127.0.0.1:$ORIGIN/;
		}
		location / {
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto https;
			proxy_set_header X-Forwarded-Host public.example;
			proxy_pass http://127.0.0.1:$ORIGIN;
		}
	}
	# The origin: nginx -> fcgi-normalizer -> php-fpm.
	server {
		listen 127.0.0.1:$ORIGIN;
		listen [::1]:$ORIGIN;
		root $T/www;
		# SPEC §6.1: the daemon's own pages, routed like PHP.
		location = /fcgi-normalizer-status {
			include /etc/nginx/fastcgi_params;
			fastcgi_pass unix:$T/fcn.sock;
		}
		location = /fcgi-normalizer-ping {
			include /etc/nginx/fastcgi_params;
			fastcgi_pass unix:$T/fcn.sock;
		}
		location ^~ /keep/ {
			rewrite ^/keep(/.*)\$ \$1 break;
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_keep_conn on;
			fastcgi_pass fcn_keep;
		}
		location ~ \.php\$ {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_pass unix:$T/fcn.sock;
		}
	}
	# The origin over SCGI: nginx scgi_pass -> fcgi-normalizer -> php-fpm.
	server {
		listen 127.0.0.1:$SCGI;
		root $T/www;
		location ~ \.php\$ {
			include /etc/nginx/scgi_params;
			scgi_param SCRIPT_FILENAME \$document_root\$uri;
			scgi_param SCRIPT_NAME \$uri;
			scgi_pass unix:$T/fcn-scgi.sock;
		}
	}
	# The common PROXY protocol path: a TCP load balancer with send-proxy
	# in front of nginx "listen ... proxy_protocol".
	server {
		listen 127.0.0.1:$PPNGINX proxy_protocol;
		root $T/www;
		location ~ \.php\$ {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_param PROXY_PROTOCOL_ADDR \$proxy_protocol_addr;
			fastcgi_pass unix:$T/fcn.sock;
		}
	}
	# Direct: nginx -> php-fpm, for comparison.
	server {
		listen 127.0.0.1:$DIRECT;
		root $T/www;
		location ~ \.php\$ {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_pass unix:$T/php.sock;
		}
	}
}
CONF
	nginx -c "$T/nginx.conf" -p "$T/nginx" -e "$T/nginx-error.log" &
	PIDS="$PIDS $!"
	wait_for "$T/nginx.pid"
}

# start_apps 'apps list' [SOCKET]: the daemon with a whole apps = ( ... )
# list; waits for SOCKET when given.
start_apps() {
	stop_daemon
	cat > "$T/fcn.conf" <<CONF
log_level = "${LOG_LEVEL:-info}";
apps = ( $1 );
CONF
	: > "$T/daemon.log"
	"$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
	echo $! > "$T/daemon.pid"
	# Ready once it logged "started" (every listener bound) or died.
	local i
	for i in $(seq 1 100); do
		grep -q ' started: ' "$T/daemon.log" && break
		kill -0 "$(cat "$T/daemon.pid")" 2>/dev/null || break
		sleep 0.05
	done
	[ -z "${2:-}" ] || wait_for "$2"
}

# start_daemon 'app config body'  (listen and upstream are filled in)
start_daemon() {
	start_apps "{
	name = \"e2e\";
	listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php.sock\";
	$1
}" "$T/fcn.sock"
}

stop_daemon() {
	if [ -f "$T/daemon.pid" ]; then
		kill -TERM "$(cat "$T/daemon.pid")" 2>/dev/null
		wait "$(cat "$T/daemon.pid")" 2>/dev/null
		rm -f "$T/daemon.pid" "$T/fcn.sock"
	fi
	san_check
}

# Under SAN=1 a sanitizer report in the daemon's log fails the run, even
# when every request happened to succeed (leaks show only at exit).
san_check() {
	if [ -f "$T/daemon.log" ] && grep -q -E \
	    'Sanitizer|runtime error:' "$T/daemon.log"; then
		echo "    sanitizer report from the daemon:"
		grep -A30 -E 'Sanitizer|runtime error:' "$T/daemon.log" | head -40 | sed 's/^/      | /'
		FAILS=$((FAILS + 1))
		: > "$T/daemon.log"
	fi
}

# json KEY < response: the value of KEY in dump.php's JSON (null -> "null").
json() {
	php -r '$j = json_decode(stream_get_contents(STDIN), true);
	    $v = $j[$argv[1]] ?? null; echo $v === null ? "null" : $v;' "$1"
}

fail() { echo "    FAIL: $*"; CASE_OK=0; }
expect() {	# expect KEY VALUE  (against $RESP)
	local got
	got=$(printf '%s' "$RESP" | json "$1")
	[ "$got" = "$2" ] || fail "$1: want '$2', got '$got'"
}
log_has() { grep -q -- "$1" "$T/daemon.log" || fail "log lacks: $1"; }
# log_wait PATTERN: log_has, after waiting up to 5 s for the line.
log_wait() {
	local i
	for i in $(seq 1 100); do
		grep -q -- "$1" "$T/daemon.log" && return 0
		sleep 0.05
	done
	fail "log lacks (5 s): $1"
}
log_lacks() { ! grep -q -- "$1" "$T/daemon.log" || fail "log has: $1"; }
good_request() {	# after bad input: the daemon still answers
	local r
	r=$(curl -s "http://127.0.0.1:$ORIGIN/dump.php")
	[ "$(printf '%s' "$r" | json script)" = "$T/www/dump.php" ] ||
	    fail "good request after bad input failed: $r"
}

# raw_send HEX...: write raw bytes to the daemon's socket, print the reply.
raw_send() {
	php -r '$s = stream_socket_client("unix://" . $argv[1], $e, $es, 2);
	    if (!$s) exit(1);
	    fwrite($s, hex2bin($argv[2])); stream_set_timeout($s, 3);
	    echo bin2hex(stream_get_contents($s));' "$T/fcn.sock" "$1"
}

# hold_conn SECONDS HEX [BIND]: connect (to $T/fcn.sock or tcp://ADDR via
# $HOLD_TARGET), send HEX, wait up to SECONDS for the daemon to close.
# Prints "closed after N ms" or "still open".
hold_conn() {
	php -r '$ctx = stream_context_create(["socket" =>
	    ["bindto" => $argv[4] ?? "0:0"]]);
	    $s = @stream_socket_client($argv[1], $e, $es, 2,
	    STREAM_CLIENT_CONNECT, $ctx);
	    if (!$s) { echo "connect failed\n"; exit; }
	    fwrite($s, hex2bin($argv[3])); $t0 = microtime(true);
	    stream_set_timeout($s, (int)$argv[2]);
	    $d = stream_get_contents($s); $m = stream_get_meta_data($s);
	    if ($m["timed_out"]) echo "still open\n";
	    else printf("closed after %d ms\n", (microtime(true) - $t0) * 1000);' \
	    "${HOLD_TARGET:-unix://$T/fcn.sock}" "$1" "$2" ${3:+"$3"}
}
BEGIN_HEX=01010001000800000001000000000000

# fcgi_get TARGET NAME=VALUE...: a whole FastCGI request written by hand
# (for targets cgi-fcgi cannot reach, e.g. [::1]:port); prints STDOUT.
fcgi_get() {
	php -r 'array_shift($argv); $t = array_shift($argv);
	    $p = "";
	    foreach ($argv as $kv) { [$k, $v] = explode("=", $kv, 2);
	        $p .= chr(strlen($k)) . chr(strlen($v)) . $k . $v; }
	    $r = fn($type, $c) => pack("CCnnCC", 1, $type, 1, strlen($c), 0, 0) . $c;
	    $ctx = stream_context_create(getenv("BIND") ? ["socket" =>
	        ["bindto" => getenv("BIND")]] : []);
	    $s = stream_socket_client($t, $e, $es, 2, STREAM_CLIENT_CONNECT,
	        $ctx);
	    if (!$s) exit(1);
	    fwrite($s, $r(1, "\0\1\0\0\0\0\0\0") . $r(4, $p) . $r(4, "") . $r(5, ""));
	    $out = "";
	    while (strlen($h = fread($s, 8)) == 8) {
	        $u = unpack("Cv/Ct/nid/nlen/Cpad/Cr", $h);
	        $c = $u["len"] + $u["pad"] ? fread($s, $u["len"] + $u["pad"]) : "";
	        if ($u["t"] == 6) $out .= substr($c, 0, $u["len"]);
	        if ($u["t"] == 3) break; }
	    echo $out;' -- "$@"
}

# start_haproxy 'listen sections': HAProxy in mode tcp, stopped by PID at
# the end of the run.
start_haproxy() {
	[ -n "${HAPROXY_PID:-}" ] && kill "$HAPROXY_PID" 2>/dev/null
	cat > "$T/haproxy.cfg" <<CONF
global
	maxconn 256
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
$1
CONF
	haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	PIDS="$PIDS $HAPROXY_PID"
	sleep 0.3
}

# Apache, lighttpd, Caddy, HAProxy fcgi-app and h2o as front ends.
. "$HERE/servers.sh"
