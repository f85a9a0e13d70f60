#!/usr/bin/env bash
# run.sh -- the end-to-end suite: synackd on a real TUN, the kernel's own TCP
# (ping, curl) as the peer, tshark reading synackd's capture afterwards.
#
# Everything runs inside a private network namespace made here with
# `unshare -n`: the TUN, its routes and all traffic vanish with the namespace,
# so the host's network is never touched.  Needs root; skips otherwise.
#
#   SYNACKD=path/to/synackd tests/e2e/run.sh     (default build/synackd-san)

# shellcheck disable=SC2016  # the awk programs are single-quoted on purpose
set -u

SUITE=e2e
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
ISN_KEY=000102030405060708090a0b0c0d0e0f
ADDR=10.0.0.2
tmp=$(mktemp -d /tmp/synack-e2e.XXXXXX)
passed=0
failed=0
daemon_pid=

cleanup() {
    if [[ -n $daemon_pid ]]; then
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    if ((failed == 0)); then rm -rf "$tmp"; else echo "# files kept in $tmp"; fi
}
trap cleanup EXIT

# ---- synackd serving: start, ping, curl, trace ---------------------------

start_daemon() {
    "$SYNACKD" --pcap "$tmp/c.pcap" --trace "$tmp/trace.log" --isn-key "$ISN_KEY" \
        >"$tmp/out" 2>"$tmp/err" &
    daemon_pid=$!
    if wait_until 5 grep -qs '^listening on ' "$tmp/out"; then
        ok "synackd starts: $(head -n 1 "$tmp/out")"
        return 0
    fi
    not_ok "synackd starts and prints 'listening on' within 5 s" \
        "expected 'listening on http://$ADDR:80/' on stdout; stderr ends:" \
        "$(tail_of "$tmp/err")"
    return 1
}

check_ping() {
    local out got
    out=$(timeout 20 ping -c 3 -W 2 "$ADDR" 2>&1)
    got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
    check "ping -c 3 $ADDR gets 3 replies" "expected 3 received, saw '${got:-none}'" \
        test "${got:-0}" = 3
}

