# A broken config keeps the old one; a changed trust list applies to new
# requests; no request fails while reloading.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
( for i in $(seq 1 60); do
	curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$ORIGIN/dump.php"
  done > "$T/codes" ) &
loop=$!
cp "$T/fcn.conf" "$T/fcn.good"
echo 'bogus_key = 1;' >> "$T/fcn.conf"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.2
RESP=$(curl -s -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 6.6.6.6
sed 's|"127.0.0.1"|"10.9.9.9"|' "$T/fcn.good" > "$T/fcn.conf"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.2
RESP=$(curl -s -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 127.0.0.1
wait $loop
bad=$(grep -vc '^200$' "$T/codes")
[ "$bad" = 0 ] || fail "$bad requests failed during reloads"
log_has 'unknown key "bogus_key"'
log_has 'reload failed: keeping the running config'
log_has 'reloaded'
