#!/usr/bin/env bash
# demo.sh -- the teaching surface, end to end:
#   1. `make demo` (demo/run.sh) prints the frame table and a walk-through
#      whose numbers agree with its own capture, and its pcapng carries the
#      state changes as comments that point at real lines of synack's code;
#   2. a retransmission (over an --impair'ed link) is commented too, and a
#      plain .pcap is still classic pcap;
#   3. GET /trace draws the recent connections, including the one that
#      fetched it, and renders in headless Chromium (screenshot not blank,
#      arrows in both directions), loading nothing from outside.
#
# Runs inside a private network namespace made with `unshare -n` (the demo
# nests its own), kills only the PIDs it started, bounds every wait.
# Needs root; skips otherwise.
#
#   SYNACKD=path/to/synackd tests/e2e/demo.sh     (default build/synackd-san)
set -u

SUITE=e2e-demo
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/synack-e2e-demo.XXXXXX)
passed=0
failed=0
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if ((failed == 0)); then rm -rf "$tmp"; else echo "# files kept in $tmp"; fi
}
trap cleanup EXIT

comments() { tshark -r "$1" -T fields -e frame.number -e frame.comment -E occurrence=a 2>/dev/null; }

# ---- 1. make demo ------------------------------------------------------------

# Each comment's file:line must be a line that makes a state change or an
# event: the capture's pointers into the code are real.
check_refs() {
    $PY - "$repo" "$1" <<'PYEOF'
import re, subprocess, sys
repo, pcap = sys.argv[1], sys.argv[2]
out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.comment",
                      "-E", "occurrence=a", "-E", "aggregator=\x1f"],
                     capture_output=True, text=True).stdout
refs = set(re.findall(r"(\w+/\w+\.c):(\d+)(?:\x1f|$)", out.replace("\n", "\x1f")))
bad = []
makers = ("tcp_set_state(", "TCP_TRACE_EVENT(", "TRACE_CC(", "trace_resend(")
for path, line in sorted(refs):
    text = open("%s/%s" % (repo, path)).read().split("\n")[int(line) - 1]
    if not any(m in text for m in makers):
        bad.append("%s:%s: %s" % (path, line, text.strip()))
print("%d refs" % len(refs) if refs and not bad else "bad: %s" % (bad or "no refs"))
PYEOF
}

check_demo() {
    local dir=$tmp/demo-out out=$tmp/demo.txt flat rc
    mkdir -p "$dir"
    SYNACKD=$SYNACKD DEMO_OUT=$dir timeout 120 "$repo/demo/run.sh" --no-color >"$out" 2>&1
    rc=$?
    report $rc "make demo (demo/run.sh) runs to the end and exits 0" \
        "exit $rc; output ends:" "$(tail_of "$out")"
    ((rc == 0)) || return
    local pcap=$dir/demo.pcapng frames rows
    frames=$(tshark -r "$pcap" -Y tcp 2>/dev/null | wc -l)
    rows=$(grep -cE '^ *[0-9]+\*? +[0-9]+\.[0-9]{6} +10\.0\.0\.[12] +10\.0\.0\.[12] ' "$out")
    grep -qE '^No\. +Time +Source +Destination +Protocol +Length +Info' "$out" &&
        ((frames >= 30 && rows == frames)) && ! grep -q $'\033\[' "$out"
    report $? "the frame table has Wireshark's columns, one row per frame of the capture ($frames), no colour when not on a terminal" \
        "frames in the capture: $frames, table rows: $rows"
    flat=$(tr '\n' ' ' <"$out" | tr -s ' ')
    local ack isn syn_seq
    read -r ack isn <<<"$(grep -oE "The SYN-ACK's ack [0-9]+ = the client's ISN [0-9]+ \+ 1" <<<"$flat" |
        head -n 1 | grep -oE '[0-9]+' | head -n 2 | tr '\n' ' ')"
    syn_seq=$(tshark -r "$pcap" -Y 'tcp.flags == 0x002' -T fields -e tcp.seq_raw 2>/dev/null | head -n 1)
    [[ -n $ack && -n $isn && $ack == $(((isn + 1) % 4294967296)) && $isn == "$syn_seq" ]]
    report $? "the walk-through's handshake numbers are this run's: ack $ack = ISN $isn + 1, and the capture's first SYN has seq $syn_seq" \
        "$(grep -m1 -A3 'Frame 2 ' "$out")"
    local want missing=
    for want in "GET /hello → 200" "GET /hello → 304" "GET /css/synack.css → 304" \
        "GET /img/logo.png → 304" "GET /apple-touch-icon.png → 404" "synack closed first" \
        "the client closed first" "TIME-WAIT -> CLOSED on 2MSL timer expired" \
        "LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2), made at stack/tcp_input.c:" \
        "SYN-RECEIVED -> ESTABLISHED" "CLOSE-WAIT -> LAST-ACK on close() by the application" \
        "FIN-WAIT-2 -> TIME-WAIT" "wireshark $pcap" "304 Not Modified" "MSS=1460" "SACK_PERM"; do
        grep -qF -- "$want" <<<"$flat" || missing+=" [$want]"
    done
    [[ -z $missing ]]
    report $? "the walk-through covers 200/304/404, options, both teardown orders with states and code, and where the capture is" \
        "missing:$missing"
    local cm
    cm=$(comments "$pcap")
    grep -qE $'^[0-9]+\tLISTEN -> SYN-RECEIVED \\(RFC 9293 §3.10.7.2\\) stack/tcp_input.c:[0-9]+$' <<<"$cm" &&
        grep -qE 'SYN-RECEIVED -> ESTABLISHED \(RFC 9293 §3\.10\.7\.4.*\) stack/tcp_input\.c:[0-9]+' <<<"$cm" &&
        grep -qE 'CLOSE-WAIT -> LAST-ACK on close\(\) by the application \(RFC 9293 §3\.10\.4\) stack/tcp_app\.c:[0-9]+' <<<"$cm" &&
        grep -qE 'FIN-WAIT-2 -> TIME-WAIT' <<<"$cm"
    report $? "tshark -e frame.comment: the pcapng carries each state change on the packet that caused or carried it" \
        "$(head -n 12 <<<"$cm")"
    local refs
    refs=$(check_refs "$pcap")
    [[ $refs =~ ^[0-9]+\ refs$ ]]
    report $? "every file:line in the comments is a line of synack that changes a state or traces an event ($refs)" "$refs"
    local fin_carrier
    fin_carrier=$(tshark -r "$pcap" -Y 'frame.comment contains "LAST-ACK on close()"' -T fields \
        -e tcp.flags.fin -e ip.src 2>/dev/null | sort -u | tr '\n' ' ')
    [[ $fin_carrier == "1	10.0.0.2 " ]]
    report $? "a close() comment rides on synack's own FIN" "saw (fin, src): '$fin_carrier'"
    $PY "$repo/demo/explain.py" --markdown "$pcap" "$dir/demo.trace" >"$tmp/walk.md" 2>&1 &&
        grep -q '^## Three-way handshake' "$tmp/walk.md" && grep -q '^```text' "$tmp/walk.md"
    report $? "explain.py --markdown writes the same walk-through as Markdown" "$(tail_of "$tmp/walk.md")"
    sanitizer_clean "$dir/demo.log"
    report $? "the demo's synackd ran without a sanitizer report" "$(tail_of "$dir/demo.log")"
}

