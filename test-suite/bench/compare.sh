#!/bin/bash
# compare.sh - cuttle beside the caching proxies Debian packages (Squid,
# Traffic Server, Varnish), with nginx serving the same files directly as
# the ceiling.  Run by `make bench`; never by `make check`.
#
#	compare.sh CUTTLE_BINARY
#
# Everything listens on loopback and is stopped by PID at the end.  As root
# it installs what it lacks from Debian (wrk, nginx, squid, varnish,
# trafficserver; the packages' own services are kept from starting).
# Environment:
#	BENCH_SECONDS	per measured run (default 5), after a warm-up
#	BENCH_WARMUP	seconds of warm-up before each run (default 1)
#	BENCH_RUNS	runs per figure and peer (default 5)
#	BENCH_POINTS	a subset, e.g. "hit1k50 hit1m idlemem" (default: all;
#			the hierarchy points are hierc1k hiers1k carpmiss1k)
#	BENCH_PEERS	a subset of "nginx varnish ats squid cuttle"
#
# The auth1k point is 1 KiB hits with proxy authentication required
# (auth_param basic, basic_ncsa_auth, the credentials cached after the
# first request: every request carries them) and a store_id_program
# (storeid_file_rewrite, asked for every request) in place: cuttle and
# Squid only, each restarted with the same auth_param, store_id and
# http_access lines; compare with hit1k50 for their cost.  Its CPU
# figures include the helpers' (the proxy's child processes), unless
# BENCH_HELPER_CPU=0 (the proxy's own process only).
#
# The tls* points put TLS between the client and the server: nginx serves
# the files over HTTPS itself (the ceiling), cuttle and Squid (its OpenSSL
# build, Debian's squid-openssl) take the same requests on an https_port,
# all with one P-256 certificate; Varnish (no TLS) and Traffic Server are
# left out of them.  wrk makes a full handshake on every new connection;
# tlsresume1k (bump_load.c -r, below) opens a connection per request that
# resumes its thread's last session, as a returning browser does.
#
# The bump* points are ssl_bump: cuttle and Squid (squid-openssl, its
# security_file_certgen helper) on an http_port with ssl-bump and one CA,
# "ssl_bump bump all", "sslproxy_cert_error allow all", the origin being
# nginx's HTTPS server; nginx serving HTTPS directly is the ceiling.  The
# load is bump_load.c (built here with cc): CONNECT, a full TLS handshake
# inside the tunnel, GETs (wrk and openssl s_time cannot CONNECT).
# bumptls1k is tls1k with that client (cuttle's and Squid's https_port:
# what bumped hits are held against); bump1k and bump1m keep their
# tunnels; bumpnew opens a tunnel (and
# handshake) per request to one name, so the proxy's certificate comes
# from its cache; bumpcold gives every tunnel a name of its own (from a
# hosts_file; a run ends after 3,000 names, as it ends after
# BENCH_SECONDS), so every one needs a certificate minted (Squid: by its
# helper, which also writes it to its database).
# The helper's CPU counts as Squid's.
#
# Every peer caches in memory: cuttle, Squid and Traffic Server as forward
# proxies (absolute-form requests), Varnish as a reverse proxy for the
# origin (origin-form requests: it cannot be a forward proxy).
#
# A shared machine is noisy, so the peers are interleaved run by run
# (round 1: A B C ..., round 2: B C ... A, ...), each figure is the median
# of its runs with the spread (min-max) beside it, and each peer's ratio
# to cuttle is the median of the ratios of the same round.
#
# The load runs on one core and the servers on the other (taskset), so
# that a server's CPU figure is its own; "req/CPU-s" is requests per
# second of the server's CPU time (user + system of all its processes,
# from /proc/PID/stat).
set -eu

CUTTLE=$(readlink -f "${1:?usage: compare.sh CUTTLE_BINARY}")
CERTGEN=/usr/lib/squid/security_file_certgen
DUR=${BENCH_SECONDS:-5}
WARM=${BENCH_WARMUP:-1}
RUNS=${BENCH_RUNS:-5}
LOADS="hit1k50 hit1k500 hit64k hit1m hit16m miss1k newconn1k tls1k tls1m
    tlsnew1k tlsresume1k bumptls1k bump1k bump1m bumpnew bumpcold"
HIER_LOADS="hierc1k hiers1k carpmiss1k"
AUTH_LOADS="auth1k"
# Disk points: Squid and cuttle only, each restarted with one
# "cache_dir rock" of BENCH_DISK_MB (2048) and objects over 1 KiB kept out
# of memory, so that every hit is read from the store through a warm page
# cache; the restart (BENCH_DISK_OBJECTS 16 KiB objects, 100000) with the
# page cache dropped where /proc/sys/vm/drop_caches can be written.
# diskfill, diskfill1m and diskfill64m are fills: every reply (16 KiB,
# 1 MiB, 64 MiB) new, fetched and written to the store.
# disk16kcold and disk1mcold read BENCH_COLD_16K (60000) and BENCH_COLD_1M
# (600) distinct objects, stored first, in turn, the page cache dropped
# before each measured run (no warm-up), so that their reads reach the
# device: each run's bytes read from storage by the proxy
# (/proc/PID/io) are logged.
DISK_LOADS="disk16k disk1m disk64m diskfill diskfill1m diskfill64m"
DISK_LOADS="$DISK_LOADS disk16kcold disk1mcold"
POINTS=${BENCH_POINTS:-"$LOADS $HIER_LOADS $AUTH_LOADS objmem idlemem $DISK_LOADS diskrestart"}
DISK_MB=${BENCH_DISK_MB:-2048}
DISK_OBJECTS=${BENCH_DISK_OBJECTS:-100000}
COLD_16K=${BENCH_COLD_16K:-60000}
COLD_1M=${BENCH_COLD_1M:-600}
MAXOBJ="64 MB"
DISKMODE=0
ALL_PEERS="nginx varnish ats squid cuttle"
PEERS=${BENCH_PEERS:-$ALL_PEERS}
HERE=$(cd "$(dirname "$0")" && pwd)
TICK=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/cuttle-bench.XXXXXX)
chmod 755 "$work"		# squid, varnish and ats drop to their users
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

has_point() { [[ " $POINTS " == *" $1 "* ]]; }
has_peer() { [[ " $PEERS " == *" $1 "* ]]; }

# -- what it needs --------------------------------------------------------

