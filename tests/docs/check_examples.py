"""
check_examples.py -- code quoted in docs/*.md stays the code it quotes.

A fenced block right after a line `<!-- example: PATH -->` must appear,
verbatim, in the file PATH (the whole file, or one piece of it), so an
example in the docs cannot drift from the test or source it shows.

A reference to a line of code must still point at it: "fn() at
`FILE:LINE`" at fn's definition, and "`FILE:LINE` in fn()" (a state
change or event the trace recorded there) at a line inside fn that makes
one.  docs/walkthrough.md, generated from a run, is full of them; when the
code moves, regenerate it as it says.
Prints "ok - ..." / "not ok - ..." lines and "N passed, M failed".
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARK = re.compile(r"^<!-- example: (\S+) -->$")


def examples(doc):
    """(path, block text, line number) for each marked block of doc."""
    lines = open(doc, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        m = MARK.match(line)
        if not m or i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            continue
        end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
        if end is not None:
            yield m.group(1), "\n".join(lines[i + 2:end]), i + 1


DEFINED_AT = re.compile(r"(\w+)\(\) at `((?:stack|http|tun)/[\w/]+\.c):(\d+)`")
LINE_IN = re.compile(r"`((?:stack|http|tun)/[\w/]+\.c):(\d+)` in (\w+)\(\)")
FUNC_START = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\(")
# What a trace record's file:line stands on: a state change or a traced event.
TRACES = re.compile(r"\b(tcp_set_state|TRACE_\w+|tcp_trace_\w+)\s*\(")


def enclosing_function(lines, index):
    """The function whose definition is the last one at or above lines[index]."""
    for i in range(index, -1, -1):
        m = FUNC_START.match(lines[i])
        if m and not lines[i].rstrip().endswith(";"):
            return m.group(1)
    return None


def code_references(doc):
    """(name, ok, why) for each "fn() at `F:L`" and "`F:L` in fn()" of doc."""
    text = open(doc, encoding="utf-8").read()
    seen = set()
    refs = [(m.group(2), int(m.group(3)), m.group(1), True) for m in DEFINED_AT.finditer(text)]
    refs += [(m.group(1), int(m.group(2)), m.group(3), False) for m in LINE_IN.finditer(text)]
    for path, line, fn, is_def in refs:
        if (path, line, fn, is_def) in seen:
            continue
        seen.add((path, line, fn, is_def))
        name = "%s: %s %s %s:%d" % (os.path.relpath(doc, ROOT), fn + "()",
                                    "defined at" if is_def else "contains", path, line)
        try:
            lines = open(os.path.join(ROOT, path), encoding="utf-8").read().split("\n")
        except OSError as e:
            yield name, False, str(e)
            continue
        if not 1 <= line <= len(lines):
            yield name, False, "the file has %d lines" % len(lines)
            continue
        got = enclosing_function(lines, line - 1)
        if is_def:
            ok = FUNC_START.match(lines[line - 1]) is not None and got == fn
        else:
            ok = got == fn and TRACES.search(lines[line - 1]) is not None
        what = ("is in %s()" % got if got != fn else
                "is not %s()'s definition" % fn if is_def else "makes no state change or trace")
        yield name, ok, "" if ok else "line %d %s now: %r" % (line, what, lines[line - 1].strip()[:60])


def main():
    passed = failed = 0
    for doc in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        for name, ok, why in code_references(doc):
            print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why +
                  " (the code moved: update the docs)"))
            passed += ok
            failed += not ok
    for doc in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        for path, block, line in examples(doc):
            name = "%s:%d quotes %s" % (os.path.relpath(doc, ROOT), line, path)
            try:
                text = open(os.path.join(ROOT, path), encoding="utf-8").read()
            except OSError as e:
                ok, why = False, str(e)
            else:
                ok = block.strip("\n") in text
                why = "" if ok else "the block is not in the file (update the docs)"
            print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why))
            passed += ok
            failed += not ok
    if passed + failed == 0:
        print("not ok - docs/ has marked examples")
        failed = 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
