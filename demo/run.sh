#!/usr/bin/env bash
# run.sh -- `sudo make demo`: the seed's lab (a browser fetching a small page,
# captured and explained frame by frame) redone against synack.
#
# In a private network namespace made here with `unshare -n`, it starts
# synackd with a pcapng capture and a trace, replays what a browser does
# (demo/browser.py: the page, its CSS and logo, a reload answered 304, a
# missing icon answered 404, both orders of teardown), stops synackd, and
# prints the frame table and a walk-through computed from this run's
# capture and trace (demo/explain.py).  The host's network is never
# touched; only the PID started here is signalled; every wait is bounded.
#
#   demo/run.sh [--markdown]      (make demo runs it; needs root)
#   SYNACKD=path DEMO_OUT=dir demo/run.sh
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
PY=/usr/bin/python3

fail() { # what failed, why, what to do
    echo "demo: $1" >&2
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    fail "needs root, to create a TUN device inside a private network namespace; run: sudo make demo"
fi

if [[ -z ${SYNACK_DEMO_HOST_NETNS:-} ]]; then
    SYNACKD=${SYNACKD:-$repo/build/synackd}
    DEMO_OUT=${DEMO_OUT:-$repo/pcaps}
    [[ -x $SYNACKD ]] || fail "no synackd at $SYNACKD; build it with: make"
    command -v tshark >/dev/null || fail "tshark is not installed, and the walk-through reads the capture with it; run: sudo make deps"
    unshare -n true 2>/dev/null || fail "cannot create a network namespace (unshare -n failed); is this a container without CAP_SYS_ADMIN?"
    mkdir -p "$DEMO_OUT" || fail "cannot create $DEMO_OUT"
    SYNACK_DEMO_HOST_NETNS=$(readlink /proc/self/ns/net)
    export SYNACKD DEMO_OUT SYNACK_DEMO_HOST_NETNS
    exec unshare -n -- bash "$here/run.sh" "$@"
fi

# Inside: a namespace other than the caller's, holding only lo.
if [[ $(readlink /proc/self/ns/net) == "$SYNACK_DEMO_HOST_NETNS" ||
    $(ip -o link show | awk -F': ' '{print $2}') != lo ]]; then
    fail "refusing to run: not in a fresh network namespace"
fi
ip link set lo up
# No IPv6 on the TUN: the kernel would otherwise send router solicitations
# into the capture.  This namespace's setting only (/proc/sys/net is per
# namespace), written directly so procps need not be installed.
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null

pcap=$DEMO_OUT/demo.pcapng
trace=$DEMO_OUT/demo.trace
errlog=$DEMO_OUT/demo.log # synackd's own messages, and its counters at exit
log=$(mktemp -d /tmp/synack-demo.XXXXXX)
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$log"
}
trap cleanup EXIT

wait_until() { # SECONDS COMMAND...: poll every 0.1 s
    local tries=$(($1 * 10))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}
running() { kill -0 "$pid" 2>/dev/null && [[ $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1) != Z ]]; }
stopped() { ! running; }

rm -f "$pcap" "$trace" "$errlog"
# --msl 1: TIME-WAIT lasts 2 s, not 60, so the run sees it end.
# --idle-timeout 2: synack closes the page's idle connection itself, so
#   the capture has a teardown in each order.
"$SYNACKD" --pcap "$pcap" --trace "$trace" --trace-level 2 --msl 1 --idle-timeout 2 \
    --access-log "$log/access.log" >"$log/synackd.out" 2>"$errlog" &
pid=$!
if ! wait_until 5 grep -qs '^listening on ' "$log/synackd.out"; then
    sed 's/^/  | /' "$errlog" >&2
    fail "synackd did not start listening within 5 s (its stderr is above)"
fi

echo "demo: synackd is serving http://10.0.0.2/ on TUN synack0; a browser's requests:"
timeout 60 "$PY" "$here/browser.py" 10.0.0.2 6 >"$log/browser.out" 2>"$log/browser.err"
brc=$?
sed 's/^/  /' "$log/browser.out"
if ((brc != 0)); then
    sed 's/^/  | /' "$log/browser.err" >&2
    fail "the browser's requests failed (exit $brc, above); synackd's stderr ends: $(tail -n 3 "$errlog")"
fi
sleep 2.5 # TIME-WAIT (2*MSL = 2 s) ends, and the trace shows it
kill -TERM "$pid"
if ! wait_until 5 stopped; then
    kill -KILL "$pid"
    fail "synackd did not exit within 5 s of SIGTERM (killed); the capture may be incomplete"
fi
wait "$pid"
rc=$?
pid=
((rc == 0)) || fail "synackd exited with status $rc: $(tail -n 3 "$errlog")"

# The files belong to whoever ran sudo, so Wireshark opens them without root.
if [[ -n ${SUDO_UID:-} ]]; then
    chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$pcap" "$trace" "$errlog" 2>/dev/null
fi
echo
"$PY" "$here/explain.py" "$@" "$pcap" "$trace"
