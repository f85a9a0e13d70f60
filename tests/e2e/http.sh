#!/usr/bin/env bash
# http.sh -- the HTTP end-to-end suite: synackd serving the bundled site on
# a real TUN, real clients on the kernel's side: curl (GET, HEAD, -z,
# If-None-Match, ranges, --http1.0, keep-alive reuse), wget, python3
# urllib, pipelined requests from a raw socket, headless Chromium loading
# /hello; then a root with symlinks that try to leave it.
#
# Like run.sh it re-executes itself inside a private network namespace made
# with `unshare -n`, refuses to run anywhere else, kills only the PIDs it
# started, and bounds every wait.  Needs root; skips otherwise.
#
#   SYNACKD=path/to/synackd tests/e2e/http.sh     (default build/synackd-san)

set -u

SUITE=e2e-http
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
PY=/usr/bin/python3
SITE=$repo/http/site
ADDR=10.0.0.2
URL=http://$ADDR
tmp=$(mktemp -d /tmp/synack-e2e-http.XXXXXX)
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

# header FILE NAME: the value of the last response's field NAME in curl -v/-D output.
header() {
    tr -d '\r' <"$1" | sed -n "s/^[<]\{0,1\} \{0,1\}$2: //Ip" | tail -n 1
}
status_of() { tr -d '\r' <"$1" | sed -n 's/^[<]\{0,1\} \{0,1\}HTTP\/1\.[01] \([0-9]*\).*/\1/p' | tail -n 1; }

# ---- curl ----------------------------------------------------------------

