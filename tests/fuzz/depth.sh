#!/bin/sh
# tests/fuzz/depth.sh TARGET SECONDS: one long run of build/fuzz/fuzz_TARGET
# (issue N, "depth"), from its kept corpus build/fuzz/corpus-TARGET and
# the seeds; its executions are added to tests/fuzz/depth.log, one line a
# run: date, target, seconds, executions, exit status.  The table in
# tests/fuzz/README.md sums that file (tests/fuzz/depth.sh --table).
# A crash stops the run and is kept as build/fuzz/TARGET-crash-*; a run
# stopped by SIGINT (libFuzzer's exit status 72) is counted up to there
# and is not a find.
set -u
cd "$(dirname "$0")/../.."
LOG=tests/fuzz/depth.log

if [ "${1:-}" = "--table" ]; then
	awk '!/^#/ { n[$2] += $4; s[$2] += $3; r[$2]++; d[$2] = substr($1, 1, 10)
	    if ($5 != 0 && $5 != 72) c[$2]++ }
	    END { for (t in n) printf "| `fuzz_%s` | %d | %.2f M | %.1f h | %s | %d |\n",
	        t, r[t], n[t] / 1e6, s[t] / 3600, d[t], c[t] }' "$LOG" | sort
	exit 0
fi
t=${1:?target}
secs=${2:?seconds}
bin=build/fuzz/fuzz_$t
[ -x "$bin" ] || { echo "depth: $bin is not built (make $bin)" >&2; exit 1; }
mkdir -p "build/fuzz/corpus-$t"
out=build/fuzz/depth-$t-$$.log	# two runs of one target may share the corpus
# fuzz_conn's inputs run its event loop for tens of ms: a longer timeout.
t0=$(date +%s)
nice -n 19 "$bin" -max_total_time="$secs" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/$t-" "build/fuzz/corpus-$t" \
    "tests/fuzz/corpus/$t" >"$out" 2>&1
rc=$?
n=$(grep -o 'number_of_executed_units: [0-9]*' "$out" | grep -o '[0-9]*$')
secs=$(($(date +%s) - t0))	# a find or SIGINT ends it early
echo "$(date -u +%Y-%m-%dT%H:%MZ) $t $secs ${n:-0} $rc" >>"$LOG"
echo "depth: fuzz_$t $secs s, ${n:-0} executions, exit $rc"
if [ "$rc" != 0 ]; then
	grep -A30 'ERROR\|==.*==' "$out" | head -40
	exit 1
fi
