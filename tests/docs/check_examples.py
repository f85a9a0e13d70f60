"""
check_examples.py -- code quoted in docs/*.md stays the code it quotes.

A fenced block right after a line `<!-- example: PATH -->` must appear,
verbatim, in the file PATH (the whole file, or one piece of it), so an
example in the docs cannot drift from the test or source it shows.
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


def main():
    passed = failed = 0
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
