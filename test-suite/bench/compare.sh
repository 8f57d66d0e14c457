#!/bin/bash
# compare.sh - cuttle and Squid side by side, with nginx serving the same
# files directly as the ceiling.  Run by `make bench`; never by `make check`.
#
#	compare.sh CUTTLE_BINARY
#
# Everything listens on loopback and is stopped by PID at the end.  As root
# it installs what it lacks from Debian (wrk, nginx, squid; the packages'
# own services are kept from starting).  Environment:
#	BENCH_SECONDS	per point (default 10), after a 2 s warm-up
#	BENCH_RUNS	runs per point, the median is printed (default 3)
#	BENCH_POINTS	a subset, e.g. "hit1k50 hit1m" (default: all)
#
# The load runs on one core and the proxy on the other (taskset), so that
# the proxy's CPU figure is its own; "req/CPU-s" is requests per second of
# proxy CPU time (user + system, from /proc/PID/stat).
set -eu

CUTTLE=$(readlink -f "${1:?usage: compare.sh CUTTLE_BINARY}")
DUR=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
POINTS=${BENCH_POINTS:-"hit1k50 hit1k500 hit64k hit1m hit16m miss1k newconn1k objmem idlemem"}
HERE=$(cd "$(dirname "$0")" && pwd)
TICK=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/cuttle-bench.XXXXXX)
chmod 755 "$work"		# squid drops to its own user
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }

# -- what it needs --------------------------------------------------------

install_missing() {
	local missing=() pkg
	for pkg in wrk nginx squid; do
		command -v "$pkg" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$pkg" ] || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "compare.sh: missing ${missing[*]}; as root it installs them"
		exit 1
	fi
	log "installing ${missing[*]}"
	# Debian starts a package's service on install: keep them off.
	local rcd=/usr/sbin/policy-rc.d made=
	if [ ! -e "$rcd" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$rcd"
		chmod 755 "$rcd"
		made=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" >&2
	[ -n "$made" ] && rm -f "$rcd"
	return 0
}

# A free loopback port (nothing answers on it).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
	done
	echo "$p"
}

wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "nothing listens on $1"
	exit 1
}

cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

rss_kb() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# -- servers --------------------------------------------------------------

start_origin() {
	mkdir -p "$work/www"
	head -c 1024 /dev/urandom >"$work/www/1k"
	head -c 65536 /dev/urandom >"$work/www/64k"
	head -c 1048576 /dev/urandom >"$work/www/1m"
	head -c 16777216 /dev/urandom >"$work/www/16m"
	ORIGIN=$(free_port)
	cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 20000; }
http {
	access_log off;
	sendfile on;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$ORIGIN backlog=4096;
		root $work/www;
		location / {
			add_header Cache-Control "public, max-age=3600";
		}
	}
}
EOF
	taskset -c 0 nginx -c "$work/nginx.conf" &
	pids+=($!)
	wait_port "$ORIGIN"
	# The worker serves; the master only watches it.
	NGINX_WORKER=$(pgrep -P "${pids[0]}" | head -1)
}

start_cuttle() {
	CUTTLE_PORT=$(free_port)
	cat >"$work/cuttle.conf" <<EOF
http_port 127.0.0.1:$CUTTLE_PORT
cache_mem 2 GB
maximum_object_size 64 MB
maximum_object_size_in_memory 64 MB
access_log none
pid_filename $work/cuttle.pid
cache_effective_user $(id -un)
shutdown_lifetime 1 second
max_filedescriptors 65536
EOF
	taskset -c 0 "$CUTTLE" -N -f "$work/cuttle.conf" 2>"$work/cuttle.err" &
	PROXY_PID=$!
	pids+=($PROXY_PID)
	PROXY_PORT=$CUTTLE_PORT
	wait_port "$CUTTLE_PORT"
}

