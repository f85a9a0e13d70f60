#!/usr/bin/python3
"""report.py -- the table of a `make bench` run, as Markdown.

    bench/report.py RESULTS_DIR

Reads RESULTS_DIR/raw.txt (one `key=value ...` line per measurement, written
by bench/run.sh) and RESULTS_DIR/machine.txt, and prints medians over the
rounds with the ratios synack/nginx, synack/ceiling and the issue's targets.
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def parse(path):
    rows = []
    for line in Path(path).read_text().splitlines():
        row = {}
        for tok in line.split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                row[k] = v
        if row:
            rows.append(row)
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


class Results:
    def __init__(self, rows):
        self.by = defaultdict(list)
        for r in rows:
            key = (r.get("server"), r.get("mtu"), r.get("workload"))
            self.by[key].append(r)

    def values(self, server, mtu, workload, fn):
        out = []
        for r in self.by.get((server, str(mtu), workload), []):
            v = fn(r)
            if v is not None:
                out.append(v)
        return out

    def median(self, server, mtu, workload, fn):
        v = self.values(server, mtu, workload, fn)
        return statistics.median(v) if v else None

    def spread(self, server, mtu, workload, fn, digits=0):
        """The median, and the range over the rounds when there are several."""
        v = self.values(server, mtu, workload, fn)
        if not v:
            return "–"
        if len(v) == 1:
            return fmt(v[0], digits)
        return f"{fmt(statistics.median(v), digits)} ({fmt(min(v), digits)}–{fmt(max(v), digits)})"


def cpu_per_req(r):
    req = num(r.get("requests"))
    if not req:
        return None
    return (num(r["cpu_user_us"]) + num(r["cpu_sys_us"])) / req


def client_per_req(r):
    req = num(r.get("requests"))
    core = num(r.get("client_core_us"))
    return core / req if req and core is not None else None


def errors(r):
    return sum(int(r.get(k, 0)) for k in
               ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))


def fmt(v, digits=0):
    if v is None:
        return "–"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or not b:
        return None
    return a / b


def fmt_ratio(v):
    return "–" if v is None else f"{v:.2f}×"


def verdict(ok):
    if ok is None:
        return "–"
    return "met" if ok else "**not met**"


# "Back to its idle level": what the bounded caches a run fills may add to
# the idle RSS -- the trace ring (4096 records, ~0.8 MiB once full), spare
# request buffers (<= 8 x 42 KiB), ring-pool slots once used, small files.
RSS_SETTLED_MIB = 2.0


def mib(kb):
    return None if kb is None else kb / 1024


# Client CPUs this busy (on average) are the bound of the run, not the server.
CLIENT_BOUND_BUSY = 95


def print_client_bound(bounds, machine):
    """Say so when B missed its target because wrk's own CPUs were full: at
    the client's cost per connection, it cannot go faster."""
    cpus = machine.get("client_cpus", "1")
    ncpu = int(machine.get("client_ncpus", "1"))
    threads = int(machine.get("wrk_threads", "1"))
    who = "one wrk thread opens" if threads == 1 else f"wrk's {threads} threads open"
    where = f"its core (CPU {cpus}) was" if ncpu == 1 else f"its {ncpu} cores (CPUs {cpus}) were"
    for mtu, rb, b_n, per_conn, busy in bounds:
        if rb is None or rb >= 2.0 or not per_conn or busy is None:
            continue
        if busy < CLIENT_BOUND_BUSY:
            continue
        print()
        print(f"B at MTU {mtu} is bound by the client: {where} {busy:.0f} % busy "
              f"and spent {per_conn:.1f} µs per connection (wrk's system calls and "
              f"the kernel work they cause), so {who} at most "
              f"{min(ncpu, threads) * 1e6 / per_conn:,.0f} connections/s; "
              f"2× nginx needs {2 * b_n:,.0f}.")


