# Web servers other than nginx as front ends of the daemon (issue 8):
# Apache mod_proxy_fcgi, lighttpd mod_fastcgi/mod_scgi, Caddy php_fastcgi,
# HAProxy fcgi-app and h2o fastcgi.connect.  Sourced by lib.sh.
#
# Each start_<server> NAME ... runs one instance in $T/NAME on a free
# loopback port with its own config file, sets SRV_PORT, and records its
# PID in $T/NAME/pid (stop_srv NAME; the run's cleanup also stops it).
# A case starts two instances of the same server: one wired to the daemon,
# one wired to php-fpm directly, to compare bytes.

# srv_port: a free port below the kernel's ephemeral range (32768 up),
# which the load runs' client connections fill on a shared machine.
srv_port() {
	local p
	for p in $(shuf -i 20000-32000 -n 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	return 1
}

# srv_started NAME PORT PID: record the instance, wait for its port.
srv_started() {
	local i
	echo "$3" > "$T/$1/pid"
	PIDS="$PIDS $3"
	SRV_PORT=$2
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	echo "    $1 did not start:"
	tail -5 "$T/$1"/*.log 2>/dev/null | sed 's/^/      | /'
	return 1
}

stop_srv() {	# stop_srv NAME...
	local n p
	for n in "$@"; do
		[ -f "$T/$n/pid" ] || continue
		p=$(cat "$T/$n/pid")
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		rm -f "$T/$n/pid"
	done
}

# start_apache NAME 'directives': Apache 2.4, mpm_event, one vhost with
# DocumentRoot $T/www; the directives wire PHP (SetHandler, ProxyPassMatch).
start_apache() {
	local d=$T/$1 port m
	port=$(srv_port)
	mkdir -p "$d"
	{
		for m in mpm_event authz_core proxy proxy_fcgi; do
			echo "LoadModule ${m}_module" \
			    "/usr/lib/apache2/modules/mod_$m.so"
		done
		cat <<CONF
ServerRoot "$d"
DefaultRuntimeDir "$d"
PidFile "$d/httpd.pid"
ErrorLog "$d/error.log"
LogLevel warn
ServerName 127.0.0.1
Listen 127.0.0.1:$port
User www-data
Group www-data
# One child process: its connection pool (enablereuse) is the whole pool.
StartServers 1
ServerLimit 1
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
MaxKeepAliveRequests 0
# A request stuck on a dropped connection fails in 5 s, not Apache's 60.
Timeout 5
LimitRequestBody 0
DocumentRoot "$T/www"
<Directory "$T/www">
	Require all granted
</Directory>
$2
CONF
	} > "$d/httpd.conf"
	apache2 -f "$d/httpd.conf" -DFOREGROUND >"$d/stderr.log" 2>&1 &
	srv_started "$1" "$port" $!
}

# start_lighttpd NAME MODULE 'MODULE.server = ...': lighttpd 1.4 with
# mod_fastcgi or mod_scgi for .php.
start_lighttpd() {
	local d=$T/$1 port
	port=$(srv_port)
	mkdir -p "$d"
	cat > "$d/lighttpd.conf" <<CONF
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $port
server.pid-file = "$d/lighttpd.pid"
server.errorlog = "$d/error.log"
server.upload-dirs = ( "$d" )
server.max-keep-alive-requests = 10000
server.max-keep-alive-idle = 30
server.modules = ( "$2" )
index-file.names = ( "index.php" )
$3
CONF
	lighttpd -D -f "$d/lighttpd.conf" >"$d/stderr.log" 2>&1 &
	srv_started "$1" "$port" $!
}

# start_caddy NAME 'php_fastcgi line and block': Caddy 2.6, plain HTTP on
# loopback, no admin endpoint, its state kept in $T/NAME.
start_caddy() {
	local d=$T/$1 port
	port=$(srv_port)
	mkdir -p "$d"
	cat > "$d/Caddyfile" <<CONF
{
	admin off
	auto_https off
	storage file_system $d/data
}
http://127.0.0.1:$port {
	bind 127.0.0.1
	root * $T/www
	$2
}
CONF
	HOME=$d XDG_DATA_HOME=$d XDG_CONFIG_HOME=$d caddy run \
	    --config "$d/Caddyfile" --adapter caddyfile >"$d/caddy.log" 2>&1 &
	srv_started "$1" "$port" $!
}

# start_haproxy_fcgi NAME 'fcgi-app options' SERVER-ADDR ['backend
# options']: HAProxy 2.6 in mode http with use-fcgi-app (not start_haproxy:
# that one is mode tcp).
start_haproxy_fcgi() {
	local d=$T/$1 port
	port=$(srv_port)
	mkdir -p "$d"
	cat > "$d/haproxy.cfg" <<CONF
global
	maxconn 256
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
fcgi-app php
	docroot $T/www
	index index.php
	path-info ^(/.+\.php)(/.*)?\$
$2
frontend fe
	bind 127.0.0.1:$port ${5:-}
	default_backend php
backend php
	use-fcgi-app php
${4:-}
	server s1 $3 proto fcgi
CONF
	haproxy -f "$d/haproxy.cfg" -db >"$d/haproxy.log" 2>&1 &
	srv_started "$1" "$port" $!
}

# start_h2o NAME SOCKET: h2o 2.2, .php files by fastcgi.connect to SOCKET.
start_h2o() {
	local d=$T/$1 port
	port=$(srv_port)
	mkdir -p "$d"
	chown www-data "$d"	# h2o writes its pid file after setuid
	cat > "$d/h2o.conf" <<CONF
pid-file: $d/h2o.pid
error-log: $d/error.log
user: www-data
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /:
        file.dir: $T/www
        file.custom-handler:
          extension: .php
          fastcgi.connect:
            type: unix
            port: $2
CONF
	h2o -c "$d/h2o.conf" >"$d/stderr.log" 2>&1 &
	srv_started "$1" "$port" $!
}

# The checks every front end gets (issue 8).  fe_checks VIA DIRECT SEQ
# CONC PER: VIA is the server's port in front of the daemon (trusting
# 127.0.0.1), DIRECT the same server in front of php-fpm.
fe_checks() {
	local via=$1 direct=$2
	[ "$CASE_OK" = 1 ] || return	# a server did not start
	# Trusted: the client at 127.0.0.1 stands for the edge proxy.
	RESP=$(curl -s -H 'X-Forwarded-For: 192.0.2.7' \
	    -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: public.example' \
	    "http://127.0.0.1:$via/dump.php?x=1")
	expect REMOTE_ADDR 192.0.2.7
	expect REALIP_REMOTE_ADDR 127.0.0.1
	expect HTTPS on
	expect HTTP_HOST public.example
	expect REQUEST_URI /dump.php?x=1
	expect script "$T/www/dump.php"
	# Untrusted 127.0.0.2 spoofing: its headers are stripped.
	RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
	    -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$via/dump.php")
	expect REMOTE_ADDR 127.0.0.2
	expect HTTPS null
	expect HTTP_X_FORWARDED_FOR null
	sleep 0.1
	# Any order: Caddy (Go) writes headers in map order, which varies.
	log_has 'untrusted peer sent [^:]*HTTP_X_FORWARDED_FOR'
	# A 3 MiB upload and a 5 MiB response, byte for byte.
	[ -f "$T/upload" ] || head -c 3145728 /dev/urandom > "$T/upload"
	RESP=$(curl -s --data-binary @"$T/upload" \
	    -H 'Content-Type: application/octet-stream' \
	    "http://127.0.0.1:$via/dump.php")
	expect body_len 3145728
	expect body_md5 "$(md5sum < "$T/upload" | cut -d' ' -f1)"
	curl -s -o "$T/big.via" "http://127.0.0.1:$via/big.php?n=5242880"
	curl -s -o "$T/big.direct" "http://127.0.0.1:$direct/big.php?n=5242880"
	[ "$(wc -c < "$T/big.direct")" = 5242880 ] ||
	    fail "5 MiB response from php-fpm directly: $(wc -c < "$T/big.direct") bytes"
	cmp -s "$T/big.via" "$T/big.direct" ||
	    fail "5 MiB response differs from direct ($(wc -c < "$T/big.via") bytes)"
	rm -f "$T/big.via" "$T/big.direct"
	fe_load "http://127.0.0.1:$via/ok.php" "$3" "$4" "$5"
	fe_log_clean
}

# fe_load URL SEQ CONC PER: SEQ GETs on one kept client connection, then
# CONC clients at once with PER GETs each.  Every one must be a 200 with
# the whole "ok" body; the failures are counted and shown by kind.
fe_load() {
	local url=$1 seq=$2 conc=$3 per=$4 i j pids="" n bad conns
	fe_urls "$url" "$seq" > "$T/load.cfg"
	fe_curl 120 -K "$T/load.cfg" \
	    -w '%{http_code} %{exitcode} %{size_download} %{num_connects}\n' \
	    > "$T/load.seq"
	for j in $(seq 1 "$conc"); do
		fe_urls "$url" "$per" > "$T/load$j.cfg"
		fe_curl 60 -K "$T/load$j.cfg" \
		    -w '%{http_code} %{exitcode} %{size_download}\n' \
		    > "$T/load$j.out" &
		pids="$pids $!"
	done
	wait $pids
	conns=$(awk '{ n += $4 } END { print n + 0 }' "$T/load.seq")
	[ "$conns" = 1 ] ||
	    fail "$seq requests on a kept connection used $conns connections"
	cat "$T"/load[0-9]*.out >> "$T/load.seq"
	n=$(wc -l < "$T/load.seq")
	bad=$(awk '!($1 == 200 && $2 == 0 && $3 == 3)' "$T/load.seq" |
	    cut -d' ' -f1,2 | sort | uniq -c | sed 's/^ *//' |
	    awk '{ printf "%s%s x HTTP %s (curl exit %s)", s, $1, $2, $3;
	    s = ", " }')
	LOAD_TOTAL=$((seq + conc * per))
	[ "$n" = "$LOAD_TOTAL" ] ||
	    fail "load: $((LOAD_TOTAL - n)) of $LOAD_TOTAL requests not done in time"
	[ -z "$bad" ] || fail "load: $bad of $LOAD_TOTAL requests"
	echo "    load: $LOAD_TOTAL requests ($seq kept, $conc x $per" \
	    "concurrent): ${bad:-no failures}"
	rm -f "$T"/load*
}