start_squid() {
	SQUID_PORT=$(free_port)
	cat >"$work/squid.conf" <<EOF
http_port 127.0.0.1:$SQUID_PORT
http_access allow localhost
http_access deny all
cache_mem 2048 MB
maximum_object_size 64 MB
maximum_object_size_in_memory 64 MB
memory_cache_mode always
access_log none
cache_store_log none
cache_log $work/squid-cache.log
pid_filename $work/squid.pid
coredump_dir $work
shutdown_lifetime 1 second
max_filedescriptors 65536
EOF
	taskset -c 0 squid -N -f "$work/squid.conf" 2>"$work/squid.err" &
	PROXY_PID=$!
	pids+=($PROXY_PID)
	PROXY_PORT=$SQUID_PORT
	wait_port "$SQUID_PORT"
}

stop_proxy() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

# -- load -------------------------------------------------------------------

# wrk_lua PATH MODE - a script for wrk: absolute-form requests through a
# proxy (MODE proxy), origin-form to nginx (MODE direct); PATH may hold
# %d, replaced by a request counter (every request a new URL).
wrk_lua() {
	local path=$1 mode=$2 f
	f="$work/$mode-$(echo "$path" | tr -c 'a-z0-9\n' '_').lua"
	if [ "$mode" = proxy ]; then
		prefix="http://127.0.0.1:$ORIGIN"
	else
		prefix=""
	fi
	cat >"$f" <<EOF
local n = 0
local limit = tonumber(os.getenv("BENCH_WRAP") or "0")
request = function()
	n = n + 1
	if limit > 0 and n > limit then n = 1 end
	local p = string.gsub("$prefix$path", "%%d", tostring(n))
	local h = {}
	for k, v in pairs(wrk.headers) do h[k] = v end
	h["Host"] = "127.0.0.1:$ORIGIN"
	return wrk.format("GET", p, h)
end
EOF
	echo "$f"
}

# run_wrk PORT CONNS LUA [extra wrk args] - one measured run; prints
# "req_per_s bytes_per_s p50_ms p99_ms cpu_s"
run_wrk() {
	local port=$1 conns=$2 lua=$3 out t0 t1
	shift 3
	taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$lua" "$@" \
	    "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
	t0=$(cpu_ticks "$TARGET_PID")
	out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${DUR}s" --latency -s "$lua" \
	    "$@" "http://127.0.0.1:$port/" 2>&1)
	t1=$(cpu_ticks "$TARGET_PID")
	echo "$out" | awk -v cpu="$(( t1 - t0 ))" -v tick="$TICK" '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		return v
	}
	function bytes(v) {
		if (v ~ /GB$/) return v * 1073741824
		if (v ~ /MB$/) return v * 1048576
		if (v ~ /KB$/) return v * 1024
		return v + 0
	}
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/^Requests\/sec:/ { rps = $2 }
	/^Transfer\/sec:/ { bps = bytes($2) }
	/Non-2xx/ { bad = $NF }
	END {
		if (bad > 0) printf "warning: %d non-2xx replies\n", bad > "/dev/stderr"
		printf "%.0f %.0f %.2f %.2f %.3f\n", rps, bps, p50, p99, cpu / tick
	}'
}

# median of the numbers on stdin, and the spread "min-max"
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}

# measure NAME PORT CONNS LUA [wrk args] - RUNS runs; sets R_* to medians
measure() {
	local name=$1 port=$2 conns=$3 lua=$4 i
	shift 4
	: >"$work/runs"
	for i in $(seq "$RUNS"); do
		run_wrk "$port" "$conns" "$lua" "$@" >>"$work/runs"
	done
	read -r R_RPS R_RPS_MIN R_RPS_MAX < <(cut -d' ' -f1 "$work/runs" | median)
	read -r R_BPS _ _ < <(cut -d' ' -f2 "$work/runs" | median)
	read -r R_P50 _ _ < <(cut -d' ' -f3 "$work/runs" | median)
	read -r R_P99 _ _ < <(cut -d' ' -f4 "$work/runs" | median)
	read -r R_CPU _ _ < <(cut -d' ' -f5 "$work/runs" | median)
	log "  $name: $(tr '\n' '|' <"$work/runs")"
}

