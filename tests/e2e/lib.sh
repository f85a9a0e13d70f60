# lib.sh -- what every end-to-end suite shares: the private network
# namespace it runs in, and the ok/not ok bookkeeping of its checks.
#
# A suite starts with
#     SUITE=e2e-name
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# Run as root from the host, this re-executes the suite inside a fresh
# namespace made with `unshare -n` (so the TUN, its routes and all traffic
# vanish with it); inside, it refuses to go on unless the namespace is a new
# one holding only lo.  Without root the suite reports itself skipped.
# Afterwards: $here, $repo, $SYNACKD (absolute), ASAN/UBSAN options set,
# lo up, and the helpers below.  The suite keeps $passed and $failed.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite_script=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)/$(basename "${BASH_SOURCE[1]}")

if [[ $(id -u) -ne 0 ]]; then
    echo "$SUITE: skipped (needs root)"
    echo "0 passed, 0 failed"
    exit 0
fi

# Outside the namespace: resolve the binary, then re-run the suite inside one.
if [[ -z ${SYNACK_E2E_HOST_NETNS:-} ]]; then
    if [[ -z ${SYNACKD:-} ]]; then
        SYNACKD=$repo/build/synackd-san
    elif [[ $SYNACKD != /* ]]; then
        SYNACKD=$PWD/$SYNACKD
    fi
    if ! unshare -n true 2>/dev/null; then
        echo "$SUITE: cannot create a network namespace (unshare -n failed)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    SYNACK_E2E_HOST_NETNS=$(readlink /proc/self/ns/net)
    export SYNACKD SYNACK_E2E_HOST_NETNS
    exec unshare -n -- bash "$suite_script" "$@"
fi

# Inside: a namespace other than the caller's, holding only lo.  Anything else
# means we were not started by the block above: refuse to touch that network.
if [[ $(readlink /proc/self/ns/net) == "$SYNACK_E2E_HOST_NETNS" ||
    $(ip -o link show | awk -F': ' '{print $2}') != lo ]]; then
    echo "$SUITE: refusing to run: not in a fresh network namespace"
    echo "0 passed, 1 failed"
    exit 1
fi
ip link set lo up

export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

ok() { echo "ok - $1"; passed=$((passed + 1)); }

# not_ok DESCRIPTION [DETAIL...]: details go on '#' lines (expected vs seen).
not_ok() {
    echo "not ok - $1"
    shift
    local detail
    for detail in "$@"; do printf '%s\n' "$detail" | sed 's/^/#   /'; done
    failed=$((failed + 1))
}

# check DESCRIPTION DETAIL COMMAND...: ok when COMMAND succeeds.
check() {
    local desc=$1 detail=$2
    shift 2
    if "$@"; then ok "$desc"; else not_ok "$desc" "$detail"; fi
}

# report STATUS DESCRIPTION DETAIL...: the verdict of a compound test just run.
report() {
    local status=$1
    shift
    if ((status == 0)); then ok "$1"; else not_ok "$@"; fi
}

# wait_until SECONDS COMMAND...: polls every 0.1 s; bounded.
wait_until() {
    local tries=$(($1 * 10))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

sanitizer_clean() { ! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; }

# A zombie has exited; /proc/PID/stat's state field says so without reaping.
exited() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [[ -z $state || $state == Z ]]
}

tail_of() { tail -n 5 "$1" 2>/dev/null | sed 's/^/| /'; }

# For suites that keep $tmp for files and $pids for what they started:

# start NAME ARGS...: synackd in the background, output in $tmp/NAME.{out,err};
# its PID in $daemon (and appended to $pids).  True once it listens.
start() {
    local name=$1
    shift
    "$SYNACKD" --isn-key 000102030405060708090a0b0c0d0e0f "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    daemon=$!
    pids+=("$daemon")
    wait_until 5 grep -qs '^listening on ' "$tmp/$name.out"
}

# stop PID NAME: SIGTERM, exit 0 within 5 s, no sanitizer report.
stop() {
    local pid=$1 name=$2 rc late=
    kill -TERM "$pid"
    if ! wait_until 5 exited "$pid"; then
        late="still running after 5 s (killed), "
        kill -KILL "$pid"
    fi
    wait "$pid"
    rc=$?
    [[ -z $late && $rc == 0 ]] && sanitizer_clean "$tmp/$name.err"
    report $? "$name: synackd exits 0 on SIGTERM with no sanitizer report" \
        "saw ${late}exit $rc; stderr ends:" "$(tail_of "$tmp/$name.err")"
}