install_missing() {
	local missing=() pkg cmd
	for pkg in wrk nginx squid-openssl varnish trafficserver; do
		case $pkg in
		squid-openssl)	cmd=squid ;;
		varnish)	cmd=varnishd ;;
		trafficserver)	cmd=traffic_server ;;
		*)		cmd=$pkg ;;
		esac
		command -v "$cmd" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "compare.sh: missing ${missing[*]}; as root it installs them"
		for pkg in wrk nginx; do
			[[ " ${missing[*]} " == *" $pkg "* ]] && exit 1
		done
		return 0	# the missing peers are skipped
	fi
	log "installing ${missing[*]}"
	# Debian starts a package's service on install: keep them off.
	local rcd=/usr/sbin/policy-rc.d made=
	if [ ! -e "$rcd" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$rcd"
		chmod 755 "$rcd"
		made=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
	    { apt-get update -q >&2 && apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" >&2; } || true
	[ -n "$made" ] && rm -f "$rcd"
	return 0
}

# A free loopback port (nothing answers on it), below the ephemeral range
# so that no client socket holds it (10,000 idle connections use many).
free_port() {
	local p low
	low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
	[ "${low:-0}" -gt 12000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
	done
	echo "$p"
}

# wait_port PORT [PID] - 0 once something listens on PORT (within 15 s),
# 1 if it does not or PID has died meanwhile.
wait_port() {
	local i
	for i in $(seq 150); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && break
		sleep 0.1
	done
	log "nothing listens on $1"
	return 1
}

# cpu_ticks PID... - user + system ticks of all the processes
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + v))
	done
	echo "$t"
}

# rss_kb PID... - resident size of all the processes
rss_kb() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null) ||
		    v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# -- servers --------------------------------------------------------------
#
# Each peer P has PORT[P], MODE[P] (proxy: absolute-form requests; direct:
# origin-form), MAIN[P] (the PID to stop) and CPUS[P] (the PIDs whose CPU
# time and memory are its own); SKIP[P] says why a peer has no figures.

declare -A PORT TLSPORT BUMPPORT MODE MAIN CPUS SKIP NAME
BUMP_NAMES=$((RUNS * 2 * 3500))	# 3,500 a round (warm-up 500) and peer
NAME=([nginx]="nginx direct" [varnish]="Varnish (reverse)"
    [ats]="Traffic Server" [squid]="Squid" [cuttle]="cuttle")

start_origin() {
	mkdir -p "$work/www"
	head -c 1024 /dev/urandom >"$work/www/1k"
	head -c 16384 /dev/urandom >"$work/www/16k"
	head -c 65536 /dev/urandom >"$work/www/64k"
	head -c 1048576 /dev/urandom >"$work/www/1m"
	head -c 16777216 /dev/urandom >"$work/www/16m"
	head -c 67108864 /dev/urandom >"$work/www/64m"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
	    -days 2 -keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null
	chmod 644 "$work/tls.key"	# squid reads it as its own user
	# ssl_bump's CA, and the names of the cold certificate point.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -subj "/CN=bench bump CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" -days 2 \
	    -keyout "$work/bumpca.key" -out "$work/bumpca.pem" 2>/dev/null
	chmod 644 "$work/bumpca.key"
	awk -v n="$BUMP_NAMES" 'BEGIN { for (i = 0; i < n; i++)
	    printf "127.0.0.1 c%d.bump.test\n", i }' >"$work/hosts"
	cc -O2 -o "$work/bump_load" "$HERE/bump_load.c" -lssl -lcrypto \
	    -lpthread || exit 1
	ORIGIN=$(free_port)
	TLSPORT[nginx]=$(free_port)
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
	server {
		listen 127.0.0.1:${TLSPORT[nginx]} ssl backlog=4096;
		ssl_certificate $work/tls.pem;
		ssl_certificate_key $work/tls.key;
		# nginx 1.22 leaves TLS 1.3 out by default; the others
		# offer it, and the figures compare the same handshake.
		ssl_protocols TLSv1.2 TLSv1.3;
		keepalive_requests 1000000;
		root $work/www;
		# The bumped requests come here: cacheable as the others.
		location / {
			add_header Cache-Control "public, max-age=3600";
		}
	}
}
EOF
	taskset -c 0 nginx -c "$work/nginx.conf" &
	MAIN[nginx]=$!
	pids+=($!)
	wait_port "$ORIGIN" "$!" || exit 1
	# The worker serves; the master only watches it.
	CPUS[nginx]=$(pgrep -P "${MAIN[nginx]}" | head -1)
	PORT[nginx]=$ORIGIN
	MODE[nginx]=direct
}

# The auth1k point's lines (AUTH=1): Squid's helpers, the same for both.
AUTH=
auth_lines() {
	[ -n "$AUTH" ] || return 0
	cat <<EOF
auth_param basic program /usr/lib/squid/basic_ncsa_auth $work/passwd
auth_param basic children 5 startup=1
auth_param basic credentialsttl 2 hours
store_id_program /usr/lib/squid/storeid_file_rewrite $work/storeid.rules
store_id_children 5 startup=5 concurrency=50
acl authed proxy_auth REQUIRED
http_access deny !authed
EOF
}

# prepare_auth - the password file and the store-id rule (every URL of
# the origin is one key per path); AUTH_HDR the credentials wrk sends.
prepare_auth() {
	if ! command -v htpasswd >/dev/null 2>&1 ||
	    [ ! -x /usr/lib/squid/basic_ncsa_auth ] ||
	    [ ! -x /usr/lib/squid/storeid_file_rewrite ]; then
		AUTH_SKIP="needs htpasswd (apache2-utils), basic_ncsa_auth and storeid_file_rewrite (squid)"
		return 1
	fi
	htpasswd -bcm "$work/passwd" bench benchpw 2>/dev/null
	printf '^http://127\\.0\\.0\\.1:%s/(.*)\thttp://bench.squid.internal/$1\n' \
	    "$ORIGIN" >"$work/storeid.rules"
	chmod 644 "$work/passwd" "$work/storeid.rules"
	AUTH_HDR="Proxy-Authorization: Basic $(printf bench:benchpw | base64)"
}

start_cuttle() {
	PORT[cuttle]=$(free_port)
	TLSPORT[cuttle]=$(free_port)
	BUMPPORT[cuttle]=$(free_port)
	local mem="cache_mem 2 GB
maximum_object_size_in_memory 64 MB"
	[ "$DISKMODE" = 1 ] && mem="cache_mem 64 MB
maximum_object_size_in_memory 1 KB
cache_dir rock $work/cuttle-disk $DISK_MB"
	local allow=
	[ -n "$AUTH" ] && allow="http_access allow localhost
http_access deny all"
	cat >"$work/cuttle.conf" <<EOF
$(auth_lines)
$allow
http_port 127.0.0.1:${PORT[cuttle]}
https_port 127.0.0.1:${TLSPORT[cuttle]} tls-cert=$work/tls.pem tls-key=$work/tls.key
http_port 127.0.0.1:${BUMPPORT[cuttle]} ssl-bump tls-cert=$work/bumpca.pem tls-key=$work/bumpca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
acl SSL_ports port 1-65535
ssl_bump bump all
sslproxy_cert_error allow all
tls_outgoing_options cafile=$work/tls.pem
hosts_file $work/hosts
$mem
maximum_object_size $MAXOBJ
access_log none
pid_filename $work/cuttle.pid
cache_effective_user $(id -un)
shutdown_lifetime 1 second
max_filedescriptors 65536
EOF
	taskset -c 0 "$CUTTLE" -N -f "$work/cuttle.conf" 2>"$work/cuttle.err" &
	MAIN[cuttle]=$!
	pids+=($!)
	if ! wait_port "${PORT[cuttle]}" "$!"; then
		tail -5 "$work/cuttle.err" >&2
		SKIP[cuttle]="did not start"
		return
	fi
	CPUS[cuttle]=${MAIN[cuttle]}
	MODE[cuttle]=proxy
}

