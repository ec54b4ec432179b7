#!/bin/bash
# packaging/container/test.sh [DEB]   (make check-image; Debian 12, root)
#
# Builds an image of its own from DEB with build.sh (default: the .deb that
# "make deb" leaves in build/), under a unique tag, and runs it with podman
# (runc, no network) as a web server and php-fpm would use it: the config
# from a host directory mounted read-only over /etc/fcgi-normalizer, every
# socket in one host directory mounted at /run/fcgi-normalizer and shared
# through its group (as a pod's fsGroup does), php-fpm on the host.  Real
# FastCGI requests go in with cgi-fcgi, as a non-root client of that group.
# With FCN_IMAGE=NAME it tests that image instead and leaves it in place.
# Everything else it made (temp dir, container, image, php-fpm) is removed
# at the end, by name and PID.  Prints "N passed, N failed"; exits non-zero
# on any failure.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$TOP/packaging/container/lib.sh"
RUNTIME=${FCN_OCI_RUNTIME:-runc}
PHP_PID=""
CTR=fcn-image-test-$$
IMAGE=${FCN_IMAGE:-}
OWN_IMAGE=""

T=$(mktemp -d /tmp/fcn-image-test.XXXXXX)
chmod 755 "$T"
oci_conf "$T"


cleanup() {
	pod rm -f -t 0 "$CTR" >/dev/null 2>&1 || true
	pod rm -f -t 0 "$CTR-default" >/dev/null 2>&1 || true
	[ -n "$PHP_PID" ] && kill -TERM "$PHP_PID" 2>/dev/null || true
	[ -n "$OWN_IMAGE" ] && pod rmi -f "$OWN_IMAGE" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT




need podman runc libfcgi-bin php8.2-fpm

if [ -z "$IMAGE" ]; then
	ver=$(dpkg-parsechangelog -l "$TOP/packaging/debian/changelog" \
	    -S Version)
	arch=$(dpkg --print-architecture)
	deb=${1:-$TOP/build/fcgi-normalizer_${ver}_$arch.deb}
	[ -f "$deb" ] || { echo "test.sh: no $deb (make deb)" >&2; exit 1; }
	IMAGE=localhost/fcgi-normalizer-test:$$
	OWN_IMAGE=$IMAGE
	sh "$HERE/build.sh" "$deb" "$IMAGE"
fi

# The shared socket directory: group www-data with the setgid bit, so that
# every socket made in it is in that group, and mode 0660 sockets are open
# to the three parties (the daemon gets the group with --group-add, as a
# pod's fsGroup adds it to every container).
WWW_GID=$(getent group www-data | cut -d: -f3)
mkdir -p "$T/etc/apps.d" "$T/run" "$T/www"
chgrp www-data "$T/run"
chmod 2770 "$T/run"
chmod 755 "$T/etc" "$T/etc/apps.d"

cat > "$T/www/env.php" <<'PHP'
<?php
// One NAME=VALUE line per param the test looks at; absent ones are empty.
foreach (['REMOTE_ADDR', 'REALIP_REMOTE_ADDR', 'HTTPS', 'HTTP_HOST',
    'HTTP_X_FORWARDED_FOR'] as $k)
	echo $k, '=', $_SERVER[$k] ?? '', "\n";
PHP
cat > "$T/php-fpm.conf" <<CONF
[global]
pid = $T/php-fpm.pid
error_log = $T/php-fpm.log
daemonize = no
[www]
user = www-data
group = www-data
listen = $T/run/php-fpm.sock
listen.owner = root
listen.group = www-data
listen.mode = 0660
pm = static
pm.max_children = 2
CONF

cat > "$T/etc/fcgi-normalizer.conf" <<'CONF'
log = "stderr";
apps_dir = "/etc/fcgi-normalizer/apps.d";
CONF
app_conf() {	# app_conf TRUSTED-CIDRS
	cat > "$T/etc/apps.d/web.conf.new" <<CONF
app = {
	name = "web";
	listen = "unix:/run/fcgi-normalizer/web.sock";
	listen_mode = "0660";
	upstream = "unix:/run/fcgi-normalizer/php-fpm.sock";
	trusted_proxies = [ $1 ];
	ping_path = "/fcgi-normalizer-ping";
	status_path = "/fcgi-normalizer-status";
};
CONF
	chmod 644 "$T/etc/apps.d/web.conf.new"
	mv "$T/etc/apps.d/web.conf.new" "$T/etc/apps.d/web.conf"
}
app_conf '"10.0.0.0/8"'

# request REMOTE_ADDR [NAME=VALUE...]: a GET of env.php through the
# daemon's socket, sent by a www-data process (a web server of the group).
request() {
	local peer=$1
	shift
	runuser -u www-data -- env -i SCRIPT_FILENAME="$T/www/env.php" \
	    SCRIPT_NAME=/env.php REQUEST_URI=/env.php REQUEST_METHOD=GET \
	    QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
	    SERVER_NAME=origin.internal SERVER_PORT=80 \
	    HTTP_HOST=origin.internal \
	    REMOTE_ADDR="$peer" REMOTE_PORT=40000 "$@" \
	    cgi-fcgi -bind -connect "$T/run/web.sock" 2>&1 | tr -d '\r'
}
has() { printf '%s\n' "$2" | grep -q -x -F "$1"; }

echo "== image $IMAGE"
pod image inspect --format 'user={{.Config.User}}
entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}}
stopsignal={{.Config.StopSignal}} size={{.Size}}' "$IMAGE" | tr '\n' ' '
echo
out=$(pod run --rm --network=none "$IMAGE" -V 2>&1)
check "-V in the image: $out" [ "${out#fcgi-normalizer }" != "$out" ]
out=$(pod run --rm --network=none "$IMAGE" -t 2>&1)
check "-t on the image's own config: $out" [ "$out" = "configuration OK" ]
out=$(pod run --rm --network=none \
    -v "$T/etc:/etc/fcgi-normalizer:ro" "$IMAGE" -t 2>&1)