# fe_curl SECONDS ARGS...: curl with a deadline for all its transfers, so a
# stuck front end costs a minute, not an hour; a line per finished one.
fe_curl() {
	local t=$1
	shift
	timeout "$t" stdbuf -oL curl -s -m 10 "$@" 2>/dev/null
}

fe_urls() {	# fe_urls URL N: a curl config of N GETs
	local i
	for i in $(seq 1 "$2"); do
		printf 'url = "%s?i=%d"\noutput = "/dev/null"\n' "$1" "$i"
	done
}

# The daemon logged no error or warning and closed no connection for a
# reason (a protocol violation, a write error, a timeout).
fe_log_clean() {
	local bad
	bad=$(grep -E '^(error|warn) | reason="' "$T/daemon.log")
	[ -z "$bad" ] || fail "daemon log has $(printf '%s\n' "$bad" |
	    wc -l) error/close lines, e.g.:
$(printf '%s\n' "$bad" | sed 's/conn=[0-9]* //; s/requests=[0-9]* //' |
	    sort | uniq -c | sort -rn | head -4 | sed 's/^/      /')"
}

# fe_srv_errors NAME...: a server's own error lines, shown on failure.
fe_srv_errors() {
	local n
	[ "$CASE_OK" = 1 ] && return
	for n in "$@"; do
		grep -h -i -E 'error|fail|broken|refused|reset' \
		    "$T/$n"/*.log 2>/dev/null | sed -E 's/^\[[^]]*\] //' |
		    sort | uniq -c | sort -rn | head -3 | sed "s/^/    $n: /"
	done
}

# fe_daemon: the FastCGI app every front-end case uses; www-data (Apache,
# h2o workers) may connect.
fe_daemon() {
	start_apps "{ name = \"web\"; listen = \"unix:$T/fcn.sock\";
	listen_group = \"www-data\"; upstream = \"unix:$T/php.sock\";
	trusted_proxies = [ \"127.0.0.1\" ]; ${1:-} }" "$T/fcn.sock"
}
