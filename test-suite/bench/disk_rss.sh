#!/bin/sh
# disk_rss.sh - a real cuttle on a store of N small objects (bench_disk
# writes it: 200-800 body bytes each, 16 MiB regions): the RSS once the
# index has loaded, beside the same cuttle on an empty store of the same
# size, the index's bytes per object (mgr:disks), and the time from start
# to a whole index, after a clean stop and after kill -9, the page cache
# dropped first each time (echo 3 > /proc/sys/vm/drop_caches, as root;
# said when it cannot).
#
#	usage: disk_rss.sh CUTTLE BENCH_DISK [N [DIR]]
set -eu

CUTTLE=$(readlink -f "${1:?usage: disk_rss.sh CUTTLE BENCH_DISK [N [DIR]]}")
BENCH_DISK=$(readlink -f "${2:?usage: disk_rss.sh CUTTLE BENCH_DISK [N [DIR]]}")
N=${3:-1000000}
work=$(mktemp -d "${4:-/tmp}/cuttle-rss.XXXXXX")
pid=
secs=

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The store bench_disk writes: (N * 700 / 16 MiB + 4) regions of 16 MiB.
mb=$(( (N * 700 / 16777216 + 4) * 16 + 1 ))

conf() {
	cat >"$work/cuttle.conf" <<CONF
http_port 127.0.0.1:$port
cache_dir rock $work/$1 $mb
maximum_object_size_in_memory 1 KB
access_log none
pid_filename $work/cuttle.pid
cache_effective_user $(id -un)
shutdown_lifetime 1 second
CONF
}

drop() {
	sync
	if { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		echo "page cache dropped"
	else
		echo "page cache NOT dropped (not root?)"
	fi
}

page() {
	curl -sS "http://127.0.0.1:$port/squid-internal-mgr/$1"
}

# start: cuttle started (pid), secs the seconds until mgr:disks says
# nothing loads
start() {
	t0=$(date +%s.%N)
	"$CUTTLE" -N -f "$work/cuttle.conf" >>"$work/cuttle.log" 2>&1 &
	pid=$!
	while ! page disks 2>/dev/null | grep -q '^disk.loading = 0$'; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/cuttle.log"; exit 1; }
		sleep 0.01
	done
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

mkdir -p "$work/full" "$work/empty"
"$BENCH_DISK" "$N" "$work/full" keep
conf empty
start
sleep 1
empty=$(rss)
stop
conf full
drop
start
t=$secs
sleep 1
full=$(rss)
idx=$(page disks | sed -n 's/^Index: \([0-9]*\) bytes, \([0-9.]*\) per entry/\1 \2/p')
n=$(page disks | sed -n 's/^Current entries: //p')
echo "cuttle: $n objects indexed; index $idx (bytes, per object)"
echo "cuttle: VmRSS $full KiB with them, $empty KiB on an empty store of" \
    "the same size: $(( (full - empty) * 1024 / (n > 0 ? n : 1) )) bytes" \
    "per object"
echo "cuttle: start to a whole index, page cache dropped: $t s"
stop
drop
start
echo "cuttle: after a clean stop: $secs s to a whole index"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
drop
start
echo "cuttle: after kill -9: $secs s to a whole index," \
    "$(page disks | sed -n 's/^Current entries: //p') objects"
stop
