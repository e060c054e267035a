# mk/assets.mk: the API documentation's files and GraphiQL, embedded in the binary.
#
# npm installs the packages pinned in package-lock.json into node_modules/
# (Swagger UI, ReDoc, GraphiQL with React, and @redocly/cli and graphql for
# the tests); tools/embed
# (mk/embed.mk) turns the files listed in ASSETS into $(BUILD)/gen/assets.c
# (C arrays and their SHA-256, see src/api/assets.h), which is linked into
# the binary and served by src/api/docs.c. The binary reads no file at run
# time.
#
#   make DOCS=0       build without npm: only the project's own files are
#                     embedded (the OpenAPI document and the pages; the
#                     Swagger UI and ReDoc scripts they load answer 404).
#                     The unit tests always link this core table.
#   make test-docs    the embed self-test, the OpenAPI lint and tests/docs
#                     (run by `make test` with the test build's settings)

DOCS ?= 1

NPM ?= npm
# npm rewrites this file at the end of every install: the stamp of node_modules.
NPM_STAMP := node_modules/.package-lock.json
ASSETS_C := $(BUILD)/gen/assets.c

# One asset per line: the URL path it is served at, its Content-Type, the
# file. The names under /docs/ are also the `asset` enum of openapi.json.
JS_TYPE := 'text/javascript; charset=utf-8'
TXT_TYPE := 'text/plain; charset=utf-8'
# The project's own files (all that DOCS=0 embeds), then those from npm.
CORE_ASSETS := \
	/openapi.json 'application/json' src/api/openapi.json \
	/docs 'text/html; charset=utf-8' web/docs.html \
	/redoc 'text/html; charset=utf-8' web/redoc.html \
	/docs/swagger-init.js $(JS_TYPE) web/swagger-init.js \
	/graphiql 'text/html; charset=utf-8' web/graphiql.html \
	/graphiql/graphiql-init.js $(JS_TYPE) web/graphiql-init.js \
	/graphiql/graphiql-page.css 'text/css; charset=utf-8' web/graphiql-page.css \
	/graphiql/favicon.svg 'image/svg+xml' web/favicon.svg
ASSETS := $(CORE_ASSETS) \
	/docs/swagger-ui.css 'text/css; charset=utf-8' node_modules/swagger-ui-dist/swagger-ui.css \
	/docs/swagger-ui-bundle.js $(JS_TYPE) node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	/docs/favicon-32x32.png 'image/png' node_modules/swagger-ui-dist/favicon-32x32.png \
	/docs/favicon-16x16.png 'image/png' node_modules/swagger-ui-dist/favicon-16x16.png \
	/docs/redoc.standalone.js $(JS_TYPE) $(BUILD)/gen/redoc.standalone.js \
	/docs/swagger-ui-LICENSE.txt $(TXT_TYPE) node_modules/swagger-ui-dist/LICENSE \
	/docs/swagger-ui-NOTICE.txt $(TXT_TYPE) node_modules/swagger-ui-dist/NOTICE \
	/docs/swagger-ui-bundle.js.LICENSE.txt $(TXT_TYPE) node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt \
	/docs/redoc-LICENSE.txt $(TXT_TYPE) node_modules/redoc/LICENSE \
	/docs/redoc.standalone.js.LICENSE.txt $(TXT_TYPE) node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt \
	/graphiql/graphiql.min.js $(JS_TYPE) node_modules/graphiql/graphiql.min.js \
	/graphiql/graphiql.min.css 'text/css; charset=utf-8' node_modules/graphiql/graphiql.min.css \
	/graphiql/react.production.min.js $(JS_TYPE) node_modules/react/umd/react.production.min.js \
	/graphiql/react-dom.production.min.js $(JS_TYPE) node_modules/react-dom/umd/react-dom.production.min.js \
	/graphiql/graphiql-LICENSE.txt $(TXT_TYPE) node_modules/graphiql/LICENSE \
	/graphiql/react-LICENSE.txt $(TXT_TYPE) node_modules/react/LICENSE \
	/graphiql/react-dom-LICENSE.txt $(TXT_TYPE) node_modules/react-dom/LICENSE
# The files of our own (node_modules/ changes only through NPM_STAMP).
ASSET_SOURCES := $(filter src/% web/% $(BUILD)/%,$(ASSETS))
CORE_ASSETS_C := $(BUILD)/gen/core_assets.c

ifeq ($(DOCS),0)
BIN_OBJ += $(BUILD)/obj/gen/core_assets.o
else
BIN_OBJ += $(BUILD)/obj/gen/assets.o
endif
UNIT_OBJ += $(BUILD)/obj/gen/core_assets.o

# --ignore-scripts: none of these packages needs an install script, and one
# (swagger-ui-dist's @scarf/scarf) would report the install over the network.
$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --ignore-scripts
	@touch $@

# ReDoc's side menu shows a logo fetched from Redocly's CDN, which an
# offline network cannot reach (and the page's Content-Security-Policy
# blocks anyway); with an empty source the image is never requested and the
# menu drops it. The build fails if the URL survives, e.g. in a new version.
$(BUILD)/gen/redoc.standalone.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	$(Q)sed 's#https://cdn\.redoc\.ly/redoc/logo-mini\.svg##g' \
		node_modules/redoc/bundles/redoc.standalone.js > $@.tmp
	$(Q)if grep -q 'cdn\.redoc\.ly' $@.tmp; then \
		echo "assets.mk: redoc.standalone.js still loads from cdn.redoc.ly" >&2; exit 1; fi
	$(Q)mv $@.tmp $@

$(ASSETS_C): $(EMBED) $(NPM_STAMP) $(ASSET_SOURCES) mk/assets.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) $@ $(ASSETS)

$(CORE_ASSETS_C): $(EMBED) $(filter src/% web/%,$(CORE_ASSETS)) mk/assets.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) $@ $(CORE_ASSETS)

# ---- tests ---------------------------------------------------------------

TEST_EXTRA += test-docs
.PHONY: test-docs

# The linter runs from the lockfile (no download); it must not phone home.
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no @redocly/cli

test-docs: $(BUILD)/insights $(EMBED) $(NPM_STAMP)
	$(EMBED) --self-test
	$(REDOCLY) lint --config redocly.yaml src/api/openapi.json
	INSIGHTS_BIN=$(abspath $(BUILD)/insights) $(PYTHON) -m pytest -q -p no:cacheprovider tests/docs
