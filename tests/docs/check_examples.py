"""
check_examples.py -- code quoted in docs/*.md stays the code it quotes.

A fenced block right after a line `<!-- example: PATH -->` must appear,
verbatim, in the file PATH (the whole file, or one piece of it), so an
example in the docs cannot drift from the test or source it shows.

A reference to a line of code (docs/*.md and README.md) must still point
at it: "fn() at `FILE:LINE`" at fn's definition; any other FILE:LINE -- a
trace line's "[stack/tcp_input.c:65]", "`FILE:LINE` in fn()" -- at a line
(inside fn, when named) that makes a state change or traces an event.
docs/walkthrough.md, generated from a run, is full of them; when the code
moves, regenerate it as it says.
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


CODE_REF = re.compile(r"((?:stack|http|tun)/[\w/]+\.c):(\d+)")
DEFINED_AT = re.compile(r"(\w+)\(\) at `$")        # just before a reference
LINE_IN = re.compile(r"^` in (\w+)\(\)")           # just after one
FUNC_START = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\(")
# What a trace record's file:line stands on: a state change or a traced event.
TRACES = re.compile(r"\b(tcp_set_state|TRACE_\w+|\w*trace_\w+)\s*\(")


def statement_at(lines, index):
    """Line index and the lines before it that belong to the same statement:
    __LINE__ in a call split over lines is the line it is written on."""
    first = index
    while first > 0 and index - first < 4 and not lines[first - 1].rstrip().endswith((";", "{", "}")):
        first -= 1
    return " ".join(lines[first:index + 1])


def enclosing_function(lines, index):
    """The function whose definition is the last one at or above lines[index]."""
    for i in range(index, -1, -1):
        m = FUNC_START.match(lines[i])
        if m and not lines[i].rstrip().endswith(";"):
            return m.group(1)
    return None


def references(text):
    """(path, line, fn, is_definition) for each FILE.c:LINE in text: "fn() at
    `F:L`" names fn's definition; any other names a line that makes a state
    change or traces an event (a trace line's [F:L]), inside fn when "`F:L`
    in fn()" says so (fn None otherwise)."""
    for m in CODE_REF.finditer(text):
        before = DEFINED_AT.search(text, max(0, m.start() - 80), m.start())
        after = LINE_IN.match(text, m.end())
        fn = before.group(1) if before else after.group(1) if after else None
        yield m.group(1), int(m.group(2)), fn, before is not None


def check_reference(path, line, fn, is_def):
    """(ok, why) for one reference."""
    try:
        lines = open(os.path.join(ROOT, path), encoding="utf-8").read().split("\n")
    except OSError as e:
        return False, str(e)
    if not 1 <= line <= len(lines):
        return False, "the file has %d lines" % len(lines)
    got = enclosing_function(lines, line - 1)
    if is_def:
        ok = FUNC_START.match(lines[line - 1]) is not None and got == fn
        what = "is not %s()'s definition" % fn
    else:
        ok = (fn is None or got == fn) and TRACES.search(statement_at(lines, line - 1)) is not None
        what = "is in %s()" % got if fn and got != fn else "makes no state change or trace"
    return ok, "" if ok else "line %d %s now: %r" % (line, what, lines[line - 1].strip()[:60])


def code_references(doc):
    """(name, ok, why) for each distinct reference to a line of code in doc."""
    seen = set()
    for ref in references(open(doc, encoding="utf-8").read()):
        if ref in seen:
            continue
        seen.add(ref)
        path, line, fn, is_def = ref
        name = "%s: %s%s:%d" % (os.path.relpath(doc, ROOT),
                                "" if fn is None else fn + "() " + ("defined at " if is_def
                                                                    else "contains "),
                                path, line)
        ok, why = check_reference(*ref)
        yield name, ok, why


def main():
    passed = failed = 0
    docs = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for doc in docs + [os.path.join(ROOT, "README.md")]:
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
