# Protocol edges that web servers other than nginx hit (issue 8): each
# request below must be answered, and the connection must not be reset.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	max_params_bytes = 4096;'
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
# Apache mod_proxy_fcgi: php-fpm answers a GET before the empty STDIN,
# which comes late.  Kept connection: the late record is skipped and the
# next request (Apache reuses id 1) is served.
OK200='end 1 status=200 bytes=[0-9]+ script=/dump.php;'
out=$(fs begin:1:keep params:1 wait:1 stdin:1 begin:1:keep params:1 \
    stdin:1 wait:1 | tr '\n' ';')
[[ "$out" =~ ^$OK200$OK200$ ]] ||
    fail "late empty STDIN on a kept connection: $out"
# Not kept: the late write must succeed, then a clean EOF (no reset).
out=$(fs begin:1 params:1 wait:1 sleep:50 stdin:1 eof | tr '\n' ';')
[[ "$out" =~ ^${OK200}eof\;$ ]] ||
    fail "late empty STDIN after a closed request: $out"
# HAProxy "option mpxs-conns": two request ids at once, served in turn.
out=$(fs begin:1:keep params:1 stdin:1 begin:2:keep params:2 stdin:2 \
    begin:3:keep params:3 stdin:3 wait:3 | tr '\n' ';')
[[ "$out" =~ ^${OK200}${OK200//1/2}${OK200//1/3}$ ]] ||
    fail "multiplexed requests: $out"
# A client still writing oversized params reads our 431, not a reset.
out=$(fs begin:1 bigparams:1:200000 wait:1 | tr '\n' ';')
[[ "$out" =~ ^"end 1 status=431 bytes="[0-9]+" script=-;"$ ]] ||
    fail "431 while the client still writes: $out"
# Anything else out of sequence is still an error.
out=$(fs begin:1:keep params:1 wait:1 stdin:1:late eof | tr '\n' ';')
[[ "$out" =~ ^${OK200}eof\;$ ]] ||
    fail "request before the bad record: $out"
sleep 0.1
log_has 'record out of sequence (type STDIN'
log_lacks 'record out of sequence (type BEGIN'
good_request
# Over TCP, unread input at close becomes a reset that can overtake the
# answer: the 431 must still arrive (lingering close).
P34=$(free_port)
start_apps "{ name = \"e2e\"; listen = \"127.0.0.1:$P34\";
	upstream = \"unix:$T/php.sock\"; max_params_bytes = 4096; }"
for i in 1 2 3 4 5; do
	out=$(DOC=$T/www php "$HERE/fcgi-script.php" "tcp://127.0.0.1:$P34" \
	    begin:1 bigparams:1:1000000 wait:1 | tr '\n' ';')
	[[ "$out" =~ ^"end 1 status=431 bytes="[0-9]+" script=-;"$ ]] ||
	    fail "TCP: 431 while the client still writes: $out"
done
