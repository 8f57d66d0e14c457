#!/bin/sh
# summary.sh - one line per test program and a total, from the logs that
# `make check` leaves in a build's test-suite directory:
#
#	unit/check_conf: 7 passed, 0 failed
#	...
#	Total: 63 passed, 0 failed, 0 skipped
#
# A check program counts its test cases (its "Checks: N" line); any other
# test (ptc scripts, layering.sh) counts as one.  Exits 1 if any failed or
# if no test ran at all.
set -u
dir=${1:-test-suite}
[ -d "$dir" ] || { echo "summary.sh: no $dir" >&2; exit 1; }

pass=0 fail=0 skip=0
for trs in $(find "$dir" -name '*.trs' | sort); do
	name=${trs#"$dir"/}
	name=${name%.trs}
	log=${trs%.trs}.log
	result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" 2>/dev/null | tail -n 1)
	if [ -n "$line" ]; then
		n=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
		f=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
		e=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
		p=$((n - f - e))
		f=$((f + e))
		# A crash after the summary still fails the program.
		[ "$result" = PASS ] || [ "$f" -gt 0 ] || f=1
	else
		case "$result" in
		PASS) p=1 f=0 ;;
		SKIP) skip=$((skip + 1)); echo "$name: skipped"; continue ;;
		*) p=0 f=1 ;;
		esac
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	echo "$name: $p passed, $f failed"
done
echo "Total: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