start_squid() {
	command -v squid >/dev/null 2>&1 || [ -x /usr/sbin/squid ] ||
	    { SKIP[squid]="not installed"; return; }
	PORT[squid]=$(free_port)
	local https= bump=
	if squid -v 2>/dev/null | grep -q -- --with-openssl; then
		TLSPORT[squid]=$(free_port)
		https="https_port 127.0.0.1:${TLSPORT[squid]} tls-cert=$work/tls.pem tls-key=$work/tls.key"
	fi
	if [ -n "$https" ] && [ -x "$CERTGEN" ]; then
		BUMPPORT[squid]=$(free_port)
		rm -rf "$work/ssl_db"
		"$CERTGEN" -c -s "$work/ssl_db" -M 64MB >/dev/null
		[ "$(id -u)" -eq 0 ] && chown -R proxy "$work/ssl_db"
		bump="http_port 127.0.0.1:${BUMPPORT[squid]} ssl-bump tls-cert=$work/bumpca.pem tls-key=$work/bumpca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program $CERTGEN -s $work/ssl_db -M 64MB
ssl_bump bump all
sslproxy_cert_error allow all
tls_outgoing_options cafile=$work/tls.pem
hosts_file $work/hosts"
	fi
	local mem="cache_mem 2048 MB
maximum_object_size_in_memory 64 MB
memory_cache_mode always"
	[ "$DISKMODE" = 1 ] && mem="cache_mem 64 MB
maximum_object_size_in_memory 1 KB
cache_dir rock $work/squid-disk $DISK_MB"
	cat >"$work/squid.conf" <<EOF
http_port 127.0.0.1:${PORT[squid]}
$https
$bump
$(auth_lines)
http_access allow localhost
http_access deny all
$mem
maximum_object_size $MAXOBJ
access_log none
cache_store_log none
cache_log $work/squid-cache.log
pid_filename $work/squid.pid
coredump_dir $work
shutdown_lifetime 1 second
max_filedescriptors 65536
EOF
	# Its log, which it writes as its own user (the rebuild's end).
	touch "$work/squid-cache.log"
	chmod 666 "$work/squid-cache.log"
	if [ "$DISKMODE" = 1 ] && [ ! -d "$work/squid-disk" ]; then
		mkdir -p "$work/squid-disk"
		chmod 777 "$work/squid-disk"
		squid -z -N -f "$work/squid.conf" >>"$work/squid.err" 2>&1 ||
		    true
	fi
	taskset -c 0 squid -N -f "$work/squid.conf" 2>"$work/squid.err" &
	MAIN[squid]=$!
	pids+=($!)
	if ! wait_port "${PORT[squid]}" "$!"; then
		tail -5 "$work/squid.err" "$work/squid-cache.log" >&2 || true
		SKIP[squid]="did not start"
		return
	fi
	CPUS[squid]=${MAIN[squid]}
	MODE[squid]=proxy
}

# Varnish: a reverse proxy for the origin with its built-in VCL (which
# caches the origin's "Cache-Control: public, max-age=3600"), objects in
# malloc storage; idle client connections kept as long as the others do.
start_varnish() {
	command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ] ||
	    { SKIP[varnish]="not installed"; return; }
	PORT[varnish]=$(free_port)
	rm -rf "$work/varnish"
	mkdir -p "$work/varnish"
	taskset -c 0 varnishd -F -a "127.0.0.1:${PORT[varnish]}" \
	    -b "127.0.0.1:$ORIGIN" -s malloc,2G -n "$work/varnish" \
	    -p timeout_idle=120 >"$work/varnish.out" 2>&1 &
	MAIN[varnish]=$!
	pids+=($!)
	if ! wait_port "${PORT[varnish]}" "$!"; then
		tail -5 "$work/varnish.out" >&2
		SKIP[varnish]="did not start"
		return
	fi
	# The manager and its cache child.
	CPUS[varnish]="${MAIN[varnish]} $(pgrep -P "${MAIN[varnish]}" | xargs)"
	MODE[varnish]=direct
}

# Traffic Server 9.2: a forward proxy (no remap rule needed) in the
# foreground, all its directories (a runroot) in $work; a RAM cache as
# large as the others' memory caches, over a 1 GB cache file that every
# object also goes to (it has no memory-only mode), and one event thread
# like the single-threaded others.
start_ats() {
	command -v traffic_server >/dev/null 2>&1 ||
	    { SKIP[ats]="not installed"; return; }
	local a=$work/ats user
	user=$(id -un)
	[ "$user" = root ] && user=trafficserver	# it refuses root
	PORT[ats]=$(free_port)
	rm -rf "$a"
	mkdir -p "$a/etc" "$a/run" "$a/log" "$a/cache"
	cp -r /etc/trafficserver/. "$a/etc/"
	cat >"$a/runroot.yaml" <<EOF
prefix: $a
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: $a/etc
datadir: $a/cache
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: $a
runtimedir: $a/run
logdir: $a/log
cachedir: $a/cache
EOF
	cat >"$a/etc/records.config" <<EOF
CONFIG proxy.config.http.server_ports STRING ${PORT[ats]}:ip-in=127.0.0.1
CONFIG proxy.config.admin.user_id STRING $user
CONFIG proxy.config.crash_log_helper STRING /bin/true
CONFIG proxy.config.exec_thread.autoconfig INT 0
CONFIG proxy.config.exec_thread.limit INT 1
CONFIG proxy.config.exec_thread.affinity INT 0
CONFIG proxy.config.accept_threads INT 0
CONFIG proxy.config.url_remap.remap_required INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 0
CONFIG proxy.config.http.cache.http INT 1
CONFIG proxy.config.cache.ram_cache.size INT 2147483648
CONFIG proxy.config.cache.ram_cache_cutoff INT 67108864
CONFIG proxy.config.cache.max_doc_size INT 0
CONFIG proxy.config.http.insert_client_ip INT 0
CONFIG proxy.config.http.insert_squid_x_forwarded_for INT 0
CONFIG proxy.config.http.insert_request_via_str INT 0
CONFIG proxy.config.http.keep_alive_no_activity_timeout_in INT 120
CONFIG proxy.config.net.connections_throttle INT 65000
CONFIG proxy.config.net.max_connections_in INT 65000
CONFIG proxy.config.log.logging_enabled INT 0
EOF
	echo "$a/cache 1G" >"$a/etc/storage.config"
	cat >"$a/etc/ip_allow.yaml" <<EOF
ip_allow:
  - apply: in
    ip_addrs: 127.0.0.1
    action: allow
EOF
	[ "$(id -u)" -eq 0 ] && chown -R "$user" "$a"
	TS_RUNROOT=$a taskset -c 0 traffic_server >"$a/out" 2>&1 &
	MAIN[ats]=$!
	pids+=($!)
	if ! wait_port "${PORT[ats]}" "$!"; then
		SKIP[ats]="did not start: $(grep -hE 'FATAL|ERROR|Fatal' \
		    "$a/out" "$a/log/diags.log" 2>/dev/null | head -1)"
		return
	fi
	# Without its cache it would only relay: no figures then.
	local i
	for i in $(seq 50); do
		grep -q 'cache enabled' "$a/log/diags.log" 2>/dev/null && break
		sleep 0.1
	done
	if ! grep -q 'cache enabled' "$a/log/diags.log" 2>/dev/null; then
		SKIP[ats]="cache disabled: $(grep -h WARNING \
		    "$a/log/diags.log" | head -1)"
		kill "${MAIN[ats]}" 2>/dev/null || true
		return
	fi
	# It sets some of its threads' affinity itself: back to the
	# server core.
	taskset -a -p -c 0 "${MAIN[ats]}" >/dev/null
	CPUS[ats]=${MAIN[ats]}
	MODE[ats]=proxy
}

