#!/usr/bin/env bash
# run_all.sh -- runs every suite (unit, packet, end-to-end), shows each one's
# output, and ends with the sum of their "N passed, M failed" lines.
set -u
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0
status=0

run_suite() {
  local name=$1; shift
  local log
  log=$(mktemp)
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local last
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [[ -z $last ]]; then
    echo "$name: no summary line (exit $rc); counted as 1 failure"
    total_fail=$((total_fail + 1))
    status=1
  else
    local p f
    p=$(echo "$last" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
      echo "$name: exited $rc with no failed test; counted as 1 failure"
      total_fail=$((total_fail + 1))
    fi
    [[ $rc -ne 0 ]] && status=1
  fi
  rm -f "$log"
}

run_suite unit build/unit-tests
run_suite packet /usr/bin/python3 tests/packet/run.py
run_suite docs /usr/bin/python3 tests/docs/check_state_table.py
run_suite docs-man /usr/bin/python3 tests/docs/check_manpage.py
run_suite docs-examples /usr/bin/python3 tests/docs/check_examples.py
run_suite e2e tests/e2e/run.sh
run_suite e2e-http tests/e2e/http.sh
run_suite e2e-impair tests/e2e/impair.sh
run_suite e2e-demo tests/e2e/demo.sh

echo "$total_pass passed, $total_fail failed"
exit $status
