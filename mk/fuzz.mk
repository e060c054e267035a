# mk/fuzz.mk: the libFuzzer targets of tests/fuzz/ (see its README.md).
#
#   make fuzz              build every target and run each for FUZZ_SECONDS
#                          (60) seconds; prints each one's executions per
#                          second and coverage, fails if any target fails
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="body dburl"
#   make fuzz-smoke        each target for 10 s on a fresh scratch corpus
#                          (a stage of `make test`)
#   make fuzz-build        only build them
#
# The targets are built with clang, -fsanitize=fuzzer,address,undefined, into
# $(BUILD)/fuzz/ with flags of their own (whatever SANITIZE and FAULTS say:
# no fault points, every object instrumented for coverage). Each links the
# whole library, as the service does, so that the route table is the real
# one. Needs Debian's clang and libclang-rt-14-dev (the fuzzer runtime):
# scripts/install-deps.sh fuzz.

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SRC := $(shell find tests/fuzz -name 'fuzz_*.c' 2>/dev/null | sort)
FUZZ_ALL := $(patsubst fuzz_%.c,%,$(notdir $(FUZZ_SRC)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BIN := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_ALL))

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CPPFLAGS = $(filter-out -DINSIGHTS_FAULTS,$(CPPFLAGS_ALL)) -Itests/fuzz
FUZZ_CFLAGS := -std=c17 $(WARNINGS) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -MMD -MP
# The library and the generated tables the unit tests link (the core assets:
# the documentation's and the dashboard's).
FUZZ_LIB_OBJ = $(patsubst $(BUILD)/obj/%,$(FUZZ_DIR)/obj/%,$(LIB_OBJ)) \
	$(FUZZ_DIR)/obj/gen/core_assets.o $(FUZZ_DIR)/obj/gen/web_core_assets.o \
	$(FUZZ_DIR)/obj/gen/web_core_assets_gz.o

$(FUZZ_DIR)/obj/src/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Generated tables are data: sanitized, not instrumented for coverage.
$(FUZZ_DIR)/obj/gen/%.o: $(BUILD)/gen/%.c src/lib/asset.h
	@mkdir -p $(@D)
	@$(if $(V),,echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -g0 -c $< -o $@

# fuzz_NAME from tests/fuzz/<folder>/fuzz_NAME.c and the library.
define fuzz_link
$(FUZZ_DIR)/fuzz_$(patsubst fuzz_%.c,%,$(notdir $(1))): \
		$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1)) $$(FUZZ_LIB_OBJ)
	@$$(if $$(V),,echo "  LINK    $$@")
	$$(Q)$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach s,$(FUZZ_SRC),$(eval $(call fuzz_link,$(s))))

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_BIN)

fuzz:
	scripts/install-deps.sh fuzz
	$(MAKE) --no-print-directory fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

# 10 s per target, from the committed corpora alone (which replays every
# crash input found so far).
TEST_EXTRA += fuzz-smoke
fuzz-smoke: $(FUZZ_BIN)
	FUZZ_FRESH=1 scripts/fuzz.sh 10 $(FUZZ_DIR) $(FUZZ_ALL)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
