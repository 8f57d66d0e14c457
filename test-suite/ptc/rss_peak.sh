#!/bin/sh
# rss_peak.sh PID LIMIT_KIB CURL-ARGS... - run curl, sampling PID's
# resident memory meanwhile; print what it grew by and exit 1 when that
# reaches LIMIT_KIB (or curl fails).  For ptc scripts: bounded memory.
set -u
pid=$1 limit=$2
shift 2
rss() { awk '/VmRSS/ { print $2 }' "/proc/$pid/status"; }
base=$(rss)
peak=$base
out=$(mktemp)
curl -s -o /dev/null -w '%{size_download}' "$@" >"$out" &
c=$!
while kill -0 "$c" 2>/dev/null; do
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.05
done
wait "$c" || { echo "curl failed"; rm -f "$out"; exit 1; }
echo "grew $((peak - base)) KiB (from $base KiB) for $(cat "$out") bytes"
rm -f "$out"
[ $((peak - base)) -lt "$limit" ]
