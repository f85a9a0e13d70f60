#!/usr/bin/env bash
# deps.sh -- the Debian packages `make bench` needs (not `make test`: the
# bench is not part of it), each with the command or file that proves it is
# installed (tests/debian_packages.sh starts no service while installing).
exec "$(dirname "$0")/../tests/debian_packages.sh" "synack bench" "" \
  "gcc:gcc" \
  "make:make" \
  "liburing-dev:/usr/include/liburing.h" \
  "wrk:wrk" \
  "nginx:nginx" \
  "iproute2:ip" \
  "util-linux:taskset" \
  "curl:curl" \
  "procps:sysctl" \
  "python3:/usr/bin/python3"
