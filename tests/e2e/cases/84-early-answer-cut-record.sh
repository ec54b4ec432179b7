# fuzz_conn's find (issue N): an application that answers before it has
# read a request's STDIN (tests/e2e/early_fpm.py; a FastCGI app may, and
# php-fpm's fastcgi_finish_request ends a request whose body was not
# read).  The web server's STDIN record was half relayed when the answer
# came: the pooled connection must not carry the next request, or the
# application reads it inside the cut record.  Before the fix: the
# application logged "bad record on a kept connection" and the second
# request was sent again after a "retrying" line.
python3 "$HERE/early_fpm.py" "$T/early.sock" 2>"$T/early.log" &
PIDS="$PIDS $!"
wait_for "$T/early.sock"
start_apps "{ name = \"early\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/early.sock\"; upstream_max_conns = 1; }" \
    "$T/fcn.sock"
# A STDIN record of 100 bytes: its header and 10 bytes now, 90 later.
printf '\001\005\000\001\000\144\000\000aaaaaaaaaa' > "$T/cut1"
head -c 90 /dev/zero | tr '\0' b > "$T/cut2"
out=$(DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" \
    begin:1:keep params:1 rawfile:"$T/cut1" sleep:300 rawfile:"$T/cut2" \
    stdin:1 wait:1 begin:2:keep params:2 stdin:2 wait:2 2>&1)
echo "$out" | sed 's/^/    /'
echo "$out" | grep -q '^end 1 status=200' || fail "request 1: $out"
echo "$out" | grep -q '^end 2 status=200' || fail "request 2: $out"
grep -q 'bad record' "$T/early.log" &&
    fail "the application read the next request inside a cut record"
log_lacks 'retrying the request'
start_daemon ""
good_request