start_peer() {
	unset "SKIP[$1]"
	case $1 in
	nginx)	;;
	*)	"start_$1" ;;
	esac
	[ -n "${SKIP[$1]:-}" ] && log "  $1 skipped: ${SKIP[$1]}"
	return 0
}

stop_peer() {
	[ "$1" = nginx ] && return 0
	[ -n "${MAIN[$1]:-}" ] || return 0
	kill "${MAIN[$1]}" 2>/dev/null || true
	wait "${MAIN[$1]}" 2>/dev/null || true
	unset "MAIN[$1]" "CPUS[$1]"
}

# -- load -------------------------------------------------------------------

# wrk_lua PATH MODE - a script for wrk: absolute-form requests through a
# proxy (MODE proxy), origin-form to nginx or Varnish (MODE direct); PATH
# may hold %d, replaced by a request counter (every request a new URL).
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

# run_wrk PORT CONNS WARM_LUA LUA [extra wrk args] - a warm-up, then one
# measured run; prints "req_per_s bytes_per_s p50_ms p99_ms cpu_s"
run_wrk() {
	local port=$1 conns=$2 warm=$3 lua=$4 out t0 t1
	shift 4
	if [ "$WARM" != 0 ]; then
		taskset -c 1 wrk -t1 -c"$conns" -d"${WARM}s" -s "$warm" "$@" \
		    "$SCHEME://127.0.0.1:$port/" >/dev/null 2>&1 || true
	fi
	# shellcheck disable=SC2086
	t0=$(cpu_ticks $TARGET_PIDS)
	out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${DUR}s" --latency -s "$lua" \
	    "$@" "$SCHEME://127.0.0.1:$port/" 2>&1)
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $TARGET_PIDS)
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

peer_index() {
	case $1 in
	squid)	echo 0 ;;
	*)	echo 1 ;;
	esac
}

# run_bump KEY PEER ROUND - one bump_load run (a warm-up, then the
# measured one); prints what run_wrk prints.
run_bump() {
	local key=$1 peer=$2 round=$3 conns=50 path=/1k args=() out t0 t1
	local dst=(-x "127.0.0.1:${BUMPPORT[$peer]:-}")
	local target="127.0.0.1:${TLSPORT[nginx]}"
	[ "$peer" = nginx ] && dst=()
	case $key in
	bump1m)		conns=10 path=/1m ;;
	bumptls1k|tlsresume1k)
			# the https_port, with the same client: the
			# figure bumped hits are held against; or a new
			# connection each, resuming its thread's last
			# session (the handshake a returning browser makes)
			[ "$key" = tlsresume1k ] && args=(-k 1 -r)
			if [ "$peer" != nginx ]; then
				dst=()
				target="127.0.0.1:${TLSPORT[$peer]}"
				path="http://127.0.0.1:$ORIGIN/1k"
				args+=(-h "127.0.0.1:$ORIGIN")
			fi ;;
	bumpnew)	args=(-k 1) ;;
	bumpcold)	args=(-k 1)
			# nginx has no certificates to make: as bumpnew.
			[ "$peer" != nginx ] && args+=(-N "$BUMP_NAMES") &&
			    target="bump.test:${TLSPORT[nginx]}" ;;
	esac
	# Every run of bumpcold has names of its own: 500 for the warm-up,
	# 3,000 for the run (which ends when they are used up).
	local slot=$(( ((round - 1) * 2 + $(peer_index "$peer")) * 3500 ))
	[ "$key" = bumpcold ] && [ "$peer" != nginx ] && args+=(-n 500)
	if [ "$WARM" != 0 ]; then
		taskset -c 1 "$work/bump_load" "${dst[@]}" -t "$target" \
		    -c "$conns" -d "$WARM" -u "$path" -o "$slot" \
		    "${args[@]}" >/dev/null 2>&1 || true
	fi
	[ "$key" = bumpcold ] && [ "$peer" != nginx ] && args+=(-n 3000)
	BUMP_OFFSET=$((slot + 500))
	# Squid's helpers are its own too.
	[ "$peer" = squid ] &&
	    TARGET_PIDS="${MAIN[squid]} $(pgrep -P "${MAIN[squid]}" | xargs)"
	# shellcheck disable=SC2086
	t0=$(cpu_ticks $TARGET_PIDS)
	out=$(taskset -c 1 "$work/bump_load" "${dst[@]}" -t "$target" \
	    -c "$conns" -d "$DUR" -u "$path" -o "$BUMP_OFFSET" "${args[@]}")
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $TARGET_PIDS)
	echo "$out $(( t1 - t0 ))" | awk -v tick="$TICK" \
	    '{ printf "%s %s %s %s %.3f\n", $1, $2, $3, $4, $5 / tick }'
}

# -- the points --------------------------------------------------------------

# Each measured run appends "KEY PEER ROUND rps MB/s p50 p99 CPU% req/CPU-s"
# to $work/results; report() takes medians, spreads and ratios from there.

