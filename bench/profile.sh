#!/usr/bin/env bash
# profile.sh -- where synackd's time goes under a bench workload: perf
# samples synackd (its own code and the kernel work done in its context)
# while wrk drives it, then prints the top symbols.  Not part of `make
# bench` (perf disturbs what it measures); see docs/performance.md.
#
#   sudo bench/profile.sh [WORKLOAD [MTU [SECONDS]]]
#       WORKLOAD  A (keep-alive 1 KiB, default), B (new connection per
#                 request) or C (bulk 100 MiB)
#       MTU       1500 (default) or any synackd --mtu
#       SECONDS   how long to sample (default 8)
#
# Needs linux-perf.  Hardware counters are not needed (they are often
# missing in VMs: `perf stat -e instructions true` says "not supported"):
# the software clock (cpu-clock) samples at PERF_FREQ Hz (default 4999).
# Output goes to PROFILE_OUT (default build/bench/profile-WORKLOAD-MTU):
# perf.data files and the reports as text.  The same safety rules as
# run.sh: a namespace of its own, removed on exit; only PIDs it started.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
WL=${1:-A}
MTU=${2:-1500}
SEC=${3:-8}
FREQ=${PERF_FREQ:-4999}
SYNACKD=${SYNACKD:-$repo/build/synackd}
OUT=${PROFILE_OUT:-$repo/build/bench/profile-$WL-$MTU}

die() { echo "profile: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root"
[[ -x $SYNACKD ]] || die "$SYNACKD is missing; run make"
command -v perf >/dev/null || die "perf is missing: apt-get install linux-perf"
command -v wrk >/dev/null || die "wrk is missing: bench/deps.sh"
case $WL in
A) WRK_ARGS=(-t1 -c32 /1k.bin) ;;
B) WRK_ARGS=(-t1 -c32 -H "Connection: close" /1k.bin) ;;
C) WRK_ARGS=(-t1 -c1 --timeout 10s /100m.bin) ;;
*) die "workload is A, B or C" ;;
esac

mkdir -p "$OUT"
tmp=$(mktemp -d /tmp/synack-profile.XXXXXX)
NS=synack-profile-$$
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || die "cannot create namespace $NS"
[[ $(ip netns exec "$NS" readlink /proc/self/ns/net) != $(readlink /proc/self/ns/net) ]] ||
    die "namespace $NS is the host's; refusing"
ip -n "$NS" link set lo up

mkdir -p "$tmp/www"
head -c 1024 /dev/urandom >"$tmp/www/1k.bin"
[[ $WL == C ]] && head -c $((100 * 1024 * 1024)) /dev/urandom >"$tmp/www/100m.bin"

ip netns exec "$NS" taskset -c 0 "$SYNACKD" --mtu "$MTU" --root "$tmp/www" \
    >"$OUT/synackd.out" 2>"$OUT/synackd.err" &
server=$!
pids+=("$server")
for _ in $(seq 50); do grep -qs '^listening on ' "$OUT/synackd.out" && break; sleep 0.1; done
grep -qs '^listening on ' "$OUT/synackd.out" || die "synackd did not start; see $OUT/synackd.err"

url=http://10.0.0.2${WRK_ARGS[-1]}
unset 'WRK_ARGS[-1]'
# The load runs a little longer than the sampling, which starts once it is
# under way.
ip netns exec "$NS" taskset -c 1 timeout -k 5 $((SEC + 25)) \
    wrk "${WRK_ARGS[@]}" -d$((SEC + 4))s "$url" >"$OUT/wrk.txt" 2>&1 &
client=$!
pids+=("$client")
sleep 2
echo "profile: sampling synackd (PID $server) for $SEC s under workload $WL at MTU $MTU"
# -g: kernel call chains (frame pointers) give each system call's inclusive
# cost; synackd's own frames are -O2 without frame pointers, so its
# functions are read from self time instead.
perf record -q -g -e cpu-clock -F "$FREQ" -p "$server" -o "$OUT/synackd.data" -- sleep "$SEC" \
    2>"$OUT/perf-record.err"
wait "$client"
kill -TERM "$server"
wait "$server"

{
    echo "# synackd, $WL at MTU $MTU: self time by symbol (user and kernel, in its context)"
    perf report -i "$OUT/synackd.data" --stdio --no-children --sort dso,sym -g none \
        --percent-limit 0.7 2>/dev/null | grep -v '^$'
} >"$OUT/synackd-symbols.txt"
{
    echo "# synackd, $WL at MTU $MTU: inclusive time (children) of the system calls"
    echo "# and of the kernel work inside them: netif_receive_skb inside do_writev is"
    echo "# the kernel's own TCP receiving what synackd wrote to the TUN"
    perf report -i "$OUT/synackd.data" --stdio --children --sort sym -g none 2>/dev/null |
        grep -E '\] (entry_SYSCALL_64_after_hwframe|do_writev|tun_get_user|netif_receive_skb|tcp_v4_rcv|sock_def_readable|ksys_read|tun_chr_read_iter|__x64_sys_pread64|filemap_read|do_epoll_wait|__x64_sys_openat2|__x64_sys_close|__do_sys_newfstat|__x64_sys_newfstat|vfs_fstat|handle_softirqs) *$'
} >"$OUT/synackd-syscalls.txt"
{
    echo "# synackd, $WL at MTU $MTU: self time by object"
    perf report -i "$OUT/synackd.data" --stdio --no-children --sort dso -g none 2>/dev/null |
        grep -v '^$'
} >"$OUT/synackd-dso.txt"
grep -E '^(Requests/sec|Transfer/sec)' "$OUT/wrk.txt"
grep -v '^#' "$OUT/synackd-dso.txt" | head -n 8
grep -v '^#' "$OUT/synackd-syscalls.txt"
grep -v '^#' "$OUT/synackd-symbols.txt" | head -n 40
echo "profile: reports in $OUT"