check_get() {
    local size ctype clen etag
    timeout 20 curl -sv --max-time 10 -o "$tmp/hello.body" "$URL/hello" 2>"$tmp/get.err"
    size=$(stat -c %s "$SITE/index.html")
    ctype=$(header "$tmp/get.err" Content-Type)
    clen=$(header "$tmp/get.err" Content-Length)
    etag=$(header "$tmp/get.err" ETag)
    [[ $(status_of "$tmp/get.err") == 200 && $ctype == "text/html; charset=utf-8" &&
        $clen == "$size" && $etag =~ ^\"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\"$ ]] &&
        cmp -s "$tmp/hello.body" "$SITE/index.html" &&
        grep -q '^< Date: .* GMT' "$tmp/get.err" && grep -q '^< Server: synack/' "$tmp/get.err" &&
        grep -q '^< Last-Modified: .* GMT' "$tmp/get.err" &&
        grep -qi '^< Connection: keep-alive' "$tmp/get.err"
    report $? "curl GET /hello: 200, text/html; charset=utf-8, Content-Length $size, ETag, Last-Modified, Date, Server, the page's bytes" \
        "status '$(status_of "$tmp/get.err")', type '$ctype', length '$clen', etag '$etag'" \
        "$(grep '^[<>]' "$tmp/get.err" | head -n 20)"
}

check_head() {
    local clen
    timeout 20 curl -sI --max-time 10 "$URL/css/synack.css" >"$tmp/head.out" 2>&1
    clen=$(header "$tmp/head.out" Content-Length)
    [[ $(status_of "$tmp/head.out") == 200 && $clen == $(stat -c %s "$SITE/css/synack.css") &&
        $(header "$tmp/head.out" Content-Type) == "text/css; charset=utf-8" ]]
    report $? "curl -I /css/synack.css: 200, text/css; charset=utf-8, the file's Content-Length" \
        "$(cat "$tmp/head.out")"
}

check_conditional() {
    local etag code_z code_inm code_old
    etag=$(header "$tmp/get.err" ETag)
    code_z=$(timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -z "$SITE/index.html" "$URL/hello")
    code_inm=$(timeout 20 curl -s -o "$tmp/inm.body" -w '%{http_code}' --max-time 10 \
        -H "If-None-Match: \"nope\", $etag" "$URL/hello")
    code_old=$(timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -z 'Thu, 01 Jan 1970 00:00:01 GMT' "$URL/hello")
    [[ $code_z == 304 && $code_inm == 304 && ! -s $tmp/inm.body && $code_old == 200 ]]
    report $? "conditional GET: curl -z FILE gives 304, If-None-Match with the ETag gives 304 and no body, an old date gives 200" \
        "saw -z $code_z, If-None-Match $code_inm ($(cat "$tmp/inm.body" 2>/dev/null | wc -c) bytes), old date $code_old"
}

check_ranges() {
    local code range code416 cr416 code_ifr
    code=$(timeout 20 curl -s -D "$tmp/range.hdr" -o "$tmp/range.body" -w '%{http_code}' \
        --max-time 10 -r 10-19 "$URL/img/logo.png")
    range=$(header "$tmp/range.hdr" Content-Range)
    code416=$(timeout 20 curl -s -D "$tmp/r416.hdr" -o /dev/null -w '%{http_code}' \
        --max-time 10 -r 99999999- "$URL/img/logo.png")
    cr416=$(header "$tmp/r416.hdr" Content-Range)
    code_ifr=$(timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 -r 0-9 \
        -H 'If-Range: "stale"' "$URL/img/logo.png")
    local size
    size=$(stat -c %s "$SITE/img/logo.png")
    [[ $code == 206 && $range == "bytes 10-19/$size" && $code416 == 416 &&
        $cr416 == "bytes */$size" && $code_ifr == 200 ]] &&
        cmp -s "$tmp/range.body" <(tail -c +11 "$SITE/img/logo.png" | head -c 10)
    report $? "ranges: -r 10-19 gives 206 'bytes 10-19/$size' and those bytes; past the end 416 'bytes */$size'; a stale If-Range 200" \
        "saw $code '$range', $code416 '$cr416', If-Range $code_ifr"
}

# The server closes first: its side walks FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT.
server_closed_first() {
    grep -q "$1 > $ADDR:80 ESTABLISHED -> FIN-WAIT-1" "$tmp/trace.log" &&
        grep -q "$1 > $ADDR:80 FIN-WAIT-2 -> TIME-WAIT" "$tmp/trace.log"
}

check_http10() {
    local port
    port=$(timeout 20 curl -sv --http1.0 --max-time 10 -o /dev/null -w '%{local_port}' \
        "$URL/" 2>"$tmp/h10.err")
    [[ $(status_of "$tmp/h10.err") == 200 ]] && grep -qi '^< Connection: close' "$tmp/h10.err" &&
        grep -q 'Closing connection' "$tmp/h10.err"
    report $? "curl --http1.0: 200, Connection: close, the server closes" \
        "$(grep '^[<*]' "$tmp/h10.err" | tail -n 8)"
    wait_until 3 server_closed_first "10.0.0.1:${port:-none}"
    report $? "the server closed first: trace shows ESTABLISHED -> FIN-WAIT-1 ... FIN-WAIT-2 -> TIME-WAIT" \
        "client port '${port:-unknown}'; trace ends:" "$(tail_of "$tmp/trace.log")"
}

check_keepalive() {
    local codes connects
    codes=$(timeout 30 curl -s --max-time 20 -w '%{http_code} %{num_connects}\n' \
        -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        "$URL/" "$URL/css/synack.css" "$URL/img/logo.png" "$URL/favicon.ico")
    connects=$(awk '{n += $2} END {print n}' <<<"$codes")
    [[ $(awk '{print $1}' <<<"$codes" | tr '\n' ' ') == "200 200 200 200 " && $connects == 1 ]]
    report $? "curl keep-alive: 4 URLs, all 200, over 1 connection" \
        "saw (code connects): $(tr '\n' ';' <<<"$codes")"
}

check_errors() {
    local c404 c405 allow c501 body
    c404=$(timeout 20 curl -s -o "$tmp/404.body" -w '%{http_code}' --max-time 10 "$URL/no/such")
    c405=$(timeout 20 curl -s -D "$tmp/405.hdr" -o /dev/null -w '%{http_code}' --max-time 10 \
        -X POST -d 'x=1' "$URL/hello")
    allow=$(header "$tmp/405.hdr" Allow)
    c501=$(timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X BREW "$URL/")
    [[ $c404 == 404 && $c405 == 405 && $allow == "GET, HEAD, OPTIONS" && $c501 == 501 ]] &&
        cmp -s "$tmp/404.body" "$SITE/404.html"
    report $? "errors: 404 is the site's styled 404.html, POST 405 with Allow: GET, HEAD, OPTIONS, BREW 501" \
        "saw 404: $c404, 405: $c405 Allow '$allow', 501: $c501"
}

# "Expect: 100-continue" (RFC 9110 §10.1.1): curl holds a 500 KB body back
# and waits up to 1 s for an answer; the 405 comes at once, so curl never
# says it gave up waiting, and it sends none of the body.
check_expect_continue() {
    local code
    head -c 500000 /dev/zero >"$tmp/upload.bin"
    code=$(timeout 20 curl -sv -o /dev/null -w '%{http_code}' --max-time 10 \
        -H 'Expect: 100-continue' --data-binary @"$tmp/upload.bin" "$URL/hello" 2>"$tmp/expect.err")
    [[ $code == 405 ]] && grep -q '^< Connection: close' "$tmp/expect.err" &&
        ! grep -q 'Done waiting for 100-continue' "$tmp/expect.err"
    report $? "Expect: 100-continue: POST of 500 KB answered 405 before the body, Connection: close" \
        "saw $code; curl said:" "$(grep -iE 'expect|100|done waiting|^< ' "$tmp/expect.err" | head -n 8)"
}

# ---- other clients --------------------------------------------------------

check_wget() {
    rm -f "$tmp/wget.body"
    timeout 20 wget -q -T 10 -t 1 -O "$tmp/wget.body" "$URL/hello"
    local rc=$?
    [[ $rc == 0 ]] && cmp -s "$tmp/wget.body" "$SITE/index.html"
    report $? "wget /hello: exit 0 and the page's bytes" "saw exit $rc"
}

check_urllib() {
    local out
    out=$(timeout 20 $PY - "$URL/img/logo.png" "$SITE/img/logo.png" 2>&1 <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    body = r.read()
    ok = (r.status == 200 and r.headers["Content-Type"] == "image/png"
          and body == open(sys.argv[2], "rb").read())
    print("ok" if ok else "bad %s %s %d" % (r.status, r.headers["Content-Type"], len(body)))
EOF
    )
    [[ $out == ok ]]
    report $? "python3 urllib /img/logo.png: 200, image/png, the logo's bytes" "saw: $out"
}

check_pipelined() {
    local out
    out=$(timeout 20 $PY - "$ADDR" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
          b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /css/synack.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
statuses = []
rest = data
while rest:
    head, _, rest = rest.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    statuses.append(lines[0].decode())
    fields = dict(l.split(b": ", 1) for l in lines[1:])
    n = int(fields.get(b"Content-Length", b"0"))
    if "404" not in lines[0].decode():   # HEAD: no body follows
        rest = rest[n:]
print(" | ".join(statuses))
EOF
    )
    [[ $out == "HTTP/1.1 200 OK | HTTP/1.1 404 Not Found | HTTP/1.1 200 OK" ]]
    report $? "three pipelined requests in one write: answered in order 200, 404 (HEAD), 200, then closed" \
        "saw: $out"
}

check_raw_errors() {
    local out
    out=$(timeout 20 $PY - "$ADDR" 2>&1 <<'EOF'
import socket, sys
def ask(raw):
    s = socket.create_connection((sys.argv[1], 80), timeout=10)
    s.sendall(raw)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    return data.split(b"\r\n", 1)[0].decode()
print(ask(b"GET / HTTP/1.1\r\n\r\n"), "|",
      ask(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"), "|",
      ask(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), "|",
      ask(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
EOF
    )
    [[ $out == "HTTP/1.1 400 Bad Request | HTTP/1.1 505 HTTP Version Not Supported | HTTP/1.1 400 Bad Request | HTTP/1.1 414 URI Too Long" ]]
    report $? "raw requests: no Host 400, HTTP/2.0 505, Content-Length with Transfer-Encoding 400, a 9000-byte target 414" \
        "saw: $out"
}

# ---- Chromium ------------------------------------------------------------

chromium_bin() { command -v chromium || command -v chromium-browser; }

check_chromium() {
    local bin shot=$tmp/shot.png
    bin=$(chromium_bin)
    if [[ -z $bin ]]; then
        not_ok "headless Chromium loads /hello" "chromium is not installed (tests/deps.sh installs it)"
        return
    fi
    : >"$tmp/access.log.before"
    cp "$tmp/access.log" "$tmp/access.log.before" 2>/dev/null
    timeout 90 "$bin" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$tmp/chromium-profile" \
        --screenshot="$shot" --window-size=1024,768 "$URL/hello" >"$tmp/chromium.log" 2>&1
    local rc=$?
    wait_until 5 grep -q '"GET /img/logo.png HTTP/1.1" 200' "$tmp/access.log"
    local new
    new=$(comm -13 <(sort "$tmp/access.log.before") <(sort "$tmp/access.log"))
    local missing=
    for want in '"GET /hello HTTP/1.1" 200' '"GET /css/synack.css HTTP/1.1" 200' \
        '"GET /img/logo.png HTTP/1.1" 200'; do
        grep -qF "$want" <<<"$new" || missing+=" $want"
    done
    [[ -z $missing ]]
    report $? "Chromium loads /hello: the access log shows the page, CSS and logo with 200" \
        "chromium exit $rc; missing:$missing; new log lines:" "$new" "$(tail -n 3 "$tmp/chromium.log")"
    local px
    px=$(timeout 30 $PY - "$shot" 2>&1 <<'EOF'
import sys
from PIL import Image
img = Image.open(sys.argv[1]).convert("RGB")
colours = img.getcolors(1 << 24)
yellow = sum(n for n, (r, g, b) in colours
             if abs(r - 255) <= 24 and abs(g - 210) <= 24 and abs(b - 63) <= 40)
print(len(colours), yellow)
EOF
    )
    local ncolours=${px%% *} nyellow=${px##* }
    [[ $ncolours =~ ^[0-9]+$ && $nyellow =~ ^[0-9]+$ ]] && ((ncolours > 16 && nyellow > 300))
    report $? "Chromium's screenshot is not blank and shows the logo's yellow (#FFD23F)" \
        "expected > 16 colours and > 300 logo-yellow pixels; saw: $px"
}

# ---- the root jail -------------------------------------------------------

check_jail() {
    local root=$tmp/jail-root out
    mkdir -p "$root/sub"
    echo "inside" >"$root/index.html"
    echo "page" >"$root/sub/page.txt"
    ln -s /etc/passwd "$root/leak.txt"
    ln -s /etc "$root/etc-link"
    ln -s ../index.html "$root/sub/up.html"   # stays inside: allowed
    head -c 3000000 /dev/urandom >"$root/big.bin"
    if ! start jail --tun synack1 --tun-addr 10.0.1.1/24 --addr 10.0.1.2 --root "$root" \
        --header-timeout 1; then
        not_ok "synackd starts with --root $root" "$(tail_of "$tmp/jail.err")"
        return
    fi
    local jail_pid=$daemon u=http://10.0.1.2
    out=""
    for path in /leak.txt /etc-link/passwd /../../etc/passwd /%2e%2e/%2e%2e/etc/passwd \
        /sub/..%2f..%2fetc/passwd /sub/up.html /sub/page.txt; do
        code=$(timeout 20 curl -s --path-as-is -o "$tmp/jail.body" -w '%{http_code}' \
            --max-time 10 "$u$path")
        grep -q '^root:' "$tmp/jail.body" && code="$code-LEAKED"
        out+="$path=$code "
    done
    [[ $out == "/leak.txt=404 /etc-link/passwd=404 /../../etc/passwd=404 /%2e%2e/%2e%2e/etc/passwd=404 /sub/..%2f..%2fetc/passwd=404 /sub/up.html=200 /sub/page.txt=200 " ]]
    report $? "root jail: symlinks to /etc/passwd and /etc, .., %2e%2e and %2f give 404 and never the file; a symlink within the root is served" \
        "saw: $out"
    timeout 60 curl -s --max-time 50 -o "$tmp/big.body" "$u/big.bin"
    cmp -s "$tmp/big.body" "$root/big.bin"
    report $? "a 3 MB file streams intact over the real TUN (curl, cmp)" \
        "got $(stat -c %s "$tmp/big.body" 2>/dev/null || echo 0) bytes"
    out=$(timeout 20 $PY - 10.0.1.2 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")   # and then nothing: slowloris
t = time.time()
data = s.recv(65536)
print(data.split(b"\r\n", 1)[0].decode(), "after %.1f s" % (time.time() - t))
EOF
    )
    [[ $out =~ ^"HTTP/1.1 408 Request Timeout after "[12]\. ]]
    report $? "--header-timeout 1: an unfinished request head gets 408 after about 1 s" "saw: $out"
    stop "$jail_pid" jail
}

check_access_log_format() {
    local bad
    bad=$(grep -cvE '^10\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "[^"]*" [0-9]{3} ([0-9]+|-) "[^"]*" "[^"]*"$' \
        "$tmp/access.log")
    [[ -s $tmp/access.log && $bad == 0 ]] &&
        grep -qE '"GET /hello HTTP/1.1" 200 [0-9]+ "-" "curl/' "$tmp/access.log"
    report $? "--access-log: every line is Combined Log Format" \
        "$bad lines do not match; first lines:" "$(head -n 3 "$tmp/access.log")"
}

# ---- run -------------------------------------------------------------------

if [[ ! -x $SYNACKD ]]; then
    not_ok "synackd binary exists" "expected an executable at $SYNACKD (make build/synackd-san)"
elif ! start main --access-log "$tmp/access.log" --trace "$tmp/trace.log"; then
    not_ok "synackd starts serving the bundled site" "$(tail_of "$tmp/main.err")"
else
    main_pid=$daemon
    ok "synackd serves the bundled site: $(head -n 1 "$tmp/main.out")"
    check_get
    check_head
    check_conditional
    check_ranges
    check_http10
    check_keepalive
    check_errors
    check_expect_continue
    check_wget
    check_urllib
    check_pipelined
    check_raw_errors
    check_chromium
    check_access_log_format
    stop "$main_pid" main
    check_jail
fi

echo "$passed passed, $failed failed"
((failed == 0))