# one_run KEY PEER ROUND - one run of load point KEY against PEER
one_run() {
	local key=$1 peer=$2 round=$3 conns=50 path=/1k warm args=() r f
	local port=${PORT[$peer]}
	SCHEME=http
	case $key in
	tls*)		SCHEME=https port=${TLSPORT[$peer]} ;;
	esac
	case $key in
	hit1k50|tls1k)	;;
	hit1k500)	conns=500 ;;
	hit64k)		conns=10 path=/64k ;;
	hit1m|tls1m)	conns=10 path=/1m ;;
	hit16m)		conns=10 path=/16m ;;
	disk16k)	conns=10 path=/16k ;;
	disk1m)		conns=10 path=/1m ;;
	disk64m)	conns=4 path=/64m ;;
	disk16kcold)	conns=10 path="/16k?cold-%d" ;;
	disk1mcold)	conns=10 path="/1m?cold-%d" ;;
	newconn1k|tlsnew1k) args=(-H "Connection: close") ;;
	auth1k)		args=(-H "$AUTH_HDR") ;;
	esac
	warm=$(wrk_lua "$path" "${MODE[$peer]}")
	# Misses: every URL new to the cache, in every run and warm-up.
	if [ "$key" = miss1k ] || [ "$key" = carpmiss1k ]; then
		warm=$(wrk_lua "/1k?$peer-w$round-%d" "${MODE[$peer]}")
		path="/1k?$peer-r$round-%d"
	fi
	# The fill rate: every reply new, written to the store.
	case $key in
	diskfill|diskfill1m|diskfill64m)
		conns=10 f=16k
		[ "$key" = diskfill1m ] && f=1m
		[ "$key" = diskfill64m ] && conns=4 f=64m
		warm=$(wrk_lua "/$f?$peer-w$round-%d" "${MODE[$peer]}")
		path="/$f?$peer-r$round-%d"
		;;
	esac
	TARGET_PIDS=${CPUS[$peer]}
	# auth1k: the helpers' CPU time is the proxy's too.
	[ "$key" = auth1k ] && [ "${BENCH_HELPER_CPU:-1}" != 0 ] &&
	    TARGET_PIDS="$TARGET_PIDS $(pgrep -P "${MAIN[$peer]}" |
	    tr '\n' ' ')"
	if [[ $key == bump* || $key == tlsresume1k ]]; then
		r=$(run_bump "$key" "$peer" "$round")
	elif [[ $key == disk*cold ]]; then
		r=$(run_cold "$key" "$peer" "$port" "$conns" "$path")
	else
		r=$(run_wrk "$port" "$conns" "$warm" \
		    "$(wrk_lua "$path" "${MODE[$peer]}")" "${args[@]}")
	fi
	echo "$key $peer $round $r" | awk -v d="$DUR" '{
		rpc = "-"
		if ($8 > 0)
			rpc = sprintf("%.0f", $4 * d / $8)
		printf "%s %s %s %s %.0f %s %s %.0f %s\n", $1, $2, $3, $4,
		    $5 / 1e6, $6, $7, 100 * $8 / d, rpc }' >>"$work/results"
	log "  $key/$peer round $round: $r"
}

# running_peers KEY - the peers with figures for KEY, in table order
running_peers() {
	local p
	for p in $ALL_PEERS; do
		has_peer "$p" || continue
		[ -n "${SKIP[$p]:-}" ] && continue
		[ "$1" = miss1k ] && [ "$p" = nginx ] && continue
		[[ $1 == disk* ]] && [ "$p" != squid ] && [ "$p" != cuttle ] &&
		    continue
		[ "$1" = auth1k ] && [ "$p" != cuttle ] && [ "$p" != squid ] &&
		    continue
		[[ $1 == tls* ]] && [ -z "${TLSPORT[$p]:-}" ] && continue
		[[ $1 == bump* ]] && [ "$p" != nginx ] &&
		    [ -z "${BUMPPORT[$p]:-}" ] && continue
		[ "$1" = bumptls1k ] && [ -z "${TLSPORT[$p]:-}" ] && continue
		printf '%s ' "$p"
	done
}

