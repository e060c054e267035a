# mk/graphql.mk: the GraphQL validator against graphql-js, its oracle.
#
#   make test-graphql   builds tests/graphql/gqlcheck (the parser and the
#                       validator from the command line) and runs
#                       tests/graphql/oracle.mjs: graphql-js 16 (pinned in
#                       package-lock.json) validates every document of
#                       tests/graphql/corpus/ against the schema gqlcheck
#                       prints, and the C validator must reach the same
#                       verdict on each; the verdicts go to
#                       $(BUILD)/graphql-oracle.json. Then
#                       tests/graphql/differential.mjs compares the two on
#                       2000 random variations of the corpus (seed 1:
#                       the same variations every run; GRAPHQL_DIFF_SEED
#                       and GRAPHQL_DIFF_N explore others)
#
# `make test` runs it with the test build's settings (ASan, UBSan).

GQLCHECK := $(BUILD)/tests/gqlcheck

# Linked like the unit tests: the library and the core asset tables it refers to
# (the documentation's and the dashboard's, which later fragments add to UNIT_OBJ:
# hence the second expansion).
.SECONDEXPANSION:
$(GQLCHECK): $(BUILD)/obj/tests/graphql/gqlcheck.o $(LIB_OBJ) $$(filter $(BUILD)/obj/gen/%,$$(UNIT_OBJ))
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

.PHONY: test-graphql
TEST_EXTRA += test-graphql

GRAPHQL_DIFF_SEED ?= 1
GRAPHQL_DIFF_N ?= 2000

test-graphql: $(GQLCHECK) $(NPM_STAMP)
	node tests/graphql/oracle.mjs --gqlcheck $(GQLCHECK) --out $(BUILD)/graphql-oracle.json
	node tests/graphql/differential.mjs --gqlcheck $(GQLCHECK) \
		--iterations $(GRAPHQL_DIFF_N) --seed $(GRAPHQL_DIFF_SEED)
