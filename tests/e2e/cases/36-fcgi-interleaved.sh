# Issue 20: a web server may interleave the records of several requests
# (FastCGI allows it).  With the pool, three requests whose PARAMS are
# interleaved, one pair of id 1 cut across its two PARAMS records, are
# each answered once with their own answer; the same with every content
# byte in a record of its own; 17 requests on a connection that takes
# 16: the 17th waits while the 16 have all their input, and is refused
# with a warning, never silently stalled, when one of them does not.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	upstream_max_conns = 3; params_timeout_ms = 3000;'
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
P="SCRIPT_NAME=/id"
# id N answered once, with its own SCRIPT_NAME (its own params).
own() {
	for i in "$@"; do
		[ "$(grep -c "^end $i status=200 bytes=[0-9]* script=/id$i\$" \
		    <<<"$out")" = 1 ] || fail "$what: id $i: $out"
	done
	[ "$(grep -c '^end ' <<<"$out")" = $# ] || fail "$what: $out"
}
seq3() {
	fs "$@" begin:1:keep sleep:2 begin:2:keep sleep:2 phalf:1:1:${P}1 \
	    sleep:2 pall:2:${P}2 sleep:2 begin:3:keep sleep:2 \
	    phalf:1:2:${P}1 sleep:2 pall:3:${P}3 sleep:2 pend:2 sleep:2 \
	    pend:1 sleep:2 stdin:2 sleep:2 pend:3 sleep:2 stdin:3 sleep:2 \
	    stdin:1 wait:1 wait:2 wait:3
}
t0=$(date +%s%N)
out=$(seq3)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
what="the interleaved sequence"; own 1 2 3
[ $ms -lt 2000 ] || fail "interleaved sequence took $ms ms (a stall?)"
out=$(seq3 recsize:1)
what="the interleaved sequence in 1-byte records"; own 1 2 3
# 17 requests, a connection of 16 (pool of 16): all 16 interleaved, then
# the 17th once the 16 sent everything.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	upstream_max_conns = 16; params_timeout_ms = 3000;'
steps="" waits="" ids=""
for i in $(seq 1 16); do steps="$steps begin:$i:keep"; done
for i in $(seq 1 16); do steps="$steps phalf:$i:1:$P$i"; done
for i in $(seq 1 16); do steps="$steps phalf:$i:2:$P$i pend:$i"; done
for i in $(seq 1 16); do steps="$steps stdin:$i"; done
for i in $(seq 1 17); do waits="$waits wait:$i"; ids="$ids $i"; done
out=$(fs values $steps begin:17:keep params:17:${P}17 stdin:17 $waits)
grep -q '^values FCGI_MAX_CONNS=16 FCGI_MAX_REQS=16 ' <<<"$out" ||
    fail "GET_VALUES: $out"
out=$(grep -v '^values' <<<"$out")
what="17 interleaved requests"; own $ids
# The 17th while request 7 still owes its empty STDIN: refused, logged.
# The others run a 2 s page, so none has ended (freeing its slot) when
# the 17th comes.
SLOW="SCRIPT_FILENAME=$T/www/slow.php,QUERY_STRING=s=2"
steps=""
for i in $(seq 1 16); do steps="$steps begin:$i:keep params:$i:$SLOW"; done
for i in $(seq 1 16); do [ $i = 7 ] || steps="$steps stdin:$i"; done
out=$(fs $steps begin:17:keep eof | tail -1)
[ "$out" = eof ] || fail "17th BEGIN while one is incomplete: $out"
sleep 0.1
log_has 'more requests at once than FCGI_MAX_REQS (16)'
log_has 'reason="BEGIN_REQUEST beyond FCGI_MAX_REQS while a request in flight still sends its input'
good_request
