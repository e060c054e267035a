# insights: build, run and test.
#
#   make            build build/insights (optimised, with debug symbols)
#   make run        install missing dependencies, build, serve on ./insights.db
#   make test       install missing dependencies, build the test binary with
#                   clang under ASan+UBSan, run the unit and black-box tests
#   make bench      benchmark against nginx (bench/run.py; BENCH_N=100000)
#   make bench-scale  the benchmark at 10k, 100k and 1M insights
#   make unit       the C unit tests (needs no npm)
#   make analyze    clang's static analyzer over src/; fails on any report
#   make fuzz       the libFuzzer targets of tests/fuzz/, FUZZ_SECONDS (60) each (mk/fuzz.mk)
#   make SANITIZE=1 build with ASan+UBSan (into $(BUILD))
#   make FAULTS=1   compile in the tests' fault injection points (lib/fault.h)
#   make DOCS=0     build without npm (no Swagger UI or ReDoc scripts; mk/assets.mk)
#   make clean
#
# Dependencies are found with pkg-config; scripts/install-deps.sh installs
# the Debian packages that provide them.

VERSION := 1.0.0
BUILD ?= build
SANITIZE ?=
FAULTS ?=
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

CPPFLAGS_ALL = -D_GNU_SOURCE -DINSIGHTS_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS) \
	$(if $(filter 1,$(FAULTS)),-DINSIGHTS_FAULTS)
CFLAGS_ALL = -std=c17 $(WARNINGS) $(OPT) $(SAN) $(CFLAGS) -MMD -MP
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

SRC := $(shell find src -name '*.c' | sort)
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out src/main.c,$(SRC)))
MAIN_OBJ := $(BUILD)/obj/src/main.o
UNIT_SRC := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRC))
# Objects only the service binary links (the documentation's assets).
BIN_OBJ :=
EMBED := $(BUILD)/tools/embed

# Fragments for parts with their own needs (PostgreSQL, web assets,
# generated tables): each may add to PKGS, LIB_OBJ (generated sources that
# everything links), BIN_OBJ, UNIT_OBJ and TEST_EXTRA (targets that
# `make test` runs after the SQLite tests, with the test build's settings),
# TEST_LAST (stages run after those) and TEST_BACKGROUND (targets `make
# test` runs before its first stage, which may start work in the
# background for a later stage to wait for).
TEST_EXTRA :=
TEST_LAST :=
TEST_BACKGROUND :=
.DEFAULT_GOAL := all
-include $(sort $(wildcard mk/*.mk))

.PHONY: all run test unit api-test deps bench bench-scale analyze clean
all: $(BUILD)/insights

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS_ALL) -c $< -o $@

# The rank gate must compute bm25 to the last bit, as SQLite does: no fused
# multiply-adds (src/store/sqlite/rank.c).
$(BUILD)/obj/src/store/sqlite/rank.o: CFLAGS_ALL += -ffp-contract=off

$(BUILD)/insights: $(LIB_OBJ) $(BIN_OBJ) $(MAIN_OBJ)
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
TEST_MAKE = $(MAKE) --no-print-directory BUILD=$(TEST_BUILD) SANITIZE=1 FAULTS=1 CC=clang

# Set-up and builds stop at the first failure; then every stage runs, even
# after one failed, and the last line names each failed stage.
TEST_STAGES = unit api-test $(TEST_EXTRA) $(TEST_LAST)

test:
	scripts/install-deps.sh test
	$(MAKE) --no-print-directory all
	$(TEST_MAKE) $(TEST_BUILD)/insights $(TEST_BUILD)/unit-tests
	$(if $(TEST_BACKGROUND),$(TEST_MAKE) $(TEST_BACKGROUND))
	@trap 'exit 130' INT TERM; failed=; \
	for stage in $(TEST_STAGES); do \
	  echo "make test: $$stage"; \
	  $(TEST_MAKE) $$stage || failed="$$failed $$stage"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: passed: $(TEST_STAGES)"

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

api-test: $(BUILD)/insights $(GQLCHECK)
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

# clang's static analyzer, file by file, with the build's flags; any report
# fails. `make test` runs it as one of its stages.
TEST_EXTRA += analyze
ANALYZE_SRC := $(SRC) tools/embed.c
analyze:
	scripts/install-deps.sh test
	@fail=0; for f in $(ANALYZE_SRC); do \
	  out=$$(clang --analyze -Xanalyzer -analyzer-output=text $(CPPFLAGS_ALL) -DINSIGHTS_FAULTS \
	    -std=c17 $(WARNINGS) -o /dev/null $$f 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; fail=1; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "analyze: the static analyzer reported problems" >&2; exit 1; fi; \
	echo "analyze: no reports in $(words $(ANALYZE_SRC)) files"

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
