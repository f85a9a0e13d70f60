#!/usr/bin/env bash
# deps.sh -- the Debian packages `make bench` needs (not `make test`: the
# bench is not part of it).  As root it installs what is missing; otherwise
# it names the exact command to run.
set -u
# package:command-or-file that proves it is installed
need=(
  "gcc:gcc"
  "make:make"
  "wrk:wrk"
  "nginx:nginx"
  "iproute2:ip"
  "util-linux:taskset"
  "curl:curl"
  "procps:sysctl"
  "python3:/usr/bin/python3"
)
missing=()
for entry in "${need[@]}"; do
  pkg=${entry%%:*}
  probe=${entry#*:}
  if [[ $probe == /* ]]; then
    [[ -e $probe ]] || missing+=("$pkg")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "synack bench: missing Debian packages: ${missing[*]}" >&2
  echo "synack bench: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "synack bench: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Installing nginx must not start it in the host's network: policy-rc.d
# tells invoke-rc.d to start no service for the length of the install.
policy=/usr/sbin/policy-rc.d
made_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
rc=0
if ! apt-get install -y -qq "${missing[@]}" >/tmp/synack-bench-apt.log 2>&1; then
  apt-get update -qq >>/tmp/synack-bench-apt.log 2>&1
  if ! apt-get install -y -qq "${missing[@]}" >>/tmp/synack-bench-apt.log 2>&1; then
    echo "synack bench: apt-get install ${missing[*]} failed; see /tmp/synack-bench-apt.log" >&2
    rc=1
  fi
fi
[[ -n $made_policy ]] && rm -f "$policy"
exit $rc