# -- the points --------------------------------------------------------------

declare -A CELL

# point KEY TARGET - fill CELL[KEY,TARGET] for TARGET cuttle|squid|nginx
point() {
	local key=$1 target=$2 port lua mode=proxy conns=50 path=/1k args=()
	if [ "$target" = nginx ]; then
		port=$ORIGIN
		mode=direct
		TARGET_PID=$NGINX_WORKER
	else
		port=$PROXY_PORT
		TARGET_PID=$PROXY_PID
	fi
	case $key in
	hit1k50)	;;
	hit1k500)	conns=500 ;;
	hit64k)		conns=10 path=/64k ;;
	hit1m)		conns=10 path=/1m ;;
	hit16m)		conns=10 path=/16m ;;
	miss1k)		path="/1k?$target-%d" ;;
	newconn1k)	args=(-H "Connection: close") ;;
	esac
	[ "$key" = miss1k ] && [ "$target" = nginx ] && return 0
	lua=$(wrk_lua "$path" "$mode")
	measure "$key/$target" "$port" "$conns" "$lua" "${args[@]}"
	CELL[$key,$target,rps]=$R_RPS
	CELL[$key,$target,spread]="$R_RPS_MIN-$R_RPS_MAX"
	CELL[$key,$target,mbps]=$(awk -v b="$R_BPS" 'BEGIN { printf "%.0f", b / 1e6 }')
	CELL[$key,$target,p50]=$R_P50
	CELL[$key,$target,p99]=$R_P99
	CELL[$key,$target,cpu]=$(awk -v c="$R_CPU" -v d="$DUR" 'BEGIN { printf "%.0f", 100 * c / d }')
	CELL[$key,$target,rpc]=$(awk -v c="$R_CPU" -v r="$R_RPS" -v d="$DUR" 'BEGIN { if (c > 0) printf "%.0f", r * d / c; else print "-" }')
}

# fill_objects TAG N - cache N distinct 1 KiB objects through the proxy
# (URLs /1k?TAG-1 .. TAG-N: every batch of a run is new to the cache).
fill_objects() {
	local lua
	lua=$(wrk_lua "/1k?$1-%d" proxy)
	BENCH_WRAP=$2 taskset -c 1 wrk -t1 -c50 -d"$(($2 / 4000 + 5))s" \
	    -s "$lua" "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1
	sleep 1
}

# Memory per cached 1 KiB object: the RSS growth while a second batch of
# 100,000 distinct objects is cached, per object, less the body.  The
# first batch warms up what does not grow with the objects (connections,
# buffers, free lists), so that the figure is the slope, not the start;
# the log shows the first batch's figure too.
objmem() {
	local target=$1 before mid after n=100000
	before=$(rss_kb "$PROXY_PID")
	fill_objects fila "$n"
	mid=$(rss_kb "$PROXY_PID")
	fill_objects filb "$n"
	after=$(rss_kb "$PROXY_PID")
	CELL[objmem,$target]=$(( (after - mid) * 1024 / n - 1024 ))
	log "  objmem/$target: rss $before -> $mid -> $after KiB" \
	    "(first batch $(( (mid - before) * 1024 / n - 1024 )) B/object)"
}

# Memory per idle client connection: RSS with 10,000 idle keep-alive
# connections open, less the RSS before, per connection.
idlemem() {
	local target=$1 before after n=10000
	before=$(rss_kb "$PROXY_PID")
	coproc IDLE { exec taskset -c 1 python3 "$HERE/idle_conns.py" 127.0.0.1 \
	    "$PROXY_PORT" "http://127.0.0.1:$ORIGIN/1k" "$n" 120; }
	local line
	read -r line <&"${IDLE[0]}" || true
	sleep 1
	after=$(rss_kb "$PROXY_PID")
	kill "$IDLE_PID" 2>/dev/null || true
	wait "$IDLE_PID" 2>/dev/null || true
	if [ "$line" != "ready $n" ]; then
		log "  idlemem/$target: $line"
		CELL[idlemem,$target]="-"
		return
	fi
	CELL[idlemem,$target]=$(( (after - before) * 1024 / n ))
	log "  idlemem/$target: rss $before -> $after KiB"
}

