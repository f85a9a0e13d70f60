"""
check_state_table.py -- keeps docs/tcp-state-machine.md true.

1. Each row of the transition table names a function that exists in the
   named file and, in its body, moves a connection to the row's new state
   (tcp_set_state(..., TCP_<NEW>, ...), or enter_timewait() for TIME-WAIT).
2. Each tcp_set_state() call in stack/ (the one door for state changes)
   is covered by a row naming its enclosing function and new state.
Prints "ok - ..." / "not ok - ..." lines and "N passed, M failed".
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "tcp-state-machine.md")


def enum_name(state):
    return "TCP_" + state.strip().replace("-", "_")


def functions(path):
    """{name: body} for every top-level function definition in a C file."""
    text = open(os.path.join(ROOT, path)).read()
    out = {}
    for m in re.finditer(r"^(?:static\s+)?[\w\s\*]+?\b(\w+)\(([^;{]*?)\)\s*\{", text, re.M):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out[m.group(1)] = text[m.end():i]
    return out


def table_rows():
    rows = []
    in_table = False
    for line in open(DOC):
        if line.startswith("| from | to |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[1], cells[3].strip("`"), cells[4].strip("`")))
    return rows


def moves_to(body, new):
    if new == "TIME-WAIT" and "enter_timewait(" in body:
        return True
    return re.search(r"tcp_set_state\(\s*\w+\s*,\s*%s\b" % enum_name(new), body) is not None


def main():
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("ok - " if ok else "not ok - ") + what)
        passed += ok
        failed += not ok

    rows = table_rows()
    check(len(rows) >= 15, "the table has its rows (%d)" % len(rows))
    cache = {}
    for frm, new, func, path in rows:
        fns = cache.setdefault(path, functions(path))
        check(func in fns and moves_to(fns[func], new),
              "%s -> %s is made by %s() in %s" % (frm, new, func, path))

    covered = {(func, new) for _, new, func, _ in rows}
    for name in sorted(os.listdir(os.path.join(ROOT, "stack"))):
        if not name.endswith(".c"):
            continue
        path = "stack/" + name
        for func, body in functions(path).items():
            if func == "tcp_set_state_at":
                continue
            for m in re.finditer(r"tcp_set_state\(\s*\w+\s*,\s*TCP_(\w+)", body):
                state = m.group(1).replace("_", "-")
                if func == "enter_timewait":
                    continue  # its callers are the rows
                check((func, state) in covered,
                      "%s() moving to %s has a row in the table" % (func, state))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
