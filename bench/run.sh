#!/usr/bin/env bash
# run.sh -- `make bench`: synack side by side with nginx on the kernel's TCP,
# and the TUN device's own ceiling, in one run.  See docs/performance.md.
#
# Workloads, each at every MTU in BENCH_MTUS (1500 and 65535):
#   A  keep-alive small requests: wrk -t1 -c32 -d10s on a 1 KiB file
#   B  a new connection per request: the same with "Connection: close"
#   C  bulk: wrk -t1 -c1 -d5s on a 100 MiB file; its sha256 checked once
#   D  memory: synackd's RSS idle, its peak after A, after B and once B's
#      TIME-WAITs are over, and holding 10,000 idle connections (opened
#      only; then again after one request each)
#   E  server CPU time per request in A and B, from /proc/PID/stat
#   F  the ceiling: bench/tun_ceiling writing 1500- and 65535-byte packets
#      to a TUN fd, one write() each
# synackd runs on a TUN in a namespace of its own with wrk beside it on the
# kernel's side; nginx (Debian's, one process, access_log off, sendfile on)
# runs in a second namespace with wrk in a third, joined by a veth pair at
# the same MTU.  Servers on CPU 0, clients on CPU 1
# (BENCH_CLIENT_CPUS).  Rounds interleave the
# two servers (the order alternates) and the table shows medians.
#
# Network safety: everything runs inside namespaces this script creates
# (ip netns add) and deletes on exit; every address is inside them; every
# load is bounded in time; only PIDs this script started are ever killed.
#
# Knobs (environment):
#   BENCH_ROUNDS=3  BENCH_MTUS="1500 65535"  BENCH_A_SECONDS=10
#   BENCH_C_SECONDS=5  BENCH_IDLE_CONNS=10000  BENCH_DRAIN=1 (wait out
#   TIME-WAIT after B in the last round)  BENCH_OUT=dir (default
#   build/bench/results-DATE)  SYNACKD=path (default build/synackd)
#   BENCH_SYNACK_FLAGS="..." (extra synackd flags for every run, e.g.
#   --no-offload)  BENCH_SYNACK_LABEL=text (the version named in the table; default git
#   describe of this tree)
#   BENCH_CLIENT_CPUS=1 (taskset list for the clients, e.g. 1-3)
#   BENCH_WRK_THREADS=1 (wrk -t for A and B): the issue's client is one
#   thread on one core, which is B's bound on a 2-CPU machine; on a bigger
#   one these let the client outrun both servers
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

ROUNDS=${BENCH_ROUNDS:-3}
MTUS=${BENCH_MTUS:-1500 65535}
A_SEC=${BENCH_A_SECONDS:-10}
C_SEC=${BENCH_C_SECONDS:-5}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
DRAIN=${BENCH_DRAIN:-1}
SYNACKD=${SYNACKD:-$repo/build/synackd}
read -r -a SYNACK_FLAGS <<<"${BENCH_SYNACK_FLAGS:-}"
CEILING=$repo/build/bench/tun_ceiling
IDLE_CONNS=$repo/build/bench/idle_conns
WRK_LUA=$here/wrk_report.lua
SERVER_CPU=0
CLIENT_CPU=${BENCH_CLIENT_CPUS:-1}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
MSL_SEC=30            # synackd's default --msl; TIME-WAIT lasts 2*MSL
ADDR=10.0.0.2         # the server, in both set-ups
CLIENT_ADDR=10.0.0.1

