# Started as root with user/group: binds first, then runs as that user.
if [ "$(id -u)" = 0 ]; then
	stop_daemon
	cat > "$T/fcn.conf" <<CONF
user = "nobody";
group = "nogroup";
apps = ( { name = "e2e"; listen = "unix:$T/fcn.sock";
	listen_mode = "0666"; upstream = "unix:$T/php.sock"; } );
CONF
	: > "$T/daemon.log"
	"$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
	echo $! > "$T/daemon.pid"
	wait_for "$T/fcn.sock"; sleep 0.1
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' /proc/$(cat "$T/daemon.pid")/status)
	[ "$uid" = 65534655346553465534 ] || fail "still uid $uid"
	good_request
fi
