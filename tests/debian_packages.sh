#!/usr/bin/env bash
# debian_packages.sh -- installs the Debian packages a make target needs:
# as root whatever is missing, otherwise it names the exact command to run.
# Shared by tests/deps.sh (make test) and bench/deps.sh (make bench).
#
#   debian_packages.sh LABEL HINT PACKAGE:PROBE...
# PROBE is a command on PATH, or an absolute path whose existence proves the
# package is installed.  HINT (may be empty) is one more line for non-root.
set -u
label=$1 hint=$2
shift 2
missing=()
for entry in "$@"; do
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
  echo "$label: missing Debian packages: ${missing[*]}" >&2
  echo "$label: install them with: sudo apt-get install -y ${missing[*]}" >&2
  [[ -n $hint ]] && echo "$label: $hint" >&2
  exit 1
fi
echo "$label: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=/tmp/synack-apt.log
# tshark asks whether non-root users may capture; the default answer is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# A package with a service (nginx) must not start it in the host's network:
# policy-rc.d tells invoke-rc.d to start nothing while we install.
policy=/usr/sbin/policy-rc.d
made_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
rc=0
if ! apt-get install -y -qq "${missing[@]}" >"$log" 2>&1; then
  apt-get update -qq >>"$log" 2>&1
  if ! apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    echo "$label: apt-get install ${missing[*]} failed; see $log" >&2
    rc=1
  fi
fi
[[ -n $made_policy ]] && rm -f "$policy"
exit $rc