has_point() { [[ " $POINTS " == *" $1 "* ]]; }

run_target() {
	local target=$1 key
	log "== $target"
	for key in hit1k50 hit1k500 hit64k hit1m hit16m miss1k newconn1k; do
		has_point "$key" && point "$key" "$target"
	done
	return 0
}

run_memory() {
	local target=$1
	has_point objmem && objmem "$target"
	has_point idlemem && idlemem "$target"
	return 0
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'
}

report() {
	local key label unit c s n
	echo
	echo "| point | metric | nginx direct | cuttle | Squid | cuttle/Squid | cuttle/nginx |"
	echo "|---|---|---|---|---|---|---|"
	for key in hit1k50 hit1k500 hit64k hit1m hit16m miss1k newconn1k; do
		has_point "$key" || continue
		case $key in
		hit1k50)	label="1 KiB hits, 50 conns" ;;
		hit1k500)	label="1 KiB hits, 500 conns" ;;
		hit64k)		label="64 KiB hits, 10 conns" ;;
		hit1m)		label="1 MiB hits, 10 conns" ;;
		hit16m)		label="16 MiB hits, 10 conns" ;;
		miss1k)		label="1 KiB misses, 50 conns" ;;
		newconn1k)	label="1 KiB hits, new conn each" ;;
		esac
		for unit in rps mbps p50 p99 cpu rpc; do
			case $unit in
			rps)	u="req/s (spread)" ;;
			mbps)	u="MB/s" ;;
			p50)	u="p50 ms" ;;
			p99)	u="p99 ms" ;;
			cpu)	u="CPU %" ;;
			rpc)	u="req/CPU-s" ;;
			esac
			n=${CELL[$key,nginx,$unit]:--}
			c=${CELL[$key,cuttle,$unit]:--}
			s=${CELL[$key,squid,$unit]:--}
			if [ "$unit" = rps ]; then
				printf '| %s | %s | %s (%s) | %s (%s) | %s (%s) | %s | %s |\n' \
				    "$label" "$u" "$n" "${CELL[$key,nginx,spread]:--}" \
				    "$c" "${CELL[$key,cuttle,spread]:--}" \
				    "$s" "${CELL[$key,squid,spread]:--}" \
				    "$(ratio "$c" "$s")" "$(ratio "$c" "$n")"
			else
				printf '| | %s | %s | %s | %s | %s | %s |\n' "$u" \
				    "$n" "$c" "$s" "$(ratio "$c" "$s")" \
				    "$(ratio "$c" "$n")"
			fi
		done
	done
	if has_point objmem; then
		printf '| memory per cached 1 KiB object | bytes beyond the body | - | %s | %s | %s | - |\n' \
		    "${CELL[objmem,cuttle]:--}" "${CELL[objmem,squid]:--}" \
		    "$(ratio "${CELL[objmem,cuttle]:--}" "${CELL[objmem,squid]:--}")"
	fi
	if has_point idlemem; then
		printf '| memory per idle client connection | bytes | - | %s | %s | %s | - |\n' \
		    "${CELL[idlemem,cuttle]:--}" "${CELL[idlemem,squid]:--}" \
		    "$(ratio "${CELL[idlemem,cuttle]:--}" "${CELL[idlemem,squid]:--}")"
	fi
	echo
	echo "$(nproc) cores, $(uname -r); ${DUR} s per point, median of $RUNS runs; cuttle $("$CUTTLE" -v 2>&1 | head -1); $(squid -v | head -1)"
}

install_missing
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_origin
run_target nginx
start_cuttle
run_target cuttle
stop_proxy
start_cuttle
run_memory cuttle
stop_proxy
start_squid
run_target squid
stop_proxy
start_squid
run_memory squid
stop_proxy
report
