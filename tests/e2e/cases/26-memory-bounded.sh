# 100 MiB down, 60 MiB up (nginx client_max_body_size 64m), and a slow reader: the daemon never buffers a body
# (SPEC §5.4: bounded per-direction buffers and watermarks).
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
hwm() { awk '/VmHWM/ { print $2 }' /proc/$(cat "$T/daemon.pid")/status; }
a=$(curl -s "http://127.0.0.1:$ORIGIN/big.php?n=104857600" | wc -c)
[ "$a" = 104857600 ] || fail "100 MiB response: got $a bytes"
[ "$(hwm)" -lt 32768 ] || fail "peak RSS $(hwm) kB after the download"
head -c 62914560 /dev/zero > "$T/upload"
RESP=$(curl -s --data-binary @"$T/upload" "http://127.0.0.1:$ORIGIN/dump.php")
expect body_len 62914560
rm -f "$T/upload"
[ "$(hwm)" -lt 32768 ] || fail "peak RSS $(hwm) kB after the upload"
b=$(curl -s --limit-rate 6M "http://127.0.0.1:$ORIGIN/big.php?n=6291456" | wc -c)
[ "$b" = 6291456 ] || fail "slow reader: got $b bytes"
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$(cat "$T/daemon.pid")/status)
echo "      daemon peak RSS after 160 MiB relayed: $hwm kB"
[ "$hwm" -lt 32768 ] || fail "daemon peak RSS $hwm kB"
