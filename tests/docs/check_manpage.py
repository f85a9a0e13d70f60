"""
check_manpage.py -- keeps docs/synackd.8 true to `synackd --help`.

1. Every flag --help lists has an entry (.TP) in the man page, and every
   flag the man page describes exists (no stale entries).
2. Where --help gives a default, the man page's entry gives the same one.
3. groff renders the page without a warning (man -l docs/synackd.8).
Prints "ok - ..." / "not ok - ..." lines and "N passed, M failed".

    /usr/bin/python3 tests/docs/check_manpage.py [path/to/synackd]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "synackd.8")
FLAG_LINE = re.compile(r"^  (?:-\w, )?(--[a-z][a-z0-9-]*)")


def help_entries(binary):
    """{flag: its help text}, from the lines of --help."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                          check=True).stdout
    entries, current = {}, None
    for line in text.split("\n"):
        m = FLAG_LINE.match(line)
        if m:
            current = m.group(1)
            entries[current] = line
        elif current and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def plain(roff):
    """Roff source to text: fonts, escapes and requests away."""
    s = re.sub(r"\\f[BIRP]", "", roff)
    s = s.replace("\\-", "-").replace("\\(+-", "+-").replace("\\(sc", "§").replace("\\c", "")
    s = re.sub(r"^\.(?:B|I|BI|IR|RB|BR|RI)\s+", "", s, flags=re.M)
    return s.replace('"', "")


def page_entries():
    """{flag: its text} for each .TP entry of the page whose tag names flags."""
    lines = open(PAGE, encoding="utf-8").read().split("\n")
    entries = {}
    for i, line in enumerate(lines):
        if line != ".TP" or i + 1 >= len(lines):
            continue
        body = []
        for nxt in lines[i + 2:]:
            if nxt.startswith((".TP", ".SH", ".SS")):
                break
            body.append(nxt)
        text = plain("\n".join(body)).replace("\n", " ")
        for flag in re.findall(r"--[a-z][a-z0-9-]*", plain(lines[i + 1])):
            entries[flag] = text
    return entries


def default_of(text):
    """The first word of '(default X' in a help or page text; None if none."""
    m = re.search(r"\(default (?!:)([^\s);,]+)", text) or re.search(r"[Dd]efault ([^\s);,]+)", text)
    return m.group(1).rstrip(".:") if m else None


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "synackd")
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("ok - " if ok else "not ok - ") + what)
        passed += ok
        failed += not ok

    try:
        helps = help_entries(binary)
    except (OSError, subprocess.CalledProcessError) as e:
        check(False, "%s --help runs (%s; build it with make)" % (binary, e))
        print("%d passed, %d failed" % (passed, failed))
        return 1
    page = page_entries()
    check(len(helps) >= 30, "--help lists its flags (%d)" % len(helps))
    for flag in sorted(helps):
        check(flag in page, "%s has an entry in docs/synackd.8" % flag)
    stale = sorted(set(page) - set(helps))
    check(not stale, "every flag in docs/synackd.8 exists in --help%s" %
          (" (stale: %s)" % ", ".join(stale) if stale else ""))
    for flag in sorted(helps):
        want = default_of(helps[flag])
        if want and flag in page:
            got = default_of(page[flag])
            check(got == want, "%s: the man page gives the default --help gives (%s%s)" %
                  (flag, want, "" if got == want else ", page says %s" % got))
    res = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", PAGE], capture_output=True,
                         text=True)
    check(res.returncode == 0 and not res.stderr.strip(),
          "groff renders docs/synackd.8 without a warning %s" % res.stderr.strip()[:200])
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