check "-t on the mounted config: $out" [ "$out" = "configuration OK" ]

echo "== php-fpm on the host, the daemon in the container"
php-fpm8.2 -y "$T/php-fpm.conf" -F >/dev/null 2>&1 &
PHP_PID=$!
wait_for "$T/run/php-fpm.sock" || { echo "php-fpm did not start"; exit 1; }
pod run -d --name "$CTR" --network=none --read-only \
    --cap-drop=all --security-opt=no-new-privileges \
    --group-add "$WWW_GID" --log-driver=k8s-file \
    -v "$T/etc:/etc/fcgi-normalizer:ro" -v "$T/run:/run/fcgi-normalizer" \
    --health-cmd 'fcgi-normalizer-health /run/fcgi-normalizer/web.sock' \
    --health-interval=disable "$IMAGE" >/dev/null
if ! wait_for "$T/run/web.sock"; then
	pod logs "$CTR" 2>&1 | tail -20
	fail "the daemon did not listen on /run/fcgi-normalizer/web.sock"
	echo "image: $PASSES passed, $FAILS failed"
	exit 1
fi
pass "the daemon listens on the shared socket directory"
sock=$(stat -c '%G %a' "$T/run/web.sock")
check "its socket is group www-data, mode 0660 ($sock)" \
    [ "$sock" = "www-data 660" ]

pid=$(pod inspect --format '{{.State.Pid}}' "$CTR")
comm=$(cat "/proc/$pid/comm")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status")
check "the container's process 1 is the daemon ($comm)" \
    [ "$comm" = fcgi-normalizer ]
check "it runs as uid 10001, not root (uid $uid, groups$groups)" \
    [ "$uid" = 10001 ]
out=$(pod exec "$CTR" id 2>&1)
check "exec in the container runs as the image's user ($out)" \
    [ "${out#uid=10001(fcgi-normalizer)}" != "$out" ]

echo "== FastCGI through the daemon to php-fpm"
resp=$(request 10.1.2.3 HTTP_X_FORWARDED_FOR=203.0.113.7 \
    HTTP_X_FORWARDED_PROTO=https HTTP_X_FORWARDED_HOST=shop.example)
check "trusted LB 10.1.2.3: REMOTE_ADDR=203.0.113.7" \
    has REMOTE_ADDR=203.0.113.7 "$resp"
check "trusted LB: REALIP_REMOTE_ADDR=10.1.2.3" \
    has REALIP_REMOTE_ADDR=10.1.2.3 "$resp"
check "trusted LB: HTTPS=on" has HTTPS=on "$resp"
check "trusted LB: HTTP_HOST=shop.example" has HTTP_HOST=shop.example "$resp"
check "trusted LB: X-Forwarded-For stripped" has HTTP_X_FORWARDED_FOR= "$resp"
[ $FAILS = 0 ] || printf '%s\n' "$resp"
resp=$(request 192.0.2.9 HTTP_X_FORWARDED_FOR=203.0.113.7)
check "untrusted 192.0.2.9: REMOTE_ADDR kept" has REMOTE_ADDR=192.0.2.9 "$resp"
check "untrusted: X-Forwarded-For stripped" has HTTP_X_FORWARDED_FOR= "$resp"

