#!/bin/sh
# tests/fuzz/depth.sh TARGET SECONDS: one long run of build/fuzz/fuzz_TARGET
# (issue N, "depth"), from its kept corpus build/fuzz/corpus-TARGET and
# the seeds; its executions are added to tests/fuzz/depth.log, one line a
# run: date, target, seconds, executions, exit status.  The table in
# tests/fuzz/README.md sums that file (tests/fuzz/depth.sh --table).
# A crash stops the run and is kept as build/fuzz/TARGET-crash-*; a run
# stopped by SIGINT (libFuzzer's exit status 72) is counted up to there
# and is not a find.
# TARGET conn_fast is fuzz_conn built without sanitizers (faster); it
# starts from fuzz_conn's seeds, and after the run what it kept is
# replayed under build/fuzz/fuzz_conn (ASan+UBSan), the replay noted in
# depth.log as a comment line: what the corpus holds is all replayed.
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
# What a failed run printed, then a failure.
failed() {
	grep -A30 'ERROR\|==.*==' "$1" | head -40
	exit 1
}

t=${1:?target}
secs=${2:?seconds}
bin=build/fuzz/fuzz_$t
[ -x "$bin" ] || { echo "depth: $bin is not built (make $bin)" >&2; exit 1; }
seeds=tests/fuzz/corpus/${t%_fast}
mkdir -p "build/fuzz/corpus-$t"
out=build/fuzz/depth-$t-$$.log	# two runs of one target may share the corpus
# fuzz_conn's inputs run its event loop for tens of ms: a longer timeout.
t0=$(date +%s)
nice -n 19 "$bin" -max_total_time="$secs" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/$t-" "build/fuzz/corpus-$t" \
    "$seeds" >"$out" 2>&1
rc=$?
n=$(grep -o 'number_of_executed_units: [0-9]*' "$out" | grep -o '[0-9]*$')
secs=$(($(date +%s) - t0))	# a find or SIGINT ends it early
echo "$(date -u +%Y-%m-%dT%H:%MZ) $t $secs ${n:-0} $rc" >>"$LOG"
echo "depth: fuzz_$t $secs s, ${n:-0} executions, exit $rc"
[ "$rc" = 0 ] || [ "$rc" = 72 ] || failed "$out"
[ "$t" = "${t%_fast}" ] && exit 0
# The fast build has no ASan: every input it kept goes through the checked
# one, once.  Runs side by side share the corpus: one replays at a time
# (the lock), each what came in since the last replay (the stamp).
chk=build/fuzz/fuzz_${t%_fast}
[ -x "$chk" ] || { echo "depth: $chk is not built" >&2; exit 1; }
corpus=build/fuzz/corpus-$t
stamp=build/fuzz/replayed-$t
exec 9>"$stamp.lock"
flock 9
new=$out.new
rm -rf "$new" && mkdir "$new" && touch "$stamp.next"
if [ -e "$stamp" ]; then
	find "$corpus" -type f -newer "$stamp" -exec cp -t "$new" {} +
else
	cp -r "$corpus/." "$new"
fi
"$chk" -runs=0 -timeout=20 -artifact_prefix="build/fuzz/$t-checked-" \
    "$new" >"$out.checked" 2>&1
rc=$?
k=$(ls "$new" | wc -l)
n=$(ls "$corpus" | wc -l)
rm -rf "$new"
[ "$rc" = 0 ] && mv "$stamp.next" "$stamp"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $t: its corpus ($n inputs) replayed" \
    "under fuzz_${t%_fast} (ASan+UBSan; $k new since the last), exit $rc" \
    >>"$LOG"
echo "depth: $k new of $n kept inputs replayed under $chk, exit $rc"
[ "$rc" = 0 ] || failed "$out.checked"
