#!/usr/bin/env bash
# deps.sh -- the Debian packages synack's build and tests need.  As root it
# installs what is missing; otherwise it names the exact command to run.
set -u
# package:command-or-file that proves it is installed
need=(
  "gcc:gcc"
  "clang:clang"
  "make:make"
  "pkg-config:pkg-config"
  "check:/usr/include/check.h"
  "python3-scapy:/usr/lib/python3/dist-packages/scapy/__init__.py"
  "tshark:tshark"
  "iproute2:ip"
  "util-linux:unshare"
  "curl:curl"
  "iputils-ping:ping"
  "wget:wget"
  "chromium:chromium"
  "python3-pil:/usr/lib/python3/dist-packages/PIL/__init__.py"
  "groff-base:groff"
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
  echo "synack: missing Debian packages: ${missing[*]}" >&2
  echo "synack: install them with: sudo apt-get install -y ${missing[*]}" >&2
  echo "synack: (or run 'sudo make test', which installs them itself)" >&2
  exit 1
fi
echo "synack: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default answer is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
if ! apt-get install -y -qq "${missing[@]}" >/tmp/synack-apt.log 2>&1; then
  apt-get update -qq >>/tmp/synack-apt.log 2>&1
  if ! apt-get install -y -qq "${missing[@]}" >>/tmp/synack-apt.log 2>&1; then
    echo "synack: apt-get install ${missing[*]} failed; see /tmp/synack-apt.log" >&2
    exit 1
  fi
fi