echo "== reload: the mounted config changed, SIGHUP"
app_conf '"10.0.0.0/8", "192.0.2.0/24"'
# As a Kubernetes user would (kubectl exec): the daemon is process 1.
pod exec "$CTR" sh -c 'kill -HUP 1'
for _ in $(seq 1 100); do
	pod logs "$CTR" 2>&1 | grep -q 'reloaded' && break
	sleep 0.05
done
resp=$(request 192.0.2.9 HTTP_X_FORWARDED_FOR=203.0.113.7)
check "after reload 192.0.2.9 is trusted: REMOTE_ADDR=203.0.113.7" \
    has REMOTE_ADDR=203.0.113.7 "$resp"

echo "== health check and status page"
out=$(pod exec "$CTR" fcgi-normalizer-health /run/fcgi-normalizer/web.sock 2>&1)
check "fcgi-normalizer-health in the container: $out" [ "$out" = pong ]
out=$(pod healthcheck run "$CTR" 2>&1) && rc=0 || rc=$?
check "podman healthcheck run (--health-cmd): rc=$rc ${out:-healthy}" \
    [ $rc = 0 ]
stat=$(env -i SCRIPT_NAME=/fcgi-normalizer-status QUERY_STRING=openmetrics \
    REQUEST_METHOD=GET REMOTE_ADDR=127.0.0.1 \
    cgi-fcgi -bind -connect "$T/run/web.sock" 2>&1 | tr -d '\r')
line=$(printf '%s\n' "$stat" | grep '^fcgi_normalizer_requests_total' || true)
check "OpenMetrics status counts the 3 requests ($line)" \
    [ "$line" = 'fcgi_normalizer_requests_total{app="web"} 3' ]

echo "== the image's own config: only the socket directory mounted"
pod run -d --name "$CTR-default" --network=none --read-only \
    --cap-drop=all --security-opt=no-new-privileges \
    --group-add "$WWW_GID" -v "$T/run:/run/fcgi-normalizer" \
    "$IMAGE" >/dev/null
wait_for "$T/run/default.sock" || true
out=$(pod exec "$CTR-default" fcgi-normalizer-health 2>&1) || true
check "default app: fcgi-normalizer-health with no arguments: $out" \
    [ "$out" = pong ]
pod rm -f -t 0 "$CTR-default" >/dev/null
kill -TERM "$PHP_PID"
wait "$PHP_PID" 2>/dev/null || true
PHP_PID=""
out=$(pod exec "$CTR" fcgi-normalizer-health \
    /run/fcgi-normalizer/web.sock 2>&1) && rc=0 || rc=$?
case $out in *"503 Service Unavailable"*) got=503;; *) got=none;; esac
check "php-fpm stopped: the health check fails (rc=$rc: $out)" \
    [ "$rc $got" = "1 503" ]
out=$(pod healthcheck run "$CTR" 2>&1) && rc=0 || rc=$?
check "podman healthcheck run: rc=$rc $out" [ $rc != 0 ]
out=$(pod exec "$CTR" fcgi-normalizer-health -l \
    /run/fcgi-normalizer/web.sock 2>&1) && rc=0 || rc=$?
check "php-fpm stopped: the liveness check (-l) passes (rc=$rc: $out)" \
    [ $rc = 0 ]
out=$(pod exec "$CTR" fcgi-normalizer-health -l \
    /run/fcgi-normalizer/none.sock 2>&1) && rc=0 || rc=$?
check "no daemon on the socket: -l fails (rc=$rc: $out)" [ $rc = 1 ]

echo "== logs on stderr, graceful stop on SIGQUIT"
pod logs "$CTR" > "$T/stdout" 2> "$T/stderr"
check "podman logs: nothing on stdout" [ ! -s "$T/stdout" ]
check "podman logs: the start on stderr" \
    grep -q 'info app=web listening on unix:/run/fcgi-normalizer/web.sock' \
    "$T/stderr"
check "podman logs: the reload on stderr" \
    grep -q 'info app=- reloaded' "$T/stderr"
t0=$(date +%s)
pod stop -t 20 "$CTR" >/dev/null
secs=$(($(date +%s) - t0))
code=$(pod inspect --format '{{.State.ExitCode}}' "$CTR")
check "podman stop: exit code $code in ${secs} s" \
    [ "$code" = 0 -a "$secs" -lt 10 ]
pod logs "$CTR" > /dev/null 2> "$T/stderr"
check "the stop was SIGQUIT (graceful)" \
    grep -q 'SIGQUIT: graceful stop' "$T/stderr"
sed 's/^/  log: /' "$T/stderr"

echo "image: $PASSES passed, $FAILS failed"
[ $FAILS = 0 ]
