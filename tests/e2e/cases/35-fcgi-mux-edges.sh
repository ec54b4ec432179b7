# Front multiplexing with the pool (SPEC §5.4), from a scripted client:
# several request ids in flight on one connection, each answered as soon
# as php-fpm is done with it, by whole records; what ends one request
# early (431, abort) leaves the others alone.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	max_params_bytes = 4096; upstream_max_conns = 4;
	params_timeout_ms = 1500;'
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
SLOW="SCRIPT_FILENAME=$T/www/slow.php,QUERY_STRING=s=0.4"
BIG="SCRIPT_FILENAME=$T/www/big.php,QUERY_STRING=n=1000000"
E200='status=200 bytes=[0-9]+ script='
# mux_is WHAT REGEX: the script's output, lines joined by ';'.
mux_is() { [[ "$out" =~ $2 ]] || fail "$1: $out"; }
# GET_VALUES: the pool's capacity, and multiplexing.
out=$(fs values)
[ "$out" = "values FCGI_MAX_CONNS=4 FCGI_MAX_REQS=4 FCGI_MPXS_CONNS=1" ] ||
    fail "GET_VALUES: $out"
# A slow request, then a fast one on the same connection: the fast one's
# answer comes first.
out=$(fs begin:1:keep "params:1:$SLOW" stdin:1 begin:2:keep params:2 \
    stdin:2 wait:1 | tr '\n' ';')
mux_is "two requests in flight" "^end 2 ${E200}/dump.php;end 1 ${E200}-;$"
# Two 1 MB answers at once arrive whole (records never split by another),
# ten times: a lost wake-up between the two once stalled one run in 20.
for i in 1 2 3 4 5 6 7 8 9 10; do
	out=$(fs begin:1:keep "params:1:$BIG" stdin:1 begin:2:keep \
	    "params:2:$BIG" stdin:2 wait:1 wait:2 | sed 's/ script=.*//' |
	    sort | tr '\n' ';')
	mux_is "two large answers interleaved (run $i)" \
	    "^end 1 status=200 bytes=10000[0-9][0-9];end 2 status=200 bytes=10000[0-9][0-9];$"
done
# One request's params over the limit: 431 for it, the slow one goes on.
out=$(fs begin:1:keep "params:1:$SLOW" stdin:1 begin:2:keep \
    bigparams:2:8000 wait:1 | tr '\n' ';')
mux_is "431 for one of two" "^end 2 status=431 bytes=[0-9]+ script=-;end 1 ${E200}-;$"
# Aborted before its params: ended alone, with an empty answer.
out=$(fs begin:1:keep "params:1:$SLOW" stdin:1 begin:2:keep abort:2 \
    wait:1 | tr '\n' ';')
mux_is "abort before params" "^end 2 status=200 bytes=0 script=-;end 1 ${E200}-;$"
# Seventeen at once: sixteen in flight, the seventeenth read when one
# ends; all answered, on the one connection.
steps="" waits=""
for i in $(seq 1 17); do
	steps="$steps begin:$i:keep params:$i stdin:$i"
	waits="$waits wait:$i"
done
out=$(fs $steps $waits | grep -c "^end .* status=200 ")
[ "$out" = 17 ] || fail "17 requests on one connection: $out answered"
# A record for an id that never began closes the connection.
out=$(fs begin:1:keep params:1 stdin:1 wait:1 stdin:7 eof | tr '\n' ';')
mux_is "unknown id" "^end 1 ${E200}/dump.php;eof;$"
# A request whose params never end: its own timer closes the connection
# (a multiplexed request cannot be answered "timeout" on its own).
out=$(fs begin:1:keep "params:1:$SLOW" stdin:1 begin:2:keep eof |
    tr '\n' ';')
mux_is "params timeout" "^eof;$"
sleep 0.1
log_has 'wrong request id (type STDIN, id 7,'
log_has 'req=2 requests=[0-9]* reason="params timeout"'
good_request