def main():
    out = Path(sys.argv[1])
    rows = parse(out / "raw.txt")
    machine = {}
    mpath = out / "machine.txt"
    if mpath.exists():
        for line in mpath.read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                machine[k] = v
    res = Results(rows)
    mtus = sorted({int(r["mtu"]) for r in rows if r.get("mtu")})
    rounds = machine.get("rounds", "?")

    print(f"`make bench`, {machine.get('date', '?')}: {machine.get('cpu', '?')} CPUs, "
          f"{machine.get('mem', '?')}, Linux {machine.get('kernel', '?')}; synack "
          f"{machine.get('synack', '?')}, nginx {machine.get('nginx', '?')}, "
          f"wrk {machine.get('wrk', '?')}.  Medians of {rounds} interleaved rounds; "
          f"server on CPU {machine.get('server_cpu', '0')}, client on CPU "
          f"{machine.get('client_cpus', '1')} (wrk -t{machine.get('wrk_threads', '1')} "
          "in A and B); (min–max) over the rounds.")
    busy = machine.get("busy_before")
    if busy and int(busy) > 5:
        print()
        print(f"**The machine was {busy}% busy with other work when the bench began: "
              "these numbers are skewed.**")
    print()
    print("| workload | MTU | synack | nginx | synack/nginx | target | |")
    print("|---|---:|---:|---:|---:|---|---|")
    client_bounds = []
    # Medians over the rounds; (min–max) when there are several.
    for mtu in mtus:
        def m(server, wl, fn):
            return res.median(server, mtu, wl, fn)

        def sp(server, wl, key):
            return res.spread(server, mtu, wl, lambda r: num(r.get(key)))

        a_s = m("synack", "A", lambda r: num(r.get("rps")))
        a_n = m("nginx", "A", lambda r: num(r.get("rps")))
        ra = ratio(a_s, a_n)
        print(f"| A keep-alive 1 KiB, req/s | {mtu} | {sp('synack', 'A', 'rps')} | "
              f"{sp('nginx', 'A', 'rps')} | {fmt_ratio(ra)} "
              f"| ≥ 2.0× | {verdict(None if ra is None else ra >= 2.0)} |")
        ca_s = m("synack", "A", cpu_per_req)
        ca_n = m("nginx", "A", cpu_per_req)
        print(f"| E: A, server CPU µs/request | {mtu} | {fmt(ca_s, 1)} | {fmt(ca_n, 1)} "
              f"| {fmt_ratio(ratio(ca_s, ca_n))} | ≤ 8 µs | "
              f"{verdict(None if ca_s is None else ca_s <= 8)} |")
        b_s = m("synack", "B", lambda r: num(r.get("rps")))
        b_n = m("nginx", "B", lambda r: num(r.get("rps")))
        rb = ratio(b_s, b_n)
        print(f"| B new connection per request, conn/s | {mtu} | {sp('synack', 'B', 'rps')} | "
              f"{sp('nginx', 'B', 'rps')} | {fmt_ratio(rb)} | ≥ 2.0× | "
              f"{verdict(None if rb is None else rb >= 2.0)} |")
        e_s = sum(res.values("synack", mtu, "B", errors))
        e_n = sum(res.values("nginx", mtu, "B", errors))
        print(f"| B socket errors (all rounds) | {mtu} | {e_s} | {e_n} | | 0 | "
              f"{verdict(e_s == 0)} |")
        tf = res.values("synack", mtu, "B", lambda r: num(r.get("ctr_table_full")))
        if tf:
            print(f"| B SYNs synackd dropped, table full (per run) | {mtu} | "
                  f"{fmt(statistics.median(tf))} | | | | |")
        cb_s = m("synack", "B", cpu_per_req)
        cb_n = m("nginx", "B", cpu_per_req)
        print(f"| E: B, server CPU µs/request | {mtu} | {fmt(cb_s, 1)} | {fmt(cb_n, 1)} "
              f"| {fmt_ratio(ratio(cb_s, cb_n))} | | |")
        kb_s = m("synack", "B", client_per_req)
        kb_n = m("nginx", "B", client_per_req)
        print(f"| B: client CPU µs/connection | {mtu} | {fmt(kb_s, 1)} | {fmt(kb_n, 1)} "
              f"| {fmt_ratio(ratio(kb_s, kb_n))} | | |")
        client_bounds.append((mtu, rb, b_n, kb_s,
                              m("synack", "B", lambda r: num(r.get("client_cpu_busy")))))
        c_s = m("synack", "C", lambda r: num(r.get("mbps")))
        c_n = m("nginx", "C", lambda r: num(r.get("mbps")))
        rc = ratio(c_s, c_n)
        target_c = "≥ 1.0×" if mtu >= 65535 else ""
        ok_c = (rc >= 1.0 if rc is not None else None) if mtu >= 65535 else None
        print(f"| C bulk 100 MiB, MB/s | {mtu} | {sp('synack', 'C', 'mbps')} | "
              f"{sp('nginx', 'C', 'mbps')} | {fmt_ratio(rc)} "
              f"| {target_c} | {verdict(ok_c) if target_c else ''} |")
        ceil_vals = [num(r["MBps"]) for r in rows
                     if r.get("server") == "ceiling" and r.get("mode") == "csum"
                     and r.get("size") == str(mtu)]
        ceil = statistics.median(ceil_vals) if ceil_vals else None
        rceil = ratio(c_s, ceil)
        target = "≥ 0.8×" if mtu == 1500 else ""
        ok = (rceil >= 0.8 if rceil is not None else None) if mtu == 1500 else None
        print(f"| C synack/ceiling (F: {fmt(ceil)} MB/s) | {mtu} | | | {fmt_ratio(rceil)} "
              f"| {target} | {verdict(ok) if target else ''} |")
        sha = {s: res.values(s, mtu, "sha", lambda r: r.get("ok")) for s in ("synack", "nginx")}
        print(f"| C sha256 of one whole download | {mtu} | "
              f"{'ok' if sha['synack'] == ['1'] else 'FAILED' if sha['synack'] else '–'} | "
              f"{'ok' if sha['nginx'] == ['1'] else 'FAILED' if sha['nginx'] else '–'} | | | |")

    print_client_bound(client_bounds, machine)
    print()
    print("Memory, RSS in MiB (synackd; nginx for comparison):")
    print()
    print("| MTU | server | idle | peak after A | after B | B + 2·MSL later | "
          "10,000 idle, opened | 10,000 idle, after one request each |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for mtu in mtus:
        for server in ("synack", "nginx"):
            idle = res.median(server, mtu, "idle", lambda r: num(r.get("rss_kb")))
            hwm = res.median(server, mtu, "A", lambda r: num(r.get("hwm_kb")))
            after_b = res.median(server, mtu, "B", lambda r: num(r.get("rss_kb")))
            drain = res.median(server, mtu, "drain", lambda r: num(r.get("rss_kb")))
            d_open = res.median(server, mtu, "D_open", lambda r: num(r.get("rss_kb")))
            d_req = res.median(server, mtu, "D_request", lambda r: num(r.get("rss_kb")))
            opened = res.values(server, mtu, "D_open", lambda r: r.get("open"))
            opened_r = res.values(server, mtu, "D_request", lambda r: r.get("open"))
            secs_r = res.values(server, mtu, "D_request", lambda r: r.get("seconds"))
            inc_o = res.values(server, mtu, "D_open", lambda r: r.get("incomplete"))
            inc_r = res.values(server, mtu, "D_request", lambda r: r.get("incomplete"))
            note_o = (" (**not all opened in 90 s**)" if inc_o else
                      f" ({opened[0]} open)" if opened else "")
            note_r = (" (**not all opened in 90 s**)" if inc_r else
                      f" ({opened_r[0]} open, {secs_r[0]} s to open)" if opened_r else "")
            print(f"| {mtu} | {server} | {fmt(mib(idle), 1)} | {fmt(mib(hwm), 1)} | "
                  f"{fmt(mib(after_b), 1)} | {fmt(mib(drain), 1)} | "
                  f"{fmt(mib(d_open), 1)}{note_o} | {fmt(mib(d_req), 1)}{note_r} |")
    print()
    print("Targets for synackd: idle ≤ 4 MiB, 10,000 idle connections ≤ 32 MiB, "
          "RSS back to idle after B (here: within RSS_SETTLED_MIB of idle once B's "
          "TIME-WAITs are over: room for the bounded caches a run fills, the trace "
          "ring, spare request buffers, ring-pool slots and small files).")
    print()
    print("| D target | MTU | synack | target | |")
    print("|---|---:|---:|---|---|")
    for mtu in mtus:
        idle = mib(res.median("synack", mtu, "idle", lambda r: num(r.get("rss_kb"))))
        drain = mib(res.median("synack", mtu, "drain", lambda r: num(r.get("rss_kb"))))
        checks = [("idle", idle, 4, "≤ 4 MiB")]
        for wl, what in (("D_open", "10,000 idle connections"),
                         ("D_request", "10,000 idle, after one request each")):
            v = mib(res.median("synack", mtu, wl, lambda r: num(r.get("rss_kb"))))
            full = not res.values("synack", mtu, wl, lambda r: r.get("incomplete"))
            checks.append((what, v if full else None, 32, "≤ 32 MiB"))
        for what, v, limit, target in checks:
            print(f"| {what} | {mtu} | {fmt(v, 1)} MiB | {target} | "
                  f"{verdict(v is not None and v <= limit)} |")
        if drain is not None and idle is not None:
            print(f"| B + 2·MSL later, above idle | {mtu} | {drain - idle:+.1f} MiB | "
                  f"≤ {RSS_SETTLED_MIB} MiB | {verdict(drain - idle <= RSS_SETTLED_MIB)} |")
    print()

    print("Where the time goes (medians): CPU busy on the server's and the client's "
          "core, and latency:")
    print()
    print("| workload | MTU | server | server CPU user / sys (stat) | total (schedstat) | "
          "server core busy | client CPU busy | client CPU | p50 | p99 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for mtu in mtus:
        for wl in ("A", "C", "B"):
            for server in ("synack", "nginx"):
                # per request for A and B; per MB (10^6 bytes) for C
                def per(r, key):
                    d = num(r.get("bytes")) / 1e6 if wl == "C" else num(r.get("requests"))
                    return num(r.get(key)) / d if d else None
                unit = "µs/MB" if wl == "C" else "µs/req"
                us_u = res.median(server, mtu, wl, lambda r: per(r, "cpu_user_us"))
                us_s = res.median(server, mtu, wl, lambda r: per(r, "cpu_sys_us"))
                us_t = res.median(server, mtu, wl, lambda r: per(r, "sched_us"))
                us = f"{fmt(us_u, 1)} / {fmt(us_s, 1)} {unit}"
                tot = f"{fmt(us_t, 1)} {unit}"
                sb = res.median(server, mtu, wl, lambda r: num(r.get("server_cpu_busy")))
                cb = res.median(server, mtu, wl, lambda r: num(r.get("client_cpu_busy")))
                kc = res.median(server, mtu, wl, lambda r: per(r, "client_core_us")
                                if r.get("client_core_us") else None)
                p50 = res.median(server, mtu, wl, lambda r: num(r.get("p50_us")))
                p99 = res.median(server, mtu, wl, lambda r: num(r.get("p99_us")))
                lat = (lambda v: "–" if v is None else
                       (f"{v / 1000:.1f} ms" if v >= 1000 else f"{v:.0f} µs"))
                print(f"| {wl} | {mtu} | {server} | {us} | {tot} | {fmt(sb)}% | {fmt(cb)}% | "
                      f"{'–' if kc is None else f'{kc:,.1f} {unit}'} | {lat(p50)} | {lat(p99)} |")
    print()

    print("F, the ceiling: one write() per packet to a TUN fd, on the server's core:")
    print()
    print("| packet bytes | packets/s, checksum verified | MB/s | packets/s, no checksum | MB/s |")
    print("|---:|---:|---:|---:|---:|")
    sizes = sorted({int(r["size"]) for r in rows if r.get("server") == "ceiling"})
    for size in sizes:
        def cm(mode, key):
            v = [num(r[key]) for r in rows if r.get("server") == "ceiling"
                 and r.get("mode") == mode and r.get("size") == str(size)]
            return statistics.median(v) if v else None
        print(f"| {size} | {fmt(cm('csum', 'pps'))} | {fmt(cm('csum', 'MBps'))} | "
              f"{fmt(cm('nocsum', 'pps'))} | {fmt(cm('nocsum', 'MBps'))} |")
    hung = [r for r in rows if r.get("wrk_hung") == "1"]
    if hung:
        print()
        print("**wrk never finished in: " + ", ".join(
            f"{r['server']} {r['workload']} MTU {r['mtu']} round {r['round']}" for r in hung) +
            "** (a connection that never opened; recorded as 0).")
    print()
    print("MB = 10^6 bytes.  C counts response bytes read by wrk (partial responses "
          "included) over the run's real duration; the ceiling counts whole packets.  "
          "CPU = utime + stime of the server process (/proc/PID/stat); stime includes "
          "the kernel's processing of the packets the server sends, which Linux runs "
          "in the sender's context for both a TUN and a veth.")


if __name__ == "__main__":
    main()
