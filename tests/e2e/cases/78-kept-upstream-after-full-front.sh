# No pool, a kept front connection (FCGI_KEEP_CONN): a large answer read
# slowly, so php-fpm's END_REQUEST arrives while the front's buffer is
# over WM_HIGH and reading php-fpm is paused; the php-fpm connection kept
# for the next request must be read again (the first cut left it paused:
# the next request stalled, e2e 46 with HAProxy once).
LOG_LEVEL=debug start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
bad=0
for n in 300000 400000 500000 600000 700000 1000000 1500000 2000000; do
	out=$(fs begin:1:keep "params:1:SCRIPT_FILENAME=$T/www/big.php,QUERY_STRING=n=$n" \
	    stdin:1 sleep:800 wait:1 begin:1:keep params:1 stdin:1 wait:1 |
	    sed 's/ first=.*//;s/ script=.*//' | tr '\n' ';')
	echo "    n=$n: $out"
	case "$out" in *timeout*|*eof*) bad=$((bad+1));; esac
done
[ $bad = 0 ] || fail "$bad of 8: second request on the kept connection stalled"
