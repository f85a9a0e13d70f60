#!/usr/bin/python3
"""
run.py -- the packet-level test runner (no pytest).

    /usr/bin/python3 tests/packet/run.py [PATTERN...]

Finds every test_* function in tests/packet/test_*.py (in file order) and
runs each in a forked child, so a sanitizer abort or a hang in one test is
reported as that test's failure and the rest still run.  Prints
"ok - module.name" or "not ok - module.name" with the assertion message
(and the traceback), then exactly one line "N passed, M failed"; exits 1 if
any test failed.  PATTERNs keep only tests whose "module.name" contains one
of them.

build/libsynack.so is built with ASan+UBSan, whose runtimes must be loaded
first: when LD_PRELOAD does not name them, run.py re-executes itself with
LD_PRELOAD and ASAN_OPTIONS=detect_leaks=0 set (the Python interpreter's own
allocations are not ours to report).

A test must assert something: a test_* function whose body has neither an
assert statement nor a call to an expect_*/check_* helper fails, and so does
one that leaves a Stack open.
"""
import ast
import glob
import json
import os
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEST_TIMEOUT = 120   # seconds of real time per test


def _gcc_lib(name):
    try:
        p = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True,
                           text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return p if os.path.isabs(p) and os.path.exists(p) else None


def _interpreter():
    """This interpreter if it has scapy, else Debian's /usr/bin/python3."""
    try:
        import scapy  # noqa: F401
        return sys.executable
    except ImportError:
        return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def ensure_environment(script=None):
    """Re-executes script (this runner by default) under the sanitizer
    runtimes when they are not loaded."""
    if os.environ.get("SYNACK_PACKET_ENV") == "1":
        return
    env = dict(os.environ)
    pre = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
    if not any("libasan" in p for p in pre):
        libs = [_gcc_lib("libasan.so"), _gcc_lib("libubsan.so")]
        if None in libs:
            print("run.py: cannot find libasan.so/libubsan.so with gcc -print-file-name")
            print("0 passed, 1 failed")
            sys.exit(1)
        pre = libs + pre
    env["LD_PRELOAD"] = ":".join(pre)
    asan = env.get("ASAN_OPTIONS", "")
    if "detect_leaks" not in asan:
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    env["SYNACK_PACKET_ENV"] = "1"
    exe = _interpreter()
    sys.stdout.flush()
    os.execve(exe, [exe, script or os.path.abspath(__file__)] + sys.argv[1:], env)


def build_library():
    """Brings build/libsynack.so up to date (SYNACK_NO_BUILD=1 skips it)."""
    if os.environ.get("SYNACK_NO_BUILD") == "1":
        return None
    r = subprocess.run(["make", "-s", "-C", ROOT, "build/libsynack.so"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "make build/libsynack.so failed:\n" + r.stdout + r.stderr
    return None


# --- discovery -----------------------------------------------------------------

ASSERTING_CALLS = ("expect", "check", "assert")


def _asserts_something(fn_node):
    for node in ast.walk(fn_node):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name.startswith(ASSERTING_CALLS):
                return True
    return False


def discover(patterns):
    """[(module name, test name, problem or None)] in file order; a module
    that does not parse is one failing entry."""
    found = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        mod = os.path.splitext(os.path.basename(path))[0]
        try:
            tree = ast.parse(open(path).read(), path)
        except SyntaxError as e:
            found.append((mod, "<module>", "does not parse: %s" % e))
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                full = "%s.%s" % (mod, node.name)
                if patterns and not any(p in full for p in patterns):
                    continue
                problem = None if _asserts_something(node) else \
                    "the test asserts nothing (no assert, no expect_*/check_* call)"
                found.append((mod, node.name, problem))
    return found


# --- running ---------------------------------------------------------------------

def _track_stacks():
    """Records every Stack a test creates, to check each one gets closed."""
    import synack
    opened = []
    init = synack.Stack.__init__

    def tracking_init(self, *a, **kw):
        opened.append(self)
        init(self, *a, **kw)

    synack.Stack.__init__ = tracking_init
    return opened


def _run_in_child(mod, name, wfd):
    result = {"ok": False, "msg": ""}
    try:
        signal.alarm(TEST_TIMEOUT)
        import importlib
        opened = _track_stacks()
        m = importlib.import_module(mod)
        fn = getattr(m, name)
        try:
            fn()
            left = [s for s in opened if s.h]
            if left:
                result["msg"] = "test left %d Stack(s) open (use `with Stack() as st:`)" % len(left)
            else:
                result["ok"] = True
        finally:
            for s in opened:
                s.close()
    except BaseException as e:  # noqa: B036 -- report anything, even SystemExit
        # The message first, then where it came from (without repeating it).
        tb = traceback.format_exc().rstrip().splitlines()
        while tb and not tb[-1].startswith("  "):
            tb.pop()
        result["msg"] = "%s: %s\n%s" % (type(e).__name__, e, "\n".join(tb))
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(wfd, json.dumps(result).encode())
    os.close(wfd)
    os._exit(0)


def run_one(mod, name):
    """Runs one test in a child process; its stderr (where a sanitizer
    report goes) is kept and shown when the test fails."""
    import tempfile
    rfd, wfd = os.pipe()
    err = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        os.dup2(err.fileno(), 2)
        _run_in_child(mod, name, wfd)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    _, st = os.waitpid(pid, 0)
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    err.close()
    data = b"".join(chunks)
    if data:
        res = json.loads(data)
        if not res["ok"] and stderr.strip():
            res["msg"] += "\nstderr:\n" + stderr
        return res
    if os.WIFSIGNALED(st):
        sig = os.WTERMSIG(st)
        why = "timed out after %d s" % TEST_TIMEOUT if sig == signal.SIGALRM else \
            "killed by signal %d" % sig
    else:
        why = "exited with status %d" % os.WEXITSTATUS(st)
    return {"ok": False, "msg": "test process " + why + ("\nstderr:\n" + stderr if stderr else "")}


def main(argv):
    ensure_environment()
    sys.path.insert(0, HERE)
    err = build_library()
    if err:
        print(err)
        print("0 passed, 1 failed")
        return 1
    try:
        import scapy.all  # noqa: F401  -- once here, not in every child
        import util  # noqa: F401
    except ImportError as e:
        print("run.py: %s (is python3-scapy installed for %s?)" % (e, sys.executable))
        print("0 passed, 1 failed")
        return 1
    patterns = [a for a in argv if not a.startswith("-")]
    tests = discover(patterns)
    passed = failed = 0
    start = time.monotonic()
    for mod, name, problem in tests:
        full = "%s.%s" % (mod, name)
        res = {"ok": False, "msg": problem} if problem else run_one(mod, name)
        if res["ok"]:
            passed += 1
            print("ok - " + full)
        else:
            failed += 1
            print("not ok - " + full)
            for line in res["msg"].rstrip().splitlines():
                print("#   " + line)
        sys.stdout.flush()
    if not tests:
        print("no tests found" + (" matching %s" % patterns if patterns else ""))
    print("# %.1f s" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
