#!/bin/bash
# The installed /usr/sbin/fcgi-normalizer, started as the unit's ExecStart
# does (config test, then foreground, dropping to www-data), with the
# shipped WordPress example app, between a real nginx and php-fpm.
set -u
cd "$(dirname "$0")/.."
BIN=/usr/sbin/fcgi-normalizer
. tests/e2e/lib.sh
start_php || exit 1
start_nginx || exit 1
mkdir -p "$T/apps.d"
sed -e "s|unix:/run/fcgi-normalizer/wordpress.sock|unix:$T/fcn.sock|" \
    -e "s|unix:/run/php/php8.2-fpm.sock|unix:$T/php.sock|" \
    -e 's|"10.0.0.0/16"|"127.0.0.1"|' \
    /usr/share/doc/fcgi-normalizer/examples/wordpress.conf > "$T/apps.d/wp.conf"
printf 'user = "www-data";\ngroup = "www-data";\napps_dir = "%s/apps.d";\n' \
    "$T" > "$T/fcn.conf"
"$BIN" -t -c "$T/fcn.conf" || exit 1
"$BIN" -c "$T/fcn.conf" > "$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
wait_for "$T/fcn.sock" || exit 1
CASE_OK=1
RESP=$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect HTTPS on
stat -c '%U:%G %a' "$T/fcn.sock"
[ "$(stat -c '%U:%G' "$T/fcn.sock")" = www-data:www-data ] ||
    fail "socket not owned by www-data"
uid=$(awk '/^Uid:/ { print $2 }' /proc/$(cat "$T/daemon.pid")/status)
[ "$uid" = "$(id -u www-data)" ] || fail "daemon runs as uid $uid"
stop_daemon
[ $CASE_OK = 1 ] && echo "installed daemon: REMOTE_ADDR and HTTPS rewritten, runs as www-data"
[ $CASE_OK = 1 ]
