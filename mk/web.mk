# mk/web.mk: the web dashboard at / (issue 12): Markdown rendering with
# libcmark, the dashboard's files embedded in the binary (plain and
# gzip-compressed), and its browser tests.
#
# The files are web/* (the project's own: the page, its ES modules, its
# style sheet) and, from npm (package-lock.json), Chart.js's UMD build and
# htm's Preact standalone module, copied under $(BUILD)/gen/web/ with the
# names they are served at. Each is compressed with `gzip -9 -n` (no name
# or time stamp: the same bytes every build) and tools/embed turns both
# sets into two tables of api/web_assets.h, served by src/api/dashboard.c
# at / (web/index.html) and /web/<name>.
#
#   make DOCS=0     (see mk/assets.mk) embeds web/* only: the npm scripts
#                   answer 404. The unit tests always link this core set.
#   make test-web   the dashboard in Debian's Chromium (headless, through
#                   playwright-core from npm, which downloads no browser),
#                   run by node's test runner against the real binary;
#                   screenshots of every view go to $(BUILD)/web-shots/.
#                   Run by `make test` with the test build's settings.

PKGS += libcmark

WEB_OWN := $(sort $(wildcard web/*.js web/*.css web/*.svg)) web/index.html
# Swagger UI's, ReDoc's and GraphiQL's own files (mk/assets.mk) are not the dashboard's.
WEB_OWN := $(filter-out web/swagger-init.js web/graphiql-init.js web/graphiql-page.css,$(WEB_OWN))
WEB_NPM := $(BUILD)/gen/web/chart.umd.min.js $(BUILD)/gen/web/preact-htm.js \
	$(BUILD)/gen/web/chart.js-LICENSE.txt $(BUILD)/gen/web/htm-LICENSE.txt \
	$(BUILD)/gen/web/preact-LICENSE.txt

web_url = $(if $(filter web/index.html,$(1)),/,/web/$(notdir $(1)))
web_type = $(strip \
	$(if $(filter %.html,$(1)),'text/html; charset=utf-8', \
	$(if $(filter %.js,$(1)),'text/javascript; charset=utf-8', \
	$(if $(filter %.css,$(1)),'text/css; charset=utf-8', \
	$(if $(filter %.svg,$(1)),'image/svg+xml', \
	'text/plain; charset=utf-8')))))
web_gz = $(BUILD)/gen/webgz/$(notdir $(1)).gz
web_args = $(foreach f,$(1),$(call web_url,$(f)) $(call web_type,$(f)) $(f))
web_gz_args = $(foreach f,$(1),$(call web_url,$(f)) $(call web_type,$(f)) $(call web_gz,$(f)))

ifeq ($(DOCS),0)
WEB_FILES := $(WEB_OWN)
else
WEB_FILES := $(WEB_OWN) $(WEB_NPM)
endif

# Chart.js's build ends with a source-map comment naming a file that is not
# served; dropped so that no tool asks for it.
$(BUILD)/gen/web/chart.umd.min.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	$(Q)sed '/^\/\/# sourceMappingURL=/d' node_modules/chart.js/dist/chart.umd.min.js > $@
$(BUILD)/gen/web/preact-htm.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	$(Q)cp node_modules/htm/preact/standalone.module.js $@
$(BUILD)/gen/web/chart.js-LICENSE.txt: $(NPM_STAMP)
	@mkdir -p $(@D)
	$(Q)cp node_modules/chart.js/LICENSE.md $@
$(BUILD)/gen/web/htm-LICENSE.txt: $(NPM_STAMP)
	@mkdir -p $(@D)
	$(Q)cp node_modules/htm/LICENSE $@
# htm's standalone module bundles Preact (MIT); its notice, from htm's package.
$(BUILD)/gen/web/preact-LICENSE.txt: web/preact-LICENSE.txt
	@mkdir -p $(@D)
	$(Q)cp $< $@

$(BUILD)/gen/webgz/%.gz: web/%
	@mkdir -p $(@D)
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/webgz/%.gz: $(BUILD)/gen/web/%
	@mkdir -p $(@D)
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/web_assets.c: $(EMBED) $(WEB_FILES) mk/web.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table web_assets $@ $(call web_args,$(WEB_FILES))
$(BUILD)/gen/web_assets_gz.c: $(EMBED) $(foreach f,$(WEB_FILES),$(call web_gz,$(f))) mk/web.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table web_assets_gz $@ $(call web_gz_args,$(WEB_FILES))
$(BUILD)/gen/web_core_assets.c: $(EMBED) $(WEB_OWN) mk/web.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table web_assets $@ $(call web_args,$(WEB_OWN))
$(BUILD)/gen/web_core_assets_gz.c: $(EMBED) $(foreach f,$(WEB_OWN),$(call web_gz,$(f))) mk/web.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table web_assets_gz $@ $(call web_gz_args,$(WEB_OWN))

ifeq ($(DOCS),0)
BIN_OBJ += $(BUILD)/obj/gen/web_core_assets.o $(BUILD)/obj/gen/web_core_assets_gz.o
else
BIN_OBJ += $(BUILD)/obj/gen/web_assets.o $(BUILD)/obj/gen/web_assets_gz.o
endif
UNIT_OBJ += $(BUILD)/obj/gen/web_core_assets.o $(BUILD)/obj/gen/web_core_assets_gz.o

# ---- tests ---------------------------------------------------------------

TEST_EXTRA += test-web
.PHONY: test-web

# CHROMIUM: the browser the tests drive (Debian's; nothing is downloaded).
CHROMIUM ?= /usr/bin/chromium
test-web: $(BUILD)/insights $(NPM_STAMP)
	@rm -rf $(BUILD)/web-shots
	INSIGHTS_BIN=$(abspath $(BUILD)/insights) CHROMIUM=$(CHROMIUM) \
	WEB_SHOTS=$(abspath $(BUILD)/web-shots) \
	node --test tests/web/*.test.mjs
