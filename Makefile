# synack -- build, test, fuzz.
#
#   make            build/synackd
#   make test       every suite (unit, packet, end-to-end) under ASan+UBSan;
#                   as root it installs missing Debian packages first
#   make demo       the seed's lab against synack: a browser's requests,
#                   captured and explained frame by frame (root)
#   make fuzz       libFuzzer (clang) on the packet input path, then on the HTTP
#                   request parser, each FUZZ_SECONDS long
#   make bench      synack beside nginx and the TUN ceiling (root, ~10 min, not
#                   part of make test); see docs/performance.md
#   make clean

CC      ?= cc
CSTD    := -std=c17 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O2 -g
INC     := -I.
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

STACK_SRC := $(sort $(wildcard stack/*.c))
HTTP_SRC  := $(sort $(wildcard http/*.c))
TUN_SRC   := $(sort $(wildcard tun/*.c))
CORE_SRC  := $(STACK_SRC) $(HTTP_SRC)
HDRS      := $(wildcard stack/*.h http/*.h tun/*.h)
# io_uring carries the TUN's packets in batches (tun/tun_batch.c).
TUN_LIBS  := -luring

BUILD := build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

.PHONY: all test unit packet e2e deps fuzz clean
all: $(BUILD)/synackd

$(BUILD)/synackd: $(CORE_SRC) $(TUN_SRC) $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(INC) -DSYNACK_VERSION='"$(VERSION)"' \
		$(CORE_SRC) $(TUN_SRC) $(TUN_LIBS) -o $@

# The same daemon under the sanitizers, for the end-to-end suite.
$(BUILD)/synackd-san: $(CORE_SRC) $(TUN_SRC) $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(INC) -DSYNACK_VERSION='"$(VERSION)"' \
		$(CORE_SRC) $(TUN_SRC) $(TUN_LIBS) -o $@

# The pure core as a shared library, driven by the scapy harness through ctypes.
$(BUILD)/libsynack.so: $(CORE_SRC) tun/gso.c tests/packet/harness.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(INC) -fPIC -shared \
		$(CORE_SRC) tun/gso.c tests/packet/harness.c -o $@

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
# Pieces of tun/ that unit tests drive directly: those that make no system
# calls, and the site's files (on a temporary directory, with a test clock).
UNIT_TUN_SRC := tun/gso.c tun/impair.c tun/impair_spec.c tun/trace_ring.c tun/site_files.c \
	tun/clock.c
$(BUILD)/unit-tests: $(CORE_SRC) $(UNIT_SRC) $(UNIT_TUN_SRC) $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(INC) $(CORE_SRC) $(UNIT_TUN_SRC) $(UNIT_SRC) \
		$$(pkg-config --cflags --libs check) -o $@

$(BUILD):
	mkdir -p $@

deps:
	@tests/deps.sh

test: deps $(BUILD)/synackd $(BUILD)/synackd-clang $(BUILD)/synackd-san $(BUILD)/libsynack.so $(BUILD)/unit-tests
	@tests/run_all.sh

unit: $(BUILD)/unit-tests
	@$(BUILD)/unit-tests
packet: $(BUILD)/libsynack.so
	@/usr/bin/python3 tests/packet/run.py
e2e: $(BUILD)/synackd-san
	@tests/e2e/run.sh

# The seed's lab redone against synack, in a private network namespace.
.PHONY: demo
demo: deps $(BUILD)/synackd
	@demo/run.sh

FUZZ_SECONDS ?= 180
$(BUILD)/fuzz-input: $(CORE_SRC) tests/fuzz/fuzz_input.c $(HDRS) | $(BUILD)
	clang $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined $(INC) \
		$(CORE_SRC) tests/fuzz/fuzz_input.c -o $@
$(BUILD)/fuzz-http: $(CORE_SRC) tests/fuzz/fuzz_http.c $(HDRS) | $(BUILD)
	clang $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined $(INC) \
		$(CORE_SRC) tests/fuzz/fuzz_http.c -o $@
fuzz: $(BUILD)/fuzz-input $(BUILD)/fuzz-http
	mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-http-corpus
	$(BUILD)/fuzz-input -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD)/ $(BUILD)/fuzz-corpus tests/fuzz/seeds
	$(BUILD)/fuzz-http -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(BUILD)/http- $(BUILD)/fuzz-http-corpus tests/fuzz/http-seeds

clean:
	rm -rf $(BUILD)

# The same daemon built with clang: the code must be warning-free under both.
$(BUILD)/synackd-clang: $(CORE_SRC) $(TUN_SRC) $(HDRS) | $(BUILD)
	clang $(CSTD) $(WARN) -O2 $(INC) -DSYNACK_VERSION='"$(VERSION)"' \
		$(CORE_SRC) $(TUN_SRC) $(TUN_LIBS) -o $@

# Benchmarks (root, not part of `make test`): docs/performance.md.
.PHONY: bench bench-deps
BENCH_TOOLS := $(BUILD)/bench/tun_ceiling $(BUILD)/bench/idle_conns
$(BUILD)/bench/%: bench/%.c | $(BUILD)
	mkdir -p $(BUILD)/bench
	$(CC) $(CSTD) $(WARN) -O2 -g $< $(TUN_LIBS) -o $@
bench-deps:
	@bench/deps.sh
bench: bench-deps $(BUILD)/synackd $(BENCH_TOOLS)
	@bench/run.sh