die() { echo "bench: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, TUN devices); run: sudo make bench"
for f in "$SYNACKD" "$CEILING" "$IDLE_CONNS"; do
    [[ -x $f ]] || die "$f is missing; run: make bench (it builds it)"
done
command -v wrk >/dev/null && command -v nginx >/dev/null && command -v ip >/dev/null ||
    die "wrk, nginx and ip are needed; run: bench/deps.sh"
[[ $(nproc) -ge 2 ]] || die "needs 2 CPUs: the server and the client are pinned apart"

# cpu_list LIST: the distinct CPU numbers of a taskset list such as 1-3,5,
# one per line; false for anything else (a range must go upwards).
cpu_list() {
    local part
    for part in ${1//,/ }; do
        [[ $part =~ ^([0-9]+)(-([0-9]+))?$ ]] || return 1
        ((${BASH_REMATCH[3]:-${BASH_REMATCH[1]}} >= BASH_REMATCH[1])) || return 1
        seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}"
    done | sort -un
    return "${PIPESTATUS[0]}"
}
CLIENT_CPU_LIST=$(cpu_list "$CLIENT_CPU") && [[ -n $CLIENT_CPU_LIST ]] ||
    die "BENCH_CLIENT_CPUS=$CLIENT_CPU: not a CPU list (e.g. 1 or 1-3,5)"
grep -qx "$SERVER_CPU" <<<"$CLIENT_CPU_LIST" &&
    die "BENCH_CLIENT_CPUS=$CLIENT_CPU: includes CPU $SERVER_CPU, the server's"
taskset -c "$CLIENT_CPU" true 2>/dev/null ||
    die "BENCH_CLIENT_CPUS=$CLIENT_CPU: taskset cannot run there (a CPU offline or not allowed)"
CLIENT_NCPUS=$(wc -l <<<"$CLIENT_CPU_LIST")
# wrk gives each thread connections/threads of the 32: it must divide them.
[[ $WRK_THREADS =~ ^[0-9]+$ ]] && ((WRK_THREADS >= 1 && WRK_THREADS <= 32 && 32 % WRK_THREADS == 0)) ||
    die "BENCH_WRK_THREADS=$WRK_THREADS: must divide wrk's 32 connections (1, 2, 4, 8, 16 or 32)"

# Open files: 10,000 client sockets, and as many on nginx's side.  Only the
# soft limit is raised (to the hard one): raising the hard limit needs
# CAP_SYS_RESOURCE, which a container may not have.
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
((NOFILE > 1048576)) && NOFILE=1048576
ulimit -Sn "$NOFILE" || die "cannot raise the open-file limit to $NOFILE"
((NOFILE >= IDLE_N + 256)) ||
    die "open-file hard limit $NOFILE is too low for $IDLE_N connections (BENCH_IDLE_CONNS)"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$repo/build/bench/results-$stamp}
mkdir -p "$OUT" || die "cannot create $OUT"
RAW=$OUT/raw.txt
: >"$RAW"
tmp=$(mktemp -d /tmp/synack-bench.XXXXXX)
id=$$
NS_SYN=synack-bench-$id-syn     # synackd and its client
NS_SRV=synack-bench-$id-srv     # nginx
NS_CLI=synack-bench-$id-cli     # nginx's client
NS_CEIL=synack-bench-$id-ceil   # the ceiling program
namespaces=()
pids=()
t0=$SECONDS

cleanup() {
    local p ns
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

say() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*"; }
# record KEY=VALUE...: one line of raw results.
record() { echo "$*" >>"$RAW"; }

# ---- namespaces ----------------------------------------------------------

host_netns=$(readlink /proc/self/ns/net)

netns_new() {
    ip netns add "$1" || die "cannot create network namespace $1"
    namespaces+=("$1")
    [[ $(ip netns exec "$1" readlink /proc/self/ns/net) != "$host_netns" ]] ||
        die "namespace $1 is the host's; refusing to run"
    ip -n "$1" link set lo up
    # Room for 10,000 connections' handshakes.  These are the namespace's
    # own settings; the host's are untouched.  The client's port range stays
    # Linux's default (32768-60999) except in D.
    ip netns exec "$1" sysctl -qw net.core.somaxconn=65535 \
        net.ipv4.tcp_max_syn_backlog=65535 >/dev/null
}

# in_ns NS CPU CMD...: CMD inside namespace NS, pinned to CPU, in the
# foreground.
in_ns() {
    local ns=$1 cpu=$2
    shift 2
    ip netns exec "$ns" taskset -c "$cpu" "$@"
}

# spawn NS CPU OUT ERR CMD...: the same in the background, stdout to OUT,
# stderr appended to ERR; its PID in $spawned.  ip netns exec and taskset
# both exec, so that PID is CMD's own: the one we read and later kill.
spawn() {
    local ns=$1 cpu=$2 out=$3 err=$4
    shift 4
    ip netns exec "$ns" taskset -c "$cpu" "$@" >"$out" 2>>"$err" &
    spawned=$!
    pids+=("$spawned")
}

netns_new "$NS_SYN"
netns_new "$NS_SRV"
netns_new "$NS_CLI"
netns_new "$NS_CEIL"
ip -n "$NS_SRV" link add veth-srv type veth peer name veth-cli netns "$NS_CLI" ||
    die "cannot create the veth pair"
ip -n "$NS_SRV" addr add "$ADDR/24" dev veth-srv
ip -n "$NS_CLI" addr add "$CLIENT_ADDR/24" dev veth-cli

set_veth_mtu() {
    ip -n "$NS_SRV" link set veth-srv mtu "$1" up
    ip -n "$NS_CLI" link set veth-cli mtu "$1" up
}

# ---- the files served ----------------------------------------------------

WWW=$tmp/www
mkdir -p "$WWW"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$WWW/100m.bin"
SHA_100M=$(sha256sum "$WWW/100m.bin" | cut -d' ' -f1)

cat >"$tmp/nginx.conf" <<EOF
# One process (master_process off: it is the worker), so its PID is the one
# whose CPU and RSS we read.
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections $((IDLE_N + 1024)); }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    keepalive_timeout 3600s;
    client_header_timeout 3600s;
    types { application/octet-stream bin; }
    default_type application/octet-stream;
    client_body_temp_path $tmp/nginx-body;
    proxy_temp_path $tmp/nginx-proxy;
    fastcgi_temp_path $tmp/nginx-fastcgi;
    uwsgi_temp_path $tmp/nginx-uwsgi;
    scgi_temp_path $tmp/nginx-scgi;
    server {
        listen $ADDR:80 backlog=4096;
        root $WWW;
    }
}
EOF

