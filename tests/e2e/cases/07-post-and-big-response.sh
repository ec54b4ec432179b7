# A 3 MiB upload and a 5 MiB response pass byte for byte.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
head -c 3145728 /dev/urandom > "$T/upload"
want=$(md5sum < "$T/upload" | cut -d' ' -f1)
RESP=$(curl -s --data-binary @"$T/upload" "http://127.0.0.1:$ORIGIN/dump.php")
expect body_len 3145728
expect body_md5 "$want"
a=$(curl -s "http://127.0.0.1:$ORIGIN/big.php?n=5242880" | md5sum)
b=$(curl -s "http://127.0.0.1:$DIRECT/big.php?n=5242880" | md5sum)
[ "$a" = "$b" ] || fail "5 MiB response differs from direct"
