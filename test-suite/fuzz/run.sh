#!/bin/sh
# run.sh - run each fuzz target for a bounded time on a copy of its seed
# corpus; called by fuzz.mk in the build's test-suite/fuzz directory.
#
#	run.sh SRCDIR SECONDS TARGET...
#
# The copy (work/TARGET) grows with what the fuzzer finds; the seeds in
# SRCDIR/corpus are never written.  A crash, a leak, a timeout (10 s for
# one input) or a broken invariant leaves crashes/TARGET-*, the log in
# logs/TARGET.log, and makes the run fail once every target has run.
set -u

src=$1 secs=$2
shift 2

mkdir -p work logs crashes
failed=
printf '%-10s %8s %8s %8s %10s %12s  %s\n' target cov ft corpus exec/s runs \
    result
for t in "$@"; do
	rm -rf "work/$t"
	mkdir -p "work/$t"
	cp "$src/corpus/$t"/* "work/$t/" 2>/dev/null
	case $t in
	conf)	dict=conf.dict ;;
	url)	dict=$src/url.dict ;;
	helper)	dict=$src/helper.dict ;;
	auth)	dict=$src/auth.dict ;;
	format)	dict=$src/format.dict ;;
	*)	dict=$src/http.dict ;;
	esac
	rm -f "crashes/$t-"*
	"./fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -dict="$dict" \
	    -artifact_prefix="crashes/$t-" "work/$t" >"logs/$t.log" 2>&1
	rc=$?
	# The last status line: "#N <event> cov: C ft: F corp: K/.. ..."
	last=$(grep -a '^#[0-9].* cov: ' "logs/$t.log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log")
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAILED (exit $rc): $(ls "crashes/$t-"* 2>/dev/null |
		    head -n 1)"
		failed="$failed $t"
	fi
	printf '%-10s %8s %8s %8s %10s %12s  %s\n' "$t" "${cov:--}" \
	    "${ft:--}" "${corp:--}" "${eps:--}" "${runs:--}" "$result"
done
if [ -n "$failed" ]; then
	for t in $failed; do
		echo "---- $t (logs/$t.log):"
		grep -a -A 25 -m 1 \
		    -e '^==[0-9]*==ERROR' -e 'runtime error' \
		    -e 'invariant broken' -e 'CHECK failed' -e 'assert' \
		    -e 'ALARM' -e 'out-of-memory' "logs/$t.log" | head -n 40
	done
	echo "make fuzz: crashes in:$failed (inputs in $(pwd)/crashes;" \
	    "replay one with ./fuzz_TARGET FILE)"
	exit 1
fi