# ---- reading a process ---------------------------------------------------

# cpu_ticks PID: utime and stime, in clock ticks.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat" 2>/dev/null || echo "0 0"; }
# kb PID FIELD: a VmRSS/VmHWM line of /proc/PID/status, in KiB.
kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# sched_ns PID: time on the CPU, nanoseconds (user and system together).
sched_ns() { awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }

# core_busy: "busy0 total0 busy1 total1" jiffies of the server's CPU and of
# the client's CPUs together.
core_busy() {
    awk -v s="cpu$SERVER_CPU" -v cl="$(tr '\n' ' ' <<<"$CLIENT_CPU_LIST")" '
        BEGIN { n = split(cl, l, " "); for (i = 1; i <= n; i++) c["cpu" l[i]] = 1 }
        $1 == s || ($1 in c) { t = 0; for (i = 2; i <= NF; i++) t += $i
                               if ($1 == s) { sb = t - $5 - $6; st = t }
                               else { cb += t - $5 - $6; ct += t } }
        END { print sb, st, cb + 0, ct + 0 }' /proc/stat
}

alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS.
wait_for() {
    local tries=$(($1 * 10))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# stop PID: SIGTERM, then SIGKILL after 5 s; only PIDs we started.
stop() {
    local p=$1
    kill -TERM "$p" 2>/dev/null
    wait_for 5 eval "! alive $p" || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    local keep=()
    for q in "${pids[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
    pids=("${keep[@]}")
}

# ---- starting servers ----------------------------------------------------

# start_synack MTU NAME [FLAGS...]: synackd in $NS_SYN; PID in $server.
start_synack() {
    local mtu=$1 name=$2
    shift 2
    spawn "$NS_SYN" "$SERVER_CPU" "$OUT/$name.out" "$OUT/$name.err" \
        "$SYNACKD" --mtu "$mtu" --root "$WWW" "${SYNACK_FLAGS[@]}" "$@"
    server=$spawned current=$name
    wait_for 5 grep -qs '^listening on ' "$OUT/$name.out" ||
        die "synackd did not start; see $OUT/$name.err"
    [[ $(cat "/proc/$server/comm" 2>/dev/null) == synackd ]] ||
        die "PID $server is not synackd; not measuring the wrong process"
    CLIENT_NS=$NS_SYN
}

# start_nginx MTU NAME: nginx in $NS_SRV; PID in $server.
start_nginx() {
    local mtu=$1 name=$2
    set_veth_mtu "$mtu"
    spawn "$NS_SRV" "$SERVER_CPU" "$OUT/$name.out" "$OUT/$name.err" \
        nginx -e "$OUT/$name.err" -c "$tmp/nginx.conf"
    server=$spawned current=$name
    CLIENT_NS=$NS_CLI
    wait_for 5 ip netns exec "$NS_CLI" curl -s -o /dev/null --max-time 1 "http://$ADDR/1k.bin" ||
        die "nginx did not start; see $OUT/$name.err"
    [[ $(cat "/proc/$server/comm" 2>/dev/null) == nginx ]] ||
        die "PID $server is not nginx; not measuring the wrong process"
}

# ---- one workload --------------------------------------------------------

# load NAME SECONDS WRK-ARGS...: wrk for SECONDS from $CLIENT_NS on the
# client CPU.  Leaves wrk_line (its report line), cpu_user_us/cpu_sys_us
# (the server's, from /proc/PID/stat), sched_us (its run time from
# /proc/PID/schedstat, to the nanosecond), busy (both cores' load) and
# client_core_us (the client core's busy time, whoever ran on it: wrk and
# the kernel work its system calls cause).
# wrk waits forever for a connection whose SYN is never answered, and then
# ignores SIGINT too: `timeout` bounds it, and such a run is recorded as
# wrk_hung=1 with nothing measured.
load() {
    local name=$1 sec=$2 c0 c1 b0 b1 x0 x1
    shift 2
    c0=$(cpu_ticks "$server") x0=$(sched_ns "$server") b0=$(core_busy)
    in_ns "$CLIENT_NS" "$CLIENT_CPU" timeout -k 5 $((sec + 20)) \
        wrk -s "$WRK_LUA" -d"${sec}s" "$@" >"$OUT/$name.wrk" 2>&1
    b1=$(core_busy) x1=$(sched_ns "$server") c1=$(cpu_ticks "$server")
    wrk_line=$(grep '^wrk ' "$OUT/$name.wrk" | tail -n 1)
    if [[ -z $wrk_line ]]; then
        wrk_line="wrk requests=0 bytes=0 duration_us=1 err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0 p50_us=0 p99_us=0 wrk_hung=1"
        say "$name: wrk did not finish within $((sec + 20)) s (a connection never opened?); recorded as 0"
    fi
    read -r u0 s0 <<<"$c0"
    read -r u1 s1 <<<"$c1"
    cpu_user_us=$(((u1 - u0) * TICK_US))
    cpu_sys_us=$(((s1 - s0) * TICK_US))
    sched_us=$(((x1 - x0) / 1000))
    read -r sb0 st0 cb0 ct0 <<<"$b0"
    read -r sb1 st1 cb1 ct1 <<<"$b1"
    busy="server_cpu_busy=$(((sb1 - sb0) * 100 / (st1 - st0 > 0 ? st1 - st0 : 1))) client_cpu_busy=$(((cb1 - cb0) * 100 / (ct1 - ct0 > 0 ? ct1 - ct0 : 1)))"
    busy+=" client_core_us=$(((cb1 - cb0) * TICK_US))"
}

# field KEY: a value from $wrk_line.
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$wrk_line"; }

# counters: a few of synackd's counters so far (cumulative), asked for with
# SIGUSR1 and read back from its stderr; nothing for nginx.
counters() {
    [[ $(cat "/proc/$server/comm" 2>/dev/null) == synackd ]] || return 0
    local err=$OUT/$current.err n
    n=$(grep -c '^synackd counters:' "$err" 2>/dev/null)
    kill -USR1 "$server"
    wait_for 2 eval '(( $(grep -c "^synackd counters:" "$err") > n ))' &&
        sleep 0.05 # the rest of the block
    awk '/^synackd counters:/ { delete c } 
         / TCP_TABLE_FULL / { c["table_full"] = $1 }
         / segments retransmitted$/ { c["rexmit"] = $1 }
         / retransmission timeouts$/ { c["rto"] = $1 }
         / TUN writes dropped, queue full$/ { c["tun_full"] = $1 }
         / TCP super-segments the link split \(GSO\)$/ { c["gso"] = $1 }
         END { printf "ctr_table_full=%d ctr_rexmit=%d ctr_rto=%d ctr_tun_full=%d ctr_gso=%d",
               c["table_full"], c["rexmit"], c["rto"], c["tun_full"], c["gso"] }' "$err"
}

# measured: what every workload line carries after its own numbers.
measured() {
    echo "$wrk_line cpu_user_us=$cpu_user_us cpu_sys_us=$cpu_sys_us sched_us=$sched_us $busy" \
        "hwm_kb=$(kb "$server" VmHWM) rss_kb=$(kb "$server" VmRSS) $(counters)"
}

URL=http://$ADDR

# workloads SERVER MTU ROUND: A, C, then B against the server just started.
# B goes last: the TIME-WAITs it leaves behind must not weigh on the others.
workloads() {
    local srv=$1 mtu=$2 r=$3 tag="$1-$2-r$3" req dur errs
    local base="round=$r mtu=$mtu server=$srv"

    record "$base workload=idle rss_kb=$(kb "$server" VmRSS)"

    load "$tag-A" "$A_SEC" -t"$WRK_THREADS" -c32 "$URL/1k.bin"
    req=$(field requests) dur=$(field duration_us)
    record "$base workload=A rps=$((req * 1000000 / dur)) $(measured)"
    say "round $r mtu $mtu $srv A: $((req * 1000000 / dur)) req/s," \
        "$(((cpu_user_us + cpu_sys_us) / (req > 0 ? req : 1))) us CPU/req"

    load "$tag-C" "$C_SEC" -t1 -c1 --timeout 10s "$URL/100m.bin"
    dur=$(field duration_us)
    record "$base workload=C mbps=$(($(field bytes) / dur)) $(measured)"
    say "round $r mtu $mtu $srv C: $(($(field bytes) / dur)) MB/s"

    # Round 1: one whole download, hashed (before B, whose TIME-WAITs could
    # hold up a new connection).
    ((r == 1)) && sha_check "$srv" "$mtu"

    load "$tag-B" "$A_SEC" -t"$WRK_THREADS" -c32 -H "Connection: close" "$URL/1k.bin"
    req=$(field requests) dur=$(field duration_us)
    B_END=$SECONDS
    errs=$(($(field err_connect) + $(field err_read) + $(field err_write) + $(field err_status) + $(field err_timeout)))
    record "$base workload=B rps=$((req * 1000000 / dur)) $(measured)"
    say "round $r mtu $mtu $srv B: $((req * 1000000 / dur)) conn/s, socket errors $errs"
}

# sha_check SERVER MTU: one whole download of the 100 MiB file, hashed.
sha_check() {
    local got
    got=$(ip netns exec "$CLIENT_NS" timeout 90 curl -s --max-time 80 "$URL/100m.bin" | sha256sum | cut -d' ' -f1)
    record "round=1 mtu=$2 server=$1 workload=sha ok=$([[ $got == "$SHA_100M" ]] && echo 1 || echo 0)"
    [[ $got == "$SHA_100M" ]] && say "$1 mtu $2: 100 MiB download sha256 matches" ||
        say "$1 mtu $2: 100 MiB download sha256 MISMATCH ($got)"
}

synack_round() {
    local mtu=$1 r=$2 wait_left
    start_synack "$mtu" "synack-$mtu-r$r"
    workloads synack "$mtu" "$r"
    if ((r == ROUNDS && DRAIN)); then
        wait_left=$((B_END + 2 * MSL_SEC + 2 - SECONDS))
        if ((wait_left > 0)); then
            say "synack mtu $mtu: waiting ${wait_left}s for B's TIME-WAITs (2*MSL) to end"
            sleep "$wait_left"
        fi
        record "round=$r mtu=$mtu server=synack workload=drain rss_kb=$(kb "$server" VmRSS)"
        say "synack mtu $mtu: RSS $(kb "$server" VmRSS) KiB once B's TIME-WAITs are over"
    fi
    stop "$server" # synackd prints its counters as it exits
}

nginx_round() {
    local mtu=$1 r=$2
    start_nginx "$mtu" "nginx-$mtu-r$r"
    workloads nginx "$mtu" "$r"
    stop "$server"
}

# memory SERVER MTU: RSS idle, then with IDLE_N idle connections, then with
# IDLE_N connections that each made one request first.
memory() {
    local srv=$1 mtu=$2 base="round=1 mtu=$2 server=$1" how client line range more=()
    if [[ $srv == synack ]]; then
        # The default --max-conns (16384) has room; --idle-timeout at its
        # maximum keeps the connections open while we look.
        ((IDLE_N + 1024 > 16384)) && more=(--max-conns $((IDLE_N + 1024)))
        start_synack "$mtu" "synack-$mtu-mem" --backlog 4096 --idle-timeout 3600 "${more[@]}"
    else
        start_nginx "$mtu" "nginx-$mtu-mem"
    fi
    record "$base workload=D_idle rss_kb=$(kb "$server" VmRSS)"
    # The client closes the first 10,000 itself, so it holds their
    # TIME-WAITs: give it ports enough for the second 10,000 too.
    range=$(ip netns exec "$CLIENT_NS" sysctl -n net.ipv4.ip_local_port_range)
    ip netns exec "$CLIENT_NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
    for how in open request; do
        spawn "$CLIENT_NS" "$CLIENT_CPU" "$OUT/$srv-$mtu-D-$how.txt" "$OUT/$srv-$mtu-D-$how.err" \
            "$IDLE_CONNS" "$ADDR" 80 "$IDLE_N" 120 $([[ $how == request ]] && echo /1k.bin)
        client=$spawned
        wait_for 90 grep -qs '^ready ' "$OUT/$srv-$mtu-D-$how.txt"
        sleep 1 # let the last ACKs land
        line=$(grep '^ready ' "$OUT/$srv-$mtu-D-$how.txt")
        [[ -n $line ]] || line="ready open=0 failed=$IDLE_N seconds=90 incomplete=1"
        record "$base workload=D_$how rss_kb=$(kb "$server" VmRSS) ${line#ready }"
        say "$srv mtu $mtu: $IDLE_N idle connections ($how): RSS $(kb "$server" VmRSS) KiB; ${line#ready }"
        stop "$client"
        sleep 1
    done
    ip netns exec "$CLIENT_NS" sysctl -qw net.ipv4.ip_local_port_range="$range"
    stop "$server"
}

# ---- the run -------------------------------------------------------------

# Other work on the machine skews every number: say so, and keep it with
# the results.
all_busy() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
read -r ab0 at0 <<<"$(all_busy)"
sleep 1
read -r ab1 at1 <<<"$(all_busy)"
busy_before=$(((ab1 - ab0) * 100 / (at1 - at0 > 0 ? at1 - at0 : 1)))
if ((busy_before > 5)); then
    say "WARNING: the machine was ${busy_before}% busy before the bench started;" \
        "other work skews the results:"
    ps -eo pid,pcpu,comm --sort=-pcpu | head -n 4 | sed 's/^/    /'
fi
{
    echo "busy_before=$busy_before"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc)"
    echo "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "synack=${BENCH_SYNACK_LABEL:-$(cd "$repo" && git describe --always --dirty 2>/dev/null)}${BENCH_SYNACK_FLAGS:+ $BENCH_SYNACK_FLAGS}"
    echo "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')"
    echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{print $2}')"
    echo "rounds=$ROUNDS"
    echo "server_cpu=$SERVER_CPU"
    echo "client_cpus=$CLIENT_CPU"
    echo "client_ncpus=$CLIENT_NCPUS"
    echo "wrk_threads=$WRK_THREADS"
} >"$OUT/machine.txt"
say "results in $OUT"
say "$ROUNDS rounds x MTUs ($MTUS) x {synack, nginx} x {A ${A_SEC}s, B ${A_SEC}s, C ${C_SEC}s}, then D and F"

