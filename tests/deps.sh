#!/usr/bin/env bash
# deps.sh -- the Debian packages synack's build and tests need, each with the
# command or file that proves it is installed (tests/debian_packages.sh).
exec "$(dirname "$0")/debian_packages.sh" synack \
  "(or run 'sudo make test', which installs them itself)" \
  "gcc:gcc" \
  "clang:clang" \
  "make:make" \
  "pkg-config:pkg-config" \
  "check:/usr/include/check.h" \
  "liburing-dev:/usr/include/liburing.h" \
  "python3-scapy:/usr/lib/python3/dist-packages/scapy/__init__.py" \
  "tshark:tshark" \
  "iproute2:ip" \
  "util-linux:unshare" \
  "strace:strace" \
  "curl:curl" \
  "iputils-ping:ping" \
  "wget:wget" \
  "chromium:chromium" \
  "python3-pil:/usr/lib/python3/dist-packages/PIL/__init__.py" \
  "groff-base:groff"