# Round r starts with the r-th peer, so that no peer is always first
# after another's heavy run.
interleave() {
	local key=$1 round i n list
	read -r -a list <<<"$(running_peers "$key")"
	n=${#list[@]}
	[ "$n" -eq 0 ] && return 0
	log "== $key"
	for round in $(seq "$RUNS"); do
		for i in $(seq 0 $((n - 1))); do
			one_run "$key" "${list[$(( (i + round - 1) % n ))]}" "$round"
		done
	done
}

declare -A CELL NOTE

# fill_objects PORT TAG N - cache N distinct 1 KiB objects through the
# proxy (URLs /1k?TAG-1 .. TAG-N: every batch of a run is new to the
# cache).
fill_objects() {
	local lua
	lua=$(wrk_lua "/1k?$2-%d" "$FILL_MODE")
	BENCH_WRAP=$3 taskset -c 1 wrk -t1 -c50 -d"$(($3 / 4000 + 5))s" \
	    -s "$lua" "http://127.0.0.1:$1/" >/dev/null 2>&1
	sleep 1
}

# Memory per cached 1 KiB object: the RSS growth while a second batch of
# 100,000 distinct objects is cached, per object, less the body.  The
# first batch warms up what does not grow with the objects (connections,
# buffers, free lists), so that the figure is the slope, not the start;
# the log shows the first batch's figure too.
objmem() {
	local peer=$1 before mid after n=100000
	# shellcheck disable=SC2086
	before=$(rss_kb ${CPUS[$peer]})
	FILL_MODE=${MODE[$peer]}
	fill_objects "${PORT[$peer]}" fila "$n"
	# shellcheck disable=SC2086
	mid=$(rss_kb ${CPUS[$peer]})
	fill_objects "${PORT[$peer]}" filb "$n"
	# shellcheck disable=SC2086
	after=$(rss_kb ${CPUS[$peer]})
	CELL[objmem,$peer]=$(( (after - mid) * 1024 / n - 1024 ))
	# A cache that allocated its memory up front (Traffic Server's RAM
	# cache) does not grow with what it holds: no figure, not a
	# negative one.
	if [ "${CELL[objmem,$peer]}" -lt 0 ]; then
		CELL[objmem,$peer]="n/a"
		NOTE[objmem]="n/a: the RSS did not grow with the objects (memory allocated up front)."
	fi
	log "  objmem/$peer: rss $before -> $mid -> $after KiB" \
	    "(first batch $(( (mid - before) * 1024 / n - 1024 )) B/object)"
}

# Memory per idle client connection: RSS with 10,000 idle keep-alive
# connections open, less the RSS before, per connection.
idlemem() {
	local peer=$1 before after n=10000 line lua
	# A few requests first, so that what the first one loads (libraries,
	# the first blocks of each size) is not counted as the connections'.
	lua=$(wrk_lua /1k "${MODE[$peer]}")
	taskset -c 1 wrk -t1 -c10 -d1s -s "$lua" \
	    "http://127.0.0.1:${PORT[$peer]}/" >/dev/null 2>&1 || true
	sleep 1
	# shellcheck disable=SC2086
	before=$(rss_kb ${CPUS[$peer]})
	coproc IDLE { exec taskset -c 1 python3 "$HERE/idle_conns.py" \
	    127.0.0.1 "${PORT[$peer]}" "http://127.0.0.1:$ORIGIN/1k" "$n" 120; }
	read -r line <&"${IDLE[0]}" || true
	sleep 1
	# shellcheck disable=SC2086
	after=$(rss_kb ${CPUS[$peer]})
	kill "$IDLE_PID" 2>/dev/null || true
	wait "$IDLE_PID" 2>/dev/null || true
	if [ "$line" != "ready $n" ]; then
		log "  idlemem/$peer: $line"
		CELL[idlemem,$peer]="-"
		return
	fi
	CELL[idlemem,$peer]=$(( (after - before) * 1024 / n ))
	log "  idlemem/$peer: rss $before -> $after KiB"
}

# Memory points on a fresh server each (nginx: the origin's worker, for
# idle connections only).  Idle connections get a server of their own:
# after objmem its heap has room to spare that they would fill unseen.
run_memory() {
	local peer=$1
	has_point objmem || has_point idlemem || return 0
	log "== memory/$peer"
	if [ "$peer" != nginx ] && has_point objmem; then
		start_peer "$peer"
		[ -n "${SKIP[$peer]:-}" ] && return 0
		objmem "$peer"
		stop_peer "$peer"
	fi
	has_point idlemem || return 0
	if [ "$peer" != nginx ]; then
		start_peer "$peer"
		[ -n "${SKIP[$peer]:-}" ] && return 0
	fi
	idlemem "$peer"
	stop_peer "$peer"
}

# -- hierarchies --------------------------------------------------------------
#
# The child is measured (its CPU alone), cuttle and Squid in turn with the
# same cache_peer lines and `cache deny all`, so that every request goes
# up:
#	hierc1k		1 KiB hits at a cuttle parent
#	hiers1k		1 KiB hits at a Squid parent
#	carpmiss1k	1 KiB misses through a CARP array of three cuttle
#			parents (each URL new: the parents fetch it)
# The parents share the servers' core with the child.

declare -A HPID

# hier_cuttle NAME PORT EXTRA - a cuttle on PORT with EXTRA conf lines;
# its PID in HPID[NAME].
hier_cuttle() {
	cat >"$work/$1.conf" <<EOF
http_port 127.0.0.1:$2
cache_mem 256 MB
access_log none
pid_filename $work/$1.pid
cache_effective_user $(id -un)
shutdown_lifetime 1 second
max_filedescriptors 65536
$3
EOF
	taskset -c 0 "$CUTTLE" -N -f "$work/$1.conf" 2>"$work/$1.err" &
	HPID[$1]=$!
	pids+=($!)
	wait_port "$2" "$!" || { tail -5 "$work/$1.err" >&2; return 1; }
}

# hier_squid NAME PORT EXTRA - the same, a Squid.
hier_squid() {
	mkdir -p "$work/$1"
	chmod 777 "$work/$1"
	cat >"$work/$1/squid.conf" <<EOF
http_port 127.0.0.1:$2
http_access allow localhost
http_access deny all
cache_mem 256 MB
memory_cache_mode always
access_log none
cache_store_log none
cache_log $work/$1/cache.log
pid_filename $work/$1/squid.pid
coredump_dir $work/$1
shutdown_lifetime 1 second
max_filedescriptors 65536
pinger_enable off
$3
EOF
	taskset -c 0 squid -N -f "$work/$1/squid.conf" 2>"$work/$1.err" &
	HPID[$1]=$!
	pids+=($!)
	wait_port "$2" "$!" || { tail -5 "$work/$1.err" >&2; return 1; }
}

hier_stop() {
	local n
	for n in "$@"; do
		[ -n "${HPID[$n]:-}" ] || continue
		kill "${HPID[$n]}" 2>/dev/null || true
		wait "${HPID[$n]}" 2>/dev/null || true
		unset "HPID[$n]"
	done
}

# hier_point KEY PEER_LINES - KEY's cuttle and Squid children, their runs
# interleaved; their rows go to $work/results as cuttle's and Squid's.
hier_point() {
	local key=$1 round cport sport i
	local lines="$2
never_direct allow all
cache deny all"
	local child=(cuttle squid)
	cport=$(free_port)
	sport=$(free_port)
	if ! hier_cuttle child-cuttle "$cport" "$lines" ||
	    ! hier_squid child-squid "$sport" "$lines"; then
		hier_stop child-cuttle child-squid
		log "  $key: a child did not start"
		return 0
	fi
	PORT[cuttle]=$cport
	CPUS[cuttle]=${HPID[child-cuttle]}
	PORT[squid]=$sport
	CPUS[squid]=${HPID[child-squid]}
	MODE[cuttle]=proxy
	MODE[squid]=proxy
	log "== $key"
	for round in $(seq "$RUNS"); do
		for i in 0 1; do
			one_run "$key" "${child[$(( (i + round - 1) % 2 ))]}" \
			    "$round"
		done
	done
	hier_stop child-cuttle child-squid
}

run_hier() {
	local key n=0 cpp spp c1 c2 c3
	for key in $HIER_LOADS; do
		has_point "$key" && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || return 0
	if ! command -v squid >/dev/null 2>&1 && [ ! -x /usr/sbin/squid ]; then
		log "hierarchy points skipped: no Squid"
		return 0
	fi
	cpp=$(free_port)
	spp=$(free_port)
	c1=$(free_port)
	c2=$(free_port)
	c3=$(free_port)
	hier_cuttle parent-cuttle "$cpp" "" &&
	    hier_squid parent-squid "$spp" "" &&
	    hier_cuttle carp-c1 "$c1" "cache deny all" &&
	    hier_cuttle carp-c2 "$c2" "cache deny all" &&
	    hier_cuttle carp-c3 "$c3" "cache deny all" || {
		hier_stop parent-cuttle parent-squid carp-c1 carp-c2 carp-c3
		log "hierarchy points skipped: a parent did not start"
		return 0
	}
	# The parents have the object before the children ask.
	curl -s -o /dev/null -x "http://127.0.0.1:$cpp" \
	    "http://127.0.0.1:$ORIGIN/1k" || true
	curl -s -o /dev/null -x "http://127.0.0.1:$spp" \
	    "http://127.0.0.1:$ORIGIN/1k" || true
	if has_point hierc1k; then
		hier_point hierc1k \
		    "cache_peer 127.0.0.1 parent $cpp 0 no-query no-digest name=par"
	fi
	if has_point hiers1k; then
		hier_point hiers1k \
		    "cache_peer 127.0.0.1 parent $spp 0 no-query no-digest name=par"
	fi
	if has_point carpmiss1k; then
		hier_point carpmiss1k \
		    "cache_peer 127.0.0.1 parent $c1 0 no-query no-digest carp name=c1
cache_peer 127.0.0.1 parent $c2 0 no-query no-digest carp name=c2
cache_peer 127.0.0.1 parent $c3 0 no-query no-digest carp name=c3"
	fi
	hier_stop parent-cuttle parent-squid carp-c1 carp-c2 carp-c3
}

# -- disk ------------------------------------------------------------------

DROP="no (not root, or /proc/sys/vm/drop_caches read-only)"
# drop_caches - the page cache dropped before a disk run, where allowed
drop_caches() {
	sync
	if { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		DROP=yes
	fi
	return 0
}

# restart_time PEER - fill DISK_OBJECTS 1 KiB objects, stop cleanly,
# start again: seconds until its index is whole (cuttle: mgr:disks says
# nothing loads; Squid: cache.log says the rebuild finished), and the
# objects it found.
restart_time() {
	local peer=$1 t0 t1 n="?" i c0
	BENCH_WRAP=$DISK_OBJECTS taskset -c 1 wrk -t1 -c50 \
	    -d"$((DISK_OBJECTS / 3000 + 5))s" \
	    -s "$(wrk_lua "/16k?fill-%d" proxy)" \
	    "http://127.0.0.1:${PORT[$peer]}/" >/dev/null 2>&1
	sleep 2
	stop_peer "$peer"
	drop_caches
	c0=$(grep -c 'Finished rebuilding storage' "$work/squid-cache.log" \
	    2>/dev/null || true)
	t0=$(date +%s.%N)
	start_peer "$peer"
	[ -n "${SKIP[$peer]:-}" ] && return 0
	for i in $(seq 1200); do
		if [ "$peer" = cuttle ]; then
			if curl -s "http://127.0.0.1:${PORT[cuttle]}/squid-internal-mgr/disks" |
			    grep -q '^disk.loading = 0$'; then
				n=$(grep -o '[0-9]* objects indexed' \
				    "$work/cuttle.err" | tail -1 | cut -d' ' -f1)
				break
			fi
		elif [ "$(grep -c 'Finished rebuilding storage' \
		    "$work/squid-cache.log" 2>/dev/null || true)" -gt \
		    "${c0:-0}" ] 2>/dev/null; then
			n=$(grep -o '[0-9]* Objects loaded' \
			    "$work/squid-cache.log" | tail -1 | cut -d' ' -f1)
			break
		fi
		sleep 0.05
	done
	t1=$(date +%s.%N)
	echo "$peer $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $n" \
	    >>"$work/restart"
	log "  restart/$peer: $(tail -1 "$work/restart")"
}

# proc_read_bytes PIDS - bytes the processes read from storage so far
proc_read_bytes() {
	local p t=0 b
	for p in "$@"; do
		b=$(awk '/^read_bytes:/ { print $2 }' "/proc/$p/io" \
		    2>/dev/null || echo 0)
		t=$((t + ${b:-0}))
	done
	echo "$t"
}

# cold_count KEY - how many distinct objects a cold point reads
cold_count() {
	case $1 in
	disk16kcold)	echo "$COLD_16K" ;;
	disk1mcold)	echo "$COLD_1M" ;;
	esac
}