for ((r = 1; r <= ROUNDS; r++)); do
    for mtu in $MTUS; do
        if ((r % 2)); then
            synack_round "$mtu" "$r"
            nginx_round "$mtu" "$r"
        else
            nginx_round "$mtu" "$r"
            synack_round "$mtu" "$r"
        fi
    done
    in_ns "$NS_CEIL" "$SERVER_CPU" "$CEILING" 2 csum 1500 65535 >"$OUT/ceiling-r$r.txt" 2>&1
    while read -r line; do
        record "round=$r server=ceiling ${line#ceiling }"
    done < <(grep '^ceiling ' "$OUT/ceiling-r$r.txt")
    say "round $r ceiling: $(grep '^ceiling ' "$OUT/ceiling-r$r.txt" | awk '{print $3, $6, $7}' | tr '\n' ' ')"
done
in_ns "$NS_CEIL" "$SERVER_CPU" "$CEILING" 2 nocsum 1500 65535 >"$OUT/ceiling-nocsum.txt" 2>&1
while read -r line; do
    record "round=1 server=ceiling ${line#ceiling }"
done < <(grep '^ceiling ' "$OUT/ceiling-nocsum.txt")

for mtu in $MTUS; do
    memory synack "$mtu"
    memory nginx "$mtu"
done

say "done in $((SECONDS - t0)) s"
/usr/bin/python3 "$here/report.py" "$OUT" | tee "$OUT/table.md"
