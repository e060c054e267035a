# insights: build, run and test.
#
#   make            build build/insights (optimised, with debug symbols)
#   make run        install missing dependencies, build, serve on ./insights.db
#   make test       install missing dependencies, build the test binary with
#                   clang under ASan+UBSan, run the unit and black-box tests
#   make bench      benchmark against nginx (bench/run.py; BENCH_N=100000)
#   make bench-scale  the benchmark at 10k, 100k and 1M insights
#   make SANITIZE=1 build with ASan+UBSan (into $(BUILD))
#   make clean
#
# Dependencies are found with pkg-config; scripts/install-deps.sh installs
# the Debian packages that provide them.

VERSION := 1.0.0
BUILD ?= build
SANITIZE ?=
PYTHON ?= /usr/bin/python3

PKGS := libmicrohttpd json-c sqlite3
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread -lm

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wcast-qual=0 -Wundef
WARNINGS := $(filter-out -Wcast-qual=0,$(WARNINGS))

ifeq ($(SANITIZE),1)
OPT ?= -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
else
OPT ?= -O2 -g
SAN :=
endif

CPPFLAGS_ALL = -D_GNU_SOURCE -DINSIGHTS_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS)
CFLAGS_ALL = -std=c17 $(WARNINGS) $(OPT) $(SAN) $(CFLAGS) -MMD -MP
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

SRC := $(shell find src -name '*.c' | sort)
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/main.c,$(SRC)))
MAIN_OBJ := $(BUILD)/obj/src/main.o
UNIT_SRC := $(shell find tests/unit -name '*.c' | sort)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRC))

# Fragments for parts with their own needs (PostgreSQL, web assets): each
# may add to PKGS, LIB_OBJ (generated sources) and TEST_EXTRA (targets that
# `make test` runs after the SQLite tests, with the test build's settings).
TEST_EXTRA :=
.DEFAULT_GOAL := all
-include $(sort $(wildcard mk/*.mk))

.PHONY: all run test unit api-test deps bench bench-scale clean
all: $(BUILD)/insights

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/insights: $(LIB_OBJ) $(MAIN_OBJ)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit-tests: $(LIB_OBJ) $(UNIT_OBJ)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

deps:
	scripts/install-deps.sh build

run:
	scripts/install-deps.sh build
	$(MAKE) --no-print-directory all
	$(BUILD)/insights serve

# The test build: clang, sanitizers, its own build directory.
TEST_BUILD := build/asan
TEST_MAKE = $(MAKE) --no-print-directory BUILD=$(TEST_BUILD) SANITIZE=1 CC=clang

# Set-up and builds stop at the first failure; then every stage runs, even
# after one failed, and the last line names each failed stage.
TEST_STAGES = unit api-test $(TEST_EXTRA)

test:
	scripts/install-deps.sh test
	$(MAKE) --no-print-directory all
	$(TEST_MAKE) $(TEST_BUILD)/insights $(TEST_BUILD)/unit-tests
	@trap 'exit 130' INT TERM; failed=; \
	for stage in $(TEST_STAGES); do \
	  echo "make test: $$stage"; \
	  $(TEST_MAKE) $$stage || failed="$$failed $$stage"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: passed: $(TEST_STAGES)"

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

api-test: $(BUILD)/insights
	INSIGHTS_BIN=$(abspath $(BUILD)/insights) $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

# Benchmarks: optimised build, wrk against the service and against nginx
# serving the same bytes (bench/run.py documents the BENCH_* knobs).
bench:
	scripts/install-deps.sh bench
	$(MAKE) --no-print-directory all
	$(PYTHON) bench/run.py

bench-scale:
	scripts/install-deps.sh bench
	$(MAKE) --no-print-directory all
	BENCH_SCALE=$${BENCH_SCALE:-10000,100000,1000000} $(PYTHON) bench/run.py

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