# cold_fill KEY PEER - store the cold point's objects through PEER (one
# lap over them as misses, then hits until the time is up).
cold_fill() {
	local key=$1 peer=$2 n path lua secs
	n=$(cold_count "$key")
	path="/16k?cold-%d" secs=$((n / 2000 + 5))
	[ "$key" = disk1mcold ] && path="/1m?cold-%d" secs=$((n / 100 + 5))
	lua=$(wrk_lua "$path" "${MODE[$peer]}")
	BENCH_WRAP=$n taskset -c 1 wrk -t1 -c10 -d"${secs}s" -s "$lua" \
	    "http://127.0.0.1:${PORT[$peer]}/" >/dev/null 2>&1 || true
	sleep 2			# written out (cuttle flushes every second)
	log "  $key/$peer: $n objects stored"
}

# run_cold KEY PEER PORT CONNS PATH - one measured run over the cold
# point's objects, the page cache dropped first, no warm-up; prints
# what run_wrk prints.
run_cold() {
	local key=$1 peer=$2 port=$3 conns=$4 path=$5 r b0 b1
	drop_caches
	# shellcheck disable=SC2086
	b0=$(proc_read_bytes $TARGET_PIDS)
	r=$(WARM=0 BENCH_WRAP=$(cold_count "$key") run_wrk "$port" "$conns" \
	    none "$(wrk_lua "$path" "${MODE[$peer]}")")
	# shellcheck disable=SC2086
	b1=$(proc_read_bytes $TARGET_PIDS)
	log "  $key/$peer: $(( (b1 - b0) >> 20 )) MiB read from storage"
	echo "$r"
}

run_disk() {
	local key p any=0
	for key in $DISK_LOADS diskrestart; do
		has_point "$key" && any=1
	done
	[ "$any" = 1 ] || return 0
	DISKMODE=1
	MAXOBJ="128 MB"		# 64 MiB bodies and their headers
	drop_caches		# once: whether it can (the hits run warm)
	for p in squid cuttle; do
		has_peer "$p" && start_peer "$p"
	done
	for key in $DISK_LOADS; do
		has_point "$key" || continue
		if [[ $key == disk*cold ]]; then
			for p in $(running_peers "$key"); do
				cold_fill "$key" "$p"
			done
		fi
		interleave "$key"
	done
	if has_point diskrestart; then
		: >"$work/restart"
		for p in squid cuttle; do
			has_peer "$p" || continue
			[ -n "${SKIP[$p]:-}" ] && continue
			restart_time "$p"
		done
	fi
	for p in squid cuttle; do
		stop_peer "$p"
	done
	DISKMODE=0
	MAXOBJ="64 MB"
}

disk_report() {
	has_point diskrestart || return 0
	[ -s "$work/restart" ] || return 0
	echo
	echo "Disk: restart with the store holding about $DISK_OBJECTS 16 KiB" \
	    "objects (filled through the proxy), a clean stop, the page" \
	    "cache dropped: $DROP."
	echo
	echo "| peer | seconds to a whole index | objects found |"
	echo "|---|---:|---:|"
	awk '{ printf "| %s | %.2f | %s |\n", $1, $2, $3 }' "$work/restart"
}

# -- the table ---------------------------------------------------------------