check_curl() {
    local rc status size
    timeout 20 curl -sv --max-time 10 -o "$tmp/body" "http://$ADDR/" 2>"$tmp/curl.err"
    rc=$?
    status=$(sed -n 's/^< HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$tmp/curl.err" | head -n 1)
    size=$(stat -c %s "$tmp/body" 2>/dev/null || echo 0)
    [[ $rc == 0 && $status == 200 ]] && ((size > 0))
    report $? "curl http://$ADDR/ exits 0 with status 200 and a body" \
        "expected exit 0, status 200, body > 0 bytes;" \
        "saw exit $rc, status '${status:-none}', body $size bytes"
}

# A transition line must cite the RFC and the code that made the change.
trace_has() {
    grep -F -- "$1" "$tmp/trace.log" 2>/dev/null | grep -F 'RFC 9293' |
        grep -Eq '\[stack/[^]]+\.c:[0-9]+\]'
}

teardown_traced() {
    trace_has 'ESTABLISHED -> FIN-WAIT-1' || trace_has 'ESTABLISHED -> CLOSE-WAIT'
}

check_trace() {
    local t
    wait_until 3 teardown_traced
    for t in 'LISTEN -> SYN-RECEIVED' 'SYN-RECEIVED -> ESTABLISHED'; do
        check "trace: $t, citing RFC 9293 and [stack/FILE.c:LINE]" \
            "no line with '$t', 'RFC 9293' and '[stack/….c:NN]' in trace.log" trace_has "$t"
    done
    check "trace: teardown (ESTABLISHED -> FIN-WAIT-1 or -> CLOSE-WAIT), citing RFC 9293" \
        "no such line in trace.log; it ends:$(printf '\n%s' "$(tail_of "$tmp/trace.log")")" \
        teardown_traced
}

# SIGTERM: graceful close, then exit 0 within 5 s, with no sanitizer report.
check_sigterm() {
    local rc late=
    kill -TERM "$daemon_pid"
    if ! wait_until 5 exited "$daemon_pid"; then
        late="still running after 5 s (killed), "
        kill -KILL "$daemon_pid"
    fi
    wait "$daemon_pid"
    rc=$?
    daemon_pid=
    [[ -z $late && $rc == 0 ]]
    report $? "synackd exits 0 within 5 s of SIGTERM" \
        "expected exit 0 within 5 s; saw ${late}exit $rc; stderr ends:" "$(tail_of "$tmp/err")"
    check "synackd stderr has no sanitizer report" \
        "found:$(printf '\n%s' "$(grep -E -m 3 'ERROR: |runtime error:' "$tmp/err")")" \
        sanitizer_clean "$tmp/err"
}

# ---- the capture, read by tshark -----------------------------------------

# One row per TCP segment: sport dport syn ack fin rst ack# method uri ver code
capture_rows() {
    tshark -r "$tmp/c.pcap" -Y tcp -T fields -E separator=/t \
        -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
        -e tcp.flags.fin -e tcp.flags.reset -e tcp.ack -e http.request.method \
        -e http.request.uri -e http.response.version -e http.response.code \
        >"$tmp/tcp.tsv" 2>"$tmp/tshark.err"
}

# capture_has AWK-PROGRAM: the program sets found=1 on a matching row.
capture_has() {
    awk -F'\t' -v port=80 'function on(x) { return x == "1" || x == "True" }
        '"$1"' END { exit !found }' "$tmp/tcp.tsv"
}

capture_check() {
    check "capture: $1" "no such segment in tcp.tsv (dumped below)" capture_has "$2"
}

check_capture() {
    local before=$failed
    if ! capture_rows || [[ ! -s $tmp/tcp.tsv ]]; then
        not_ok "tshark reads c.pcap and finds TCP" "$(tail_of "$tmp/tshark.err")"
        return
    fi
    capture_check "client SYN" '$2 == port && on($3) && !on($4) { found = 1 }'
    capture_check "server SYN-ACK" '$1 == port && on($3) && on($4) { found = 1 }'
    capture_check "handshake ACK (first client segment after SYN-ACK acks 1)" '
        sa && $2 == port { found = !on($3) && on($4) && $7 == 1; exit }
        $1 == port && on($3) && on($4) { sa = 1 }'
    capture_check "HTTP request GET /" '$2 == port && $8 == "GET" && $9 == "/" { found = 1 }'
    capture_check "HTTP response HTTP/1.1 200" '
        $1 == port && $10 == "HTTP/1.1" && $11 == 200 { found = 1 }'
    capture_check "FIN from the server" '$1 == port && on($5) { found = 1 }'
    capture_check "FIN from the client" '$2 == port && on($5) { found = 1 }'
    capture_check "no RST in a clean exchange" '
        on($6) { rst = 1 } END { found = !rst }'
    if ((failed > before)); then
        echo "# tcp.tsv: sport dport syn ack fin rst ack# method uri version code"
        head -n 30 "$tmp/tcp.tsv" | sed 's/^/#   /'
    fi
}

# ---- offload: GSO super-segments to the TUN --------------------------------

# counter NAME-PATTERN FILE: a counter's value from synackd's counters
# (printed on exit; a counter still at 0 is not printed).
counter() { sed -n "s/^ *\([0-9]*\)  $1.*/\1/p" "$2" | tail -n 1; }

# download_big NAME WHAT: the 3 MB file from the synackd at 10.0.2.2, which
# must arrive byte for byte.
download_big() {
    local name=$1 what=$2
    timeout 60 curl -s --max-time 50 -o "$tmp/$name.body" http://10.0.2.2/big.bin
    cmp -s "$tmp/$name.body" "$tmp/offload-root/big.bin"
    report $? "$what: a 3 MB download is byte-identical" \
        "got $(stat -c %s "$tmp/$name.body" 2>/dev/null || echo 0) bytes"
}

# A 3 MB download with offload on (the default) and off: byte-identical both
# ways; with offload the kernel took super-segments, yet the capture shows
# only segments of one MSS (1460 at MTU 1500, 1448 with timestamps), every
# checksum right (tshark's tcp.checksum.status 1 is "Good").
check_offload() {
    local root=$tmp/offload-root name mode flags supers rows bad
    mkdir -p "$root"
    head -c 3000000 /dev/urandom >"$root/big.bin"
    # "plain": offload on, each packet its own system call (--no-io-uring);
    # "eager": the loop wakes for every packet (--coalesce-usec 0)
    for mode in on off plain eager; do
        name=offload-$mode flags=()
        [[ $mode == off ]] && flags=(--no-offload)
        [[ $mode == plain ]] && flags=(--no-io-uring)
        [[ $mode == eager ]] && flags=(--coalesce-usec 0)
        if ! start "$name" --tun synack2 --tun-addr 10.0.2.1/24 --addr 10.0.2.2 \
            --root "$root" --pcap "$tmp/$name.pcap" "${flags[@]}"; then
            not_ok "synackd starts with offload $mode" "$(tail_of "$tmp/$name.err")"
            continue
        fi
        download_big "$name" "offload $mode"
        stop "$daemon" "$name"
        supers=$(counter "TCP super-segments" "$tmp/$name.err")
        if [[ $mode == plain ]]; then
            grep -q '^synackd: TUN I/O: read/writev and epoll, one system call per packet$' \
                "$tmp/$name.err"
            report $? "--no-io-uring: synackd says its TUN I/O is one system call per packet" \
                "$(grep 'TUN I/O' "$tmp/$name.err" || echo 'no "TUN I/O" line on stderr')"
        fi
        if [[ $mode != off ]]; then
            ((${supers:-0} > 0))
            report $? "offload $mode: the kernel was handed GSO super-segments" \
                "counter 'TCP super-segments' is '${supers:-missing}'"
        else
            [[ ${supers:-0} == 0 ]]  # counters at zero are not printed
            report $? "--no-offload: no super-segments" "counter is '$supers'"
        fi
        rows=$(tshark -r "$tmp/$name.pcap" -o tcp.check_checksum:TRUE \
            -Y 'tcp.srcport == 80 && tcp.len > 0' -T fields -e tcp.len \
            -e tcp.checksum.status 2>/dev/null)
        bad=$(awk '$1 > 1460 || $2 != 1 { n++ } END { print n + 0 }' <<<"$rows")
        [[ -n $rows && $bad == 0 ]]
        report $? "offload $mode: the capture holds segments of at most one MSS, checksums good" \
            "$bad of $(wc -l <<<"$rows") data segments are longer than 1460 bytes or fail their checksum"
        check_moderated_reads "$mode" "$(counter "packets read after a moderation sleep" "$tmp/$name.err")"
    done
}

# uses_epoll NAME: synackd said it fell back to read/writev and epoll (a
# kernel or seccomp filter that refuses io_uring, or --no-io-uring).
uses_epoll() { grep -q '^synackd: TUN I/O: read/writev and epoll' "$tmp/$1.err"; }

# Interrupt moderation (--coalesce-usec, default 50) is on with io_uring
# only: there the download's ACKs were read in batches after moderation
# sleeps; --coalesce-usec 0 and the epoll fallback never sleep that way.
check_moderated_reads() {
    local mode=$1 n=$2 name=offload-$1
    if [[ $mode == eager || $mode == plain ]] || uses_epoll "$name"; then
        [[ $n == 0 ]]
        report $? "offload $mode: no packet was read after a moderation sleep" \
            "counter 'packets read after a moderation sleep' is '${n:-missing}'"
    else
        ((${n:-0} > 0))
        report $? "offload $mode: the download's ACKs were read in moderated batches" \
            "counter 'packets read after a moderation sleep' is '${n:-missing}'"
    fi
}

# link_counters NAME: asks the running synackd ($daemon) for its counters
# (SIGUSR1) and waits until the moderation counter's line of the new block
# is on its stderr.  False if it never comes.
link_counters() {
    local err=$tmp/$1.err n
    n=$(grep -c 'after a moderation sleep' "$err")
    kill -USR1 "$daemon"
    wait_until 5 eval '(( $(grep -c "after a moderation sleep" "$err") > n ))'
}

# Moderation never holds a lone packet: with the longest moderation
# (1000 us), three pings 200 ms apart are each read in a turn that did not
# begin with a moderation sleep -- the counters say which kind of turn read
# each packet, so no clock is needed.  IPv6 is off for the TUN from its
# creation (in this suite's own namespace) so that the kernel's IPv6
# packets (router solicitations, MLD reports) never reach it.
check_lone_packets() {
    local name=lone root=$tmp/offload-root out got u0 m0 u1 m1 v6=/proc/sys/net/ipv6/conf/default
    local was
    if [[ -d $v6 ]]; then
        was=$(cat "$v6/disable_ipv6")
        if ! echo 1 >"$v6/disable_ipv6"; then
            not_ok "IPv6 can be turned off in the test's namespace" "writing $v6/disable_ipv6 failed"
            return
        fi
    fi
    if ! start "$name" --tun synack2 --tun-addr 10.0.2.1/24 --addr 10.0.2.2 \
        --root "$root" --coalesce-usec 1000; then
        not_ok "synackd starts with --coalesce-usec 1000" "$(tail_of "$tmp/$name.err")"
    elif ! link_counters "$name"; then
        not_ok "--coalesce-usec 1000: synackd prints its counters on SIGUSR1" \
            "$(tail_of "$tmp/$name.err")"
        stop "$daemon" "$name"
    else
        u0=$(counter "packets read with no moderation sleep" "$tmp/$name.err")
        m0=$(counter "packets read after a moderation sleep" "$tmp/$name.err")
        out=$(timeout 20 ping -c 3 -i 0.2 -W 2 10.0.2.2 2>&1)
        got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
        link_counters "$name"
        u1=$(counter "packets read with no moderation sleep" "$tmp/$name.err")
        m1=$(counter "packets read after a moderation sleep" "$tmp/$name.err")
        [[ $got == 3 && $((u1 - u0)) == 3 && $((m1 - m0)) == 0 ]]
        report $? "--coalesce-usec 1000: 3 lone pings each read at once, none held for moderation" \
            "replies '${got:-none}'; read with no moderation sleep $((u1 - u0)), after one $((m1 - m0))"
        stop "$daemon" "$name"
    fi
    [[ -n ${was:-} ]] && echo "$was" >"$v6/disable_ipv6"
}

# A SYN flood does not lock clients out (SYN cookies, RFC 4987): 200 SYNs
# from addresses that never answer fill a backlog of 16 and get 184 cookie
# SYN-ACKs; curl's own SYN then gets a cookie too, and its ACK opens the
# connection, which carries a 3 MB download intact.
check_syn_flood() {
    local name=synflood root=$tmp/offload-root n ok
    if ! start "$name" --tun synack2 --tun-addr 10.0.2.1/24 --addr 10.0.2.2 \
        --root "$root" --backlog 16 --pcap "$tmp/$name.pcapng"; then
        not_ok "synackd starts with --backlog 16" "$(tail_of "$tmp/$name.err")"
        return
    fi
    timeout 60 /usr/bin/python3 - <<'PY'
from scapy.all import IP, TCP, conf, send
conf.verb = 0
send([IP(src="10.0.2.%d" % (100 + i % 100), dst="10.0.2.2") /
      TCP(sport=20000 + i, dport=80, flags="S", seq=1000 * i) for i in range(200)])
# The subnet's broadcast address (--tun-addr 10.0.2.1/24) as the source.
send([IP(src="10.0.2.255", dst="10.0.2.2") / TCP(sport=21000 + i, dport=80, flags="S")
      for i in range(3)])
PY
    download_big "$name" "SYN flood, after 200 SYNs that are never completed"
    stop "$daemon" "$name"
    n=$(counter "SYNs answered with a SYN cookie" "$tmp/$name.err")
    ok=$(counter "connections opened by the ACK of a SYN cookie" "$tmp/$name.err")
    [[ $n == 185 && $ok == 1 ]]
    report $? "SYN flood: 185 SYNs past the backlog of 16 got cookies; curl's ACK opened the one connection" \
        "cookies sent '${n:-0}', connections opened by a cookie '${ok:-0}'"
    # The state change the cookie's ACK makes has both a segment and a
    # cause: its pcapng comment gives the cause, on curl's ACK.
    local cm
    cm=$(tshark -r "$tmp/$name.pcapng" -Y 'frame.comment contains "SYN cookie"' -T fields \
        -e tcp.flags.str -e frame.comment 2>/dev/null)
    [[ $(grep -c . <<<"$cm") == 1 && $cm == *"LISTEN -> SYN-RECEIVED, the ACK returned a valid SYN cookie (RFC 4987 §3.6) stack/tcp_input.c:"* &&
        $(cut -f1 <<<"$cm") == *A* && $(cut -f1 <<<"$cm") != *S* ]]
    report $? "the pcapng comments curl's ACK: LISTEN -> SYN-RECEIVED, the ACK returned a valid SYN cookie" \
        "comments naming the cookie: '$cm'"
    n=$(counter "IP_BAD_SOURCE " "$tmp/$name.err")
    [[ $n == 3 ]]
    report $? "3 SYNs from the subnet's broadcast address 10.0.2.255 are dropped, counted" \
        "dropped for their source: '${n:-0}'"
}

# A kernel that refuses io_uring (too old, a seccomp filter, the
# kernel.io_uring_disabled sysctl): synackd says so in one line, falls back
# to one system call per packet, and serves as before.  strace's fault
# injection makes io_uring_setup fail with EPERM; strace exits with the
# status synackd exits with.  LeakSanitizer cannot run under ptrace, so it
# is off here; the same fallback path runs leak-checked as "offload plain".
check_io_uring_refused() {
    local name=io-uring-refused root=$tmp/offload-root tracer child rc body
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o /dev/null -e trace=io_uring_setup -e inject=io_uring_setup:error=EPERM \
        "$SYNACKD" --isn-key 000102030405060708090a0b0c0d0e0f --tun synack2 \
        --tun-addr 10.0.2.1/24 --addr 10.0.2.2 --root "$root" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    tracer=$!
    wait_until 5 grep -qs '^listening on ' "$tmp/$name.out"
    rc=$?
    # synackd is strace's child, ended by its own PID: a tracer that dies
    # leaves its tracee running.
    child=$(pgrep -P "$tracer" | head -n 1)
    if [[ $rc != 0 ]]; then
        not_ok "synackd starts when io_uring is refused" "$(tail_of "$tmp/$name.err")"
        [[ -n $child ]] && kill -KILL "$child" 2>/dev/null
        wait "$tracer" 2>/dev/null
        return
    fi
    body=$(timeout 20 curl -s --max-time 15 http://10.0.2.2/big.bin | sha256sum)
    [[ ${body%% *} == $(sha256sum <"$root/big.bin" | cut -d' ' -f1) ]]
    report $? "io_uring refused: a 3 MB download is byte-identical" "sha256 differs"
    grep -q '^synackd: io_uring is not available (Operation not permitted): one system call per TUN packet' \
        "$tmp/$name.err" && grep -q '^synackd: TUN I/O: read/writev and epoll' "$tmp/$name.err"
    report $? "io_uring refused: synackd names the reason and the fallback on stderr" \
        "$(grep -i 'io_uring\|TUN I/O' "$tmp/$name.err" || echo 'no such line')"
    kill -TERM "$child" 2>/dev/null
    wait_until 5 exited "$tracer" || kill -KILL "$tracer" "$child" 2>/dev/null
    wait "$tracer"
    rc=$?
    [[ $rc == 0 ]] && sanitizer_clean "$tmp/$name.err"
    report $? "io_uring refused: synackd exits 0 on SIGTERM with no sanitizer report" \
        "saw exit $rc; stderr ends:" "$(tail_of "$tmp/$name.err")"
}

# ---- command-line and routing errors -------------------------------------

check_bad_flag() {
    local rc
    timeout 5 "$SYNACKD" --mtu 10 >"$tmp/flag.out" 2>"$tmp/flag.err"
    rc=$?
    [[ $rc == 2 ]] && grep -q -- '--mtu 10' "$tmp/flag.err" &&
        grep -q '^usage:' "$tmp/flag.err" && sanitizer_clean "$tmp/flag.err"
    report $? "--mtu 10 exits 2, names the flag, prints usage on stderr" \
        "expected exit 2, '--mtu 10' and 'usage:' on stderr; saw exit $rc, stderr:" \
        "$(head -n 2 "$tmp/flag.err")"
    timeout 5 "$SYNACKD" --coalesce-usec 1001 >"$tmp/flag.out" 2>"$tmp/flag.err"
    rc=$?
    [[ $rc == 2 ]] &&
        grep -q -- '^synackd: --coalesce-usec 1001: must be between 0 and 1000$' "$tmp/flag.err" &&
        sanitizer_clean "$tmp/flag.err"
    report $? "--coalesce-usec 1001 exits 2, naming the flag and its range 0..1000" \
        "expected exit 2 and 'synackd: --coalesce-usec 1001: must be between 0 and 1000'; saw exit $rc, stderr:" \
        "$(head -n 2 "$tmp/flag.err")"
}

check_help_version() {
    local rc flag missing=
    timeout 5 "$SYNACKD" --help >"$tmp/help.out" 2>&1
    rc=$?
    for flag in --tun --addr --tun-addr --port --root --mtu --pcap --trace \
        --trace-level --msl --max-conns --backlog --rcv-buf --snd-buf \
        --icmp-rate --isn-key --access-log --idle-timeout --header-timeout \
        --max-request-line --max-header-bytes --max-headers --max-body --no-offload \
        --no-io-uring --coalesce-usec --help --version; do
        grep -q -- "^ *\(-[a-zA-Z], \)\?$flag\b" "$tmp/help.out" || missing+=" $flag"
    done
    check "--help exits 0 and lists every flag" \
        "expected exit 0 and all flags; saw exit $rc, missing:${missing:- none}" \
        test "$rc" = 0 -a -z "$missing"
    timeout 5 "$SYNACKD" --version >"$tmp/version.out" 2>&1
    rc=$?
    [[ $rc == 0 ]] && grep -Eq '^synackd [0-9]+\.[0-9]+\.[0-9]+' "$tmp/version.out"
    report $? "--version prints 'synackd VERSION'" \
        "expected exit 0 and 'synackd X.Y.Z'; saw exit $rc: $(head -c 200 "$tmp/version.out")"
}

# A subnet the namespace already routes elsewhere must be refused untouched.
# A dummy interface when the kernel has them, else an idle TUN does as well.
check_route_conflict() {
    local rc before after
    if ip link add d0 type dummy 2>/dev/null || ip tuntap add d0 mode tun; then
        ip addr add 10.9.0.1/24 dev d0 && ip link set d0 up
    fi
    before=$(ip route)
    timeout 5 "$SYNACKD" --tun synack1 --tun-addr 10.9.0.5/24 --addr 10.9.0.2 \
        >"$tmp/route.out" 2>"$tmp/route.err"
    rc=$?
    after=$(ip route)
    [[ $rc == 1 ]] && grep -q 'route' "$tmp/route.err" && sanitizer_clean "$tmp/route.err"
    report $? "--tun-addr inside a subnet routed via d0 exits 1 naming the route" \
        "expected exit 1 and 'route' on stderr; saw exit $rc, stderr:" "$(tail_of "$tmp/route.err")"
    [[ $before == "$after" ]] && ! ip link show synack1 >/dev/null 2>&1
    report $? "the refused start leaves routes and links untouched" \
        "routes before: $before" "routes after: $after"
}

# ---- run -----------------------------------------------------------------

if [[ ! -x $SYNACKD ]]; then
    not_ok "synackd binary exists" "expected an executable at $SYNACKD (make build/synackd-san)"
else
    if start_daemon; then
        check_ping
        check_curl
        check_trace
        check_sigterm
        check_capture
    fi
    check_offload
    check_lone_packets
    check_syn_flood
    check_io_uring_refused
    check_bad_flag
    check_help_version
    check_route_conflict
fi

echo "$passed passed, $failed failed"
((failed == 0))