# ---- 2. retransmissions commented; plain pcap --------------------------------

check_retransmit_comments() {
    local pcap=$tmp/loss.pcapng i
    if ! start loss --tun synack2 --tun-addr 10.0.2.1/24 --addr 10.0.2.2 --pcap "$pcap" \
        --impair out.loss=25%,seed=7; then
        not_ok "synackd starts with --impair and a pcapng" "$(tail_of "$tmp/loss.err")"
        return
    fi
    local pid=$daemon
    for i in 1 2 3 4 5 6; do
        timeout 20 curl -s --max-time 15 -o /dev/null http://10.0.2.2/hello
    done
    stop "$pid" loss
    local resent flagged unmarked
    resent=$(tshark -r "$pcap" -Y 'frame.comment contains "retransmit" && ip.src == 10.0.2.2' \
        -T fields -e frame.number 2>/dev/null | sort -n)
    flagged=$(tshark -r "$pcap" -Y 'tcp.analysis.retransmission && ip.src == 10.0.2.2' \
        -T fields -e frame.number 2>/dev/null | sort -n)
    unmarked=$(comm -13 <(echo "$resent") <(echo "$flagged") | tr '\n' ' ')
    [[ -n $resent && -n $flagged && -z ${unmarked// /} ]]
    report $? "over a lossy link every segment Wireshark calls a retransmission carries a 'retransmit' comment ($(wc -w <<<"$flagged") frames)" \
        "commented: $(tr '\n' ' ' <<<"$resent")" "flagged by tshark: $(tr '\n' ' ' <<<"$flagged")" \
        "flagged without a comment: $unmarked"
}

check_plain_pcap() {
    local pcap=$tmp/plain.pcap magic n
    if ! start plain --tun synack3 --tun-addr 10.0.3.1/24 --addr 10.0.3.2 --pcap "$pcap"; then
        not_ok "synackd starts with a .pcap capture" "$(tail_of "$tmp/plain.err")"
        return
    fi
    local pid=$daemon
    timeout 20 curl -s --max-time 10 -o /dev/null http://10.0.3.2/hello
    stop "$pid" plain
    magic=$(od -An -tx1 -N4 "$pcap" | tr -d ' ')
    n=$(tshark -r "$pcap" -Y tcp 2>/dev/null | wc -l)
    [[ $magic == d4c3b2a1 || $magic == a1b2c3d4 ]] && ((n >= 8))
    report $? "--pcap FILE.pcap still writes classic pcap ($n TCP frames)" "magic $magic, $n frames"
}

# ---- 3. GET /trace ------------------------------------------------------------

chromium_bin() { command -v chromium || command -v chromium-browser; }

check_trace_page() {
    local page=$tmp/trace.html code ctype
    timeout 20 curl -s --max-time 10 -o /dev/null http://10.0.0.2/hello
    code=$(timeout 20 curl -s -D "$tmp/trace.hdr" -o "$page" -w '%{http_code}' --max-time 10 \
        http://10.0.0.2/trace)
    ctype=$(tr -d '\r' <"$tmp/trace.hdr" | sed -n 's/^Content-Type: //Ip')
    local nin nout
    nin=$(grep -o '<svg class="in' "$page" | wc -l)
    nout=$(grep -o '<svg class="out' "$page" | wc -l)
    [[ $code == 200 && $ctype == "text/html; charset=utf-8" ]] && ((nin >= 4 && nout >= 2)) &&
        grep -q 'the connection that fetched this page' "$page" &&
        grep -q 'LISTEN &rarr; SYN-RECEIVED' "$page" && grep -q 'stack/tcp_input.c:[0-9]' "$page"
    report $? "GET /trace: 200 text/html, arrows both ways, the asking connection marked, state changes with file:line" \
        "code $code, type '$ctype', $nin arrows in, $nout out"
    ! grep -Eiq '<script|<link|<img|<iframe|src=|url\(|@import|href="(https?:)?//' "$page"
    report $? "the /trace page loads nothing from outside (no script, link, img, src, url(), remote href)" \
        "$(grep -Eio '<script|<link|<img|<iframe|src=[^ ]*|url\([^)]*\)|@import|href="[^"]*"' "$page" | head -n 5)"
    timeout 20 curl -s --max-time 10 http://10.0.0.2/hello | grep -q 'href="/trace"'
    report $? "the bundled page links to /trace" ""
}

check_trace_chromium() {
    local bin shot=$tmp/trace.png dom=$tmp/trace.dom rc
    bin=$(chromium_bin)
    if [[ -z $bin ]]; then
        not_ok "headless Chromium renders /trace" "chromium is not installed (tests/deps.sh installs it)"
        return
    fi
    local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
        --disable-component-update --no-first-run --user-data-dir="$tmp/chromium-profile")
    timeout 90 "$bin" "${flags[@]}" --screenshot="$shot" --window-size=1024,1400 \
        http://10.0.0.2/trace >"$tmp/chromium.log" 2>&1
    rc=$?
    timeout 90 "$bin" "${flags[@]}" --dump-dom http://10.0.0.2/trace >"$dom" 2>>"$tmp/chromium.log"
    local px
    px=$(timeout 30 $PY - "$shot" 2>&1 <<'PYEOF'
import sys
from PIL import Image
img = Image.open(sys.argv[1]).convert("RGB")
colours = img.getcolors(1 << 24)
def near(c, t, d=40):
    return all(abs(a - b) <= d for a, b in zip(c, t))
blue = sum(n for n, c in colours if near(c, (0x15, 0x65, 0xc0)))
orange = sum(n for n, c in colours if near(c, (0xe6, 0x51, 0x00)))
print(len(colours), blue, orange)
PYEOF
    )
    local ncol nblue norange
    read -r ncol nblue norange <<<"$px"
    [[ $ncol =~ ^[0-9]+$ && $nblue =~ ^[0-9]+$ && $norange =~ ^[0-9]+$ ]] &&
        ((ncol > 16 && nblue > 400 && norange > 200))
    report $? "headless Chromium renders /trace: screenshot not blank, blue (client -> synack) and orange (synack -> client) arrows drawn" \
        "chromium exit $rc; colours, blue px, orange px: $px" "$(tail -n 3 "$tmp/chromium.log")"
    grep -q 'the connection that fetched this page' "$dom" &&
        (($(grep -o '<svg class="in' "$dom" | wc -l) >= 4))
    report $? "Chromium's DOM of /trace shows its own connection with its arrows" \
        "$(grep -c '<svg' "$dom" 2>/dev/null) svg elements"
}

check_trace_ring_off() {
    local code
    if ! start noring --tun synack4 --tun-addr 10.0.4.1/24 --addr 10.0.4.2 --trace-ring 0; then
        not_ok "synackd starts with --trace-ring 0" "$(tail_of "$tmp/noring.err")"
        return
    fi
    local pid=$daemon
    code=$(timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://10.0.4.2/trace)
    [[ $code == 404 ]]
    report $? "--trace-ring 0 turns /trace off (404, an ordinary missing path)" "saw $code"
    stop "$pid" noring
}

# ---- run -------------------------------------------------------------------

if [[ ! -x $SYNACKD ]]; then
    not_ok "synackd binary exists" "expected an executable at $SYNACKD (make build/synackd-san)"
else
    check_demo
    check_retransmit_comments
    check_plain_pcap
    if ! start main; then
        not_ok "synackd starts serving the bundled site" "$(tail_of "$tmp/main.err")"
    else
        main_pid=$daemon
        check_trace_page
        check_trace_chromium
        stop "$main_pid" main
    fi
    check_trace_ring_off
fi

echo "$passed passed, $failed failed"
((failed == 0))
