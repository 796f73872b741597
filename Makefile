# wakefarm: one plain GNU Makefile tree.
#
#   make            build everything (bin/, build/guest/)
#   make deps       install missing Debian packages, bring up virtlogd/libvirtd
#   make run        the main job: deps, build, controller + agent, default matrix, dashboard
#   make test       deps, build, every test suite; ends with "N passed, N failed"
#   make bench      benchmarks, printed as ratios measured side by side
#   make asan       every test suite under ASan + UBSan + LSan (ASAN_SUITE=NAME: one)
#   make fuzz       every libFuzzer target for FUZZ_SECONDS each (FUZZ_JOBS at once)
#   make loadtest   50 simulated agents, 20000 jobs over 10 minutes
#   make soak       the chaos soak: 15 minutes (SOAK_MINUTES) plus 1-3 to drain and check
#   make style      reformat the host code with clang-format (.clang-format)
#   make clean
#
# Each component adds its targets through a fragment (*/module.mk) included below.

.DEFAULT_GOAL := all
SHELL := /bin/bash
VERSION := 0.1.0

CC      ?= cc
BUILD   := build
BIN     := bin
PKGS    := libvirt libcurl jansson libmicrohttpd gnutls sqlite3 libcrypto libpcre2-8

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifneq ($(CI),)
WARN    += -Werror
endif
SAN     ?=
OPT     ?= -O2 -g
CFLAGS_HOST := -std=gnu11 $(OPT) $(WARN) $(SAN) -D_GNU_SOURCE -DWF_VERSION='"$(VERSION)"' \
               -Ilib -Ilib/runner -MMD -MP
# pkg-config is asked lazily: `make deps` must work before the -dev packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS_HOST = $(PKG_LIBS) -lpthread -lm

# Host objects go under build/<variant>/ so that asan and normal builds never mix.
HOBJ := $(BUILD)/host$(if $(SAN),-san)

$(HOBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_HOST) $(PKG_CFLAGS) -c $< -o $@

ALL_TARGETS :=
TEST_DEPS   :=
CLEAN_DIRS  := $(BUILD) $(BIN)

include lib/module.mk
include guest/module.mk
include controller/module.mk
include agent/module.mk
include cli/module.mk
include tests/module.mk
include tests/golden/module.mk
include tests/e2e/module.mk
include tests/guest/module.mk
include bench/module.mk

.PHONY: all deps run test bench asan fuzz loadtest soak clean style style-check
all: $(ALL_TARGETS)

deps:
	@lib/sh/deps.sh

run: deps
	@$(MAKE) --no-print-directory all $(BIN)/tests/guest_test
	@lib/sh/run.sh

test: deps
	@$(MAKE) --no-print-directory all $(TEST_DEPS)
	@tests/run

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_DEPS)
	@bench/run

# The suites find binaries relative to the tree top (bin/, build/guest/), so
# `make asan` runs them in a copy of the tree, $(ASAN_TREE), whose host code
# is built by clang with sanitizers (its runtime puts UBSan reports in the
# report files too; see tests/asan/run). The guest stays a normal build, and
# the Debian kernels are shared, not fetched again.
ASAN_TREE := $(BUILD)/asan-tree
ASAN_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
ASAN_SUITE ?=
asan: deps
	@mkdir -p $(ASAN_TREE)/$(BUILD) $(BUILD)/kernels
	@rsync -a --delete --exclude=/$(BUILD)/ --exclude=/$(BIN)/ --exclude=/tests/out/ \
		--exclude=/var/ --exclude=/.git ./ $(ASAN_TREE)/
	@ln -sfn ../../kernels $(ASAN_TREE)/$(BUILD)/kernels
	@$(MAKE) --no-print-directory -C $(ASAN_TREE) CC=clang GUEST_CC='$(CC)' \
		SAN='$(ASAN_SAN)' OPT='-O1 -g' all $(TEST_DEPS)
	@tests/asan/run $(ASAN_TREE) $(if $(ASAN_SUITE),--only $(ASAN_SUITE))

# The chaos soak (tests/soak/run): SOAK_MINUTES (15) of short guests through a controller and 3
# agents while the controller and agents are killed, libvirtd restarted and the database's disk
# filled; then every job, event, log byte and domain checked. Not in `make test`; root.
soak: all
	@flock /tmp/wakefarm-test.lock tests/soak/run

# 50 simulated agents, 20000 jobs over 10 minutes (AGENTS, JOBS, MINUTES).
loadtest: all
	@tests/load/run

FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) --no-print-directory fuzz-targets
	@tests/fuzz/run $(FUZZ_SECONDS)

# One style for the host code: .clang-format (style(9)), Debian's
# clang-format 14. guest/ (and its tests) are left out for now.
CLANG_FORMAT ?= clang-format-14
STYLE_SRCS = $(shell find lib agent cli controller bench tests guest -name '*.[ch]' \
	-not -path '*/node_modules/*' | sort)
style:
	@$(CLANG_FORMAT) --style=file:.clang-format -i $(STYLE_SRCS)
# What tests/lint runs: fails on any file that `make style` would change.
style-check:
	@$(CLANG_FORMAT) --style=file:.clang-format --dry-run -Werror $(STYLE_SRCS)

clean:
	rm -rf $(CLEAN_DIRS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