report() {
	local p head sep key label c
	local shown=()
	for p in $ALL_PEERS; do
		has_peer "$p" && shown+=("$p")
	done
	head="| point | metric |"
	sep="|---|---|"
	for p in "${shown[@]}"; do
		head="$head ${NAME[$p]} |"
		sep="$sep---:|"
	done
	for p in "${shown[@]}"; do
		[ "$p" = cuttle ] && continue
		head="$head ${NAME[$p]%% (*}/cuttle |"
		sep="$sep---:|"
	done
	echo
	echo "$head"
	echo "$sep"
	for key in $LOADS $HIER_LOADS $AUTH_LOADS $DISK_LOADS; do
		has_point "$key" || continue
		case $key in
		hierc1k)	label="1 KiB hits at a cuttle parent, through the child" ;;
		hiers1k)	label="1 KiB hits at a Squid parent, through the child" ;;
		carpmiss1k)	label="1 KiB misses through a CARP array of 3 cuttle parents" ;;
		auth1k)		label="1 KiB hits, 50 conns, basic auth (cached) and store_id_program" ;;
		hit1k50)	label="1 KiB hits, 50 conns" ;;
		hit1k500)	label="1 KiB hits, 500 conns" ;;
		hit64k)		label="64 KiB hits, 10 conns" ;;
		hit1m)		label="1 MiB hits, 10 conns" ;;
		hit16m)		label="16 MiB hits, 10 conns" ;;
		miss1k)		label="1 KiB misses, 50 conns" ;;
		newconn1k)	label="1 KiB hits, new conn each" ;;
		tls1k)		label="TLS: 1 KiB hits, 50 conns" ;;
		tls1m)		label="TLS: 1 MiB hits, 10 conns" ;;
		tlsnew1k)	label="TLS: 1 KiB hits, new conn (full handshake) each" ;;
		tlsresume1k)	label="TLS: 1 KiB hits, new conn (resumed session) each" ;;
		bumptls1k)	label="https_port, bump_load: 1 KiB hits, 50 conns" ;;
		bump1k)		label="ssl_bump: 1 KiB hits, 50 kept tunnels" ;;
		bump1m)		label="ssl_bump: 1 MiB hits, 10 kept tunnels" ;;
		bumpnew)	label="ssl_bump: new tunnel each, certificate cached" ;;
		bumpcold)	label="ssl_bump: new tunnel each, certificate minted" ;;
		disk16k)	label="disk: 16 KiB hits, 10 conns" ;;
		disk1m)		label="disk: 1 MiB hits, 10 conns" ;;
		disk64m)	label="disk: 64 MiB hits, 4 conns" ;;
		disk16kcold)	label="disk: 16 KiB hits, page cache dropped, $COLD_16K objects, 10 conns" ;;
		disk1mcold)	label="disk: 1 MiB hits, page cache dropped, $COLD_1M objects, 10 conns" ;;
		diskfill)	label="disk: 16 KiB misses stored, 10 conns" ;;
		diskfill1m)	label="disk: 1 MiB misses stored, 10 conns" ;;
		diskfill64m)	label="disk: 64 MiB misses stored, 4 conns" ;;
		esac
		for c in 4:"req/s" 5:"MB/s" 6:"p50 ms" 7:"p99 ms" 8:"CPU %" \
		    9:"req/CPU-s"; do
			awk -v key="$key" -v label="$label" -v col="${c%%:*}" \
			    -v metric="${c#*:}" -v peers="${shown[*]}" '
			function sort(a, n,   i, j, t) {
				for (i = 2; i <= n; i++)
					for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
						t = a[j]; a[j] = a[j - 1]
						a[j - 1] = t
					}
			}
			function median(a, n) {
				sort(a, n)
				return n % 2 ? a[(n + 1) / 2] : \
				    (a[n / 2] + a[n / 2 + 1]) / 2
			}
			function num(x) {
				if (x >= 10 || x == int(x))
					return sprintf("%.0f", x)
				return sprintf("%.2f", x)
			}
			$1 == key && $col != "-" {
				v[$2, $3] = $col
				if ($3 > nr) nr = $3
			}
			END {
				np = split(peers, P, " ")
				line = "| " (col == 4 ? label : "") " | " metric " |"
				for (i = 1; i <= np; i++) {
					n = 0
					for (r = 1; r <= nr; r++)
						if ((P[i], r) in v)
							a[++n] = v[P[i], r] + 0
					if (n == 0) { line = line " - |"; continue }
					m = median(a, n)
					line = line sprintf(" %s (%s-%s) |",
					    num(m), num(a[1]), num(a[n]))
				}
				for (i = 1; i <= np; i++) {
					if (P[i] == "cuttle") continue
					n = 0
					for (r = 1; r <= nr; r++)
						if ((P[i], r) in v && ("cuttle", r) in v &&
						    v["cuttle", r] > 0)
							a[++n] = v[P[i], r] / v["cuttle", r]
					line = line (n ? sprintf(" %.2f |",
					    median(a, n)) : " - |")
				}
				print line
			}' "$work/results"
		done
	done
	for key in objmem idlemem; do
		has_point "$key" || continue
		if [ "$key" = objmem ]; then
			printf '| memory per cached 1 KiB object | bytes beyond the body |'
		else
			printf '| memory per idle client connection | bytes |'
		fi
		for p in "${shown[@]}"; do
			printf ' %s |' "${CELL[$key,$p]:--}"
		done
		for p in "${shown[@]}"; do
			[ "$p" = cuttle ] && continue
			awk -v a="${CELL[$key,$p]:--}" -v b="${CELL[$key,cuttle]:--}" \
			    'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
				printf " %.2f |", a / b; else printf " - |" }'
		done
		echo
	done
	echo
	echo "Each cell: median (min-max) of $RUNS interleaved runs of ${DUR} s" \
	    "(after ${WARM} s of warm-up); peer/cuttle: median of the" \
	    "same-round ratios.  Varnish is a reverse proxy for the origin" \
	    "(it cannot be a forward proxy); the others are forward proxies."
	[ -n "${NOTE[objmem]:-}" ] && echo "Memory per cached object ${NOTE[objmem]}"
	[ -n "${AUTH_SKIP:-}" ] && has_point auth1k &&
	    echo "auth1k: skipped, ${AUTH_SKIP}."
	for p in "${shown[@]}"; do
		[ -n "${SKIP[$p]:-}" ] && echo "${NAME[$p]}: skipped, ${SKIP[$p]}."
	done
	echo
	echo "$(nproc) cores, $(uname -r); cuttle $("$CUTTLE" -v 2>&1 | head -1)"
	echo "$(nginx -v 2>&1 | head -1)"
	has_peer squid && command -v squid >/dev/null 2>&1 &&
	    squid -v | head -1
	has_peer varnish && command -v varnishd >/dev/null 2>&1 &&
	    varnishd -V 2>&1 | head -1
	has_peer ats && command -v traffic_server >/dev/null 2>&1 &&
	    traffic_server -V 2>&1 | grep -m1 'Traffic Server'
	return 0
}

install_missing
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_origin
: >"$work/results"
n_loads=0
for key in $LOADS; do
	has_point "$key" && n_loads=$((n_loads + 1))
done
if [ "$n_loads" -gt 0 ]; then
	for p in $ALL_PEERS; do
		has_peer "$p" && start_peer "$p"
	done
	log "about $(( n_loads * RUNS * $(wc -w <<<"$PEERS") * (DUR + WARM + 1) \
	    / 60 + 1 )) minutes of load"
	for key in $LOADS; do
		has_point "$key" && interleave "$key"
	done
	for p in $ALL_PEERS; do
		stop_peer "$p"
	done
fi
run_hier
# auth1k: cuttle and Squid again, with the auth and store_id lines.
AUTH_SKIP=
if has_point auth1k && prepare_auth; then
	AUTH=1
	for p in cuttle squid; do
		has_peer "$p" && start_peer "$p"
	done
	interleave auth1k
	for p in cuttle squid; do
		stop_peer "$p"
	done
	AUTH=
fi
for p in $ALL_PEERS; do
	has_peer "$p" && run_memory "$p"
done
run_disk
report
disk_report
