# mk/embed.mk: tools/embed, the build-time generator that turns files into C
# arrays (lib/asset.h), and the tables it makes that every build needs: the
# storage drivers' SQL migrations. Needs nothing but the C compiler (no npm).
# mk/assets.mk adds the API documentation's web assets.

$(EMBED): tools/embed.c src/lib/banned.h
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) -Isrc $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $<

# One table per driver: migrations/NNNN_name.sql in version order, served by
# name only ("/0001_initial_schema.sql"; see store_migration_name).
SQLITE_MIGRATIONS := $(sort $(wildcard src/store/sqlite/migrations/*.sql))
PG_MIGRATIONS := $(sort $(wildcard src/store/pg/migrations/*.sql))
embed_args = $(foreach f,$(1),/$(notdir $(f)) application/sql $(f))

$(BUILD)/gen/sqlite_migrations.c: $(EMBED) $(SQLITE_MIGRATIONS) mk/embed.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table sqlite_migrations $@ $(call embed_args,$(SQLITE_MIGRATIONS))

$(BUILD)/gen/pg_migrations.c: $(EMBED) $(PG_MIGRATIONS) mk/embed.mk
	@mkdir -p $(@D)
	@$(if $(V),,echo "  EMBED   $@")
	$(Q)$(EMBED) --table pg_migrations $@ $(call embed_args,$(PG_MIGRATIONS))

# Generated sources compile like the tree's, without debug information for
# what is mostly bytes.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c src/lib/asset.h
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -g0 -c $< -o $@

LIB_OBJ += $(BUILD)/obj/gen/sqlite_migrations.o $(BUILD)/obj/gen/pg_migrations.o
