# SCGI: a 3 MiB upload and a 5 MiB response, byte for byte.
start_apps "{ name = \"scgi\"; listen = \"unix:$T/fcn-scgi.sock\";
	protocol = \"scgi\"; upstream = \"unix:$T/php.sock\"; }"
head -c 3145728 /dev/urandom > "$T/upload"
want=$(md5sum < "$T/upload" | cut -d' ' -f1)
RESP=$(curl -s --data-binary @"$T/upload" "http://127.0.0.1:$SCGI/dump.php")
expect body_len 3145728
expect body_md5 "$want"
a=$(curl -s "http://127.0.0.1:$SCGI/big.php?n=5242880" | md5sum)
b=$(curl -s "http://127.0.0.1:$DIRECT/big.php?n=5242880" | md5sum)
[ "$a" = "$b" ] || fail "5 MiB SCGI response differs from direct"
# php-fpm's STDERR records are logged (per app), the body still arrives.
r=$(curl -s "http://127.0.0.1:$SCGI/stderr.php")
[ "$r" = ok ] || fail "stderr.php over SCGI: $r"
sleep 0.1
log_has 'php stderr conn=[0-9]* peer=[^ ]* PHP message: hello from php stderr'
# Streaming, not buffering: 50 MiB down over SCGI keeps the daemon small.
n=$(curl -s "http://127.0.0.1:$SCGI/big.php?n=52428800" | wc -c)
[ "$n" = 52428800 ] || fail "50 MiB SCGI response: $n bytes"
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$(cat "$T/daemon.pid")/status)
[ "$hwm" -lt 32768 ] || fail "daemon peak RSS $hwm kB after 50 MiB over SCGI"
