# mk/postgresql.mk: the PostgreSQL driver's build and test steps, included by
# the Makefile.
#
#   make test-postgresql   start a throwaway PostgreSQL 15 cluster and run, on
#                          it, the store unit tests, the whole black-box API
#                          suite and the PostgreSQL-only tests (tests/pg);
#                          the cluster is removed afterwards, whatever happens
#
# `make test` runs it with the sanitizer build after the SQLite tests. Needs
# Debian's postgresql-15 (scripts/install-deps.sh test installs it); under
# root the cluster runs as a system user (see scripts/pg-cluster.sh).

PKGS += libpq

PG_CLUSTER := scripts/pg-cluster.sh
PG_PSQL := /usr/lib/postgresql/15/bin/psql

.PHONY: test-postgresql
TEST_EXTRA += test-postgresql

# One shell, so that the trap removes the cluster on every path out. Each step
# runs even when an earlier one failed; the target fails if any did.
test-postgresql: $(BUILD)/insights $(BUILD)/unit-tests
	@set -u; \
	dir=$$(mktemp -d /tmp/insights-pg.XXXXXX); \
	trap '$(PG_CLUSTER) stop "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	start=$$(date +%s); \
	url=$$($(PG_CLUSTER) start "$$dir") || exit 1; \
	echo "test-postgresql: PostgreSQL 15 at $$url"; \
	base=$${url%/postgres}; \
	$(PG_PSQL) -X -q -v ON_ERROR_STOP=1 "$$url" -c 'CREATE DATABASE insights_unit' || exit 1; \
	failed=; \
	echo "test-postgresql: store unit tests"; \
	TEST_PG_STORE_URL="$$base/insights_unit" $(BUILD)/unit-tests store_ || failed="$$failed unit"; \
	echo "test-postgresql: black-box API suite"; \
	TEST_BACKEND=postgresql TEST_PG_URL="$$url" INSIGHTS_BIN=$(abspath $(BUILD)/insights) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/api || failed="$$failed api"; \
	echo "test-postgresql: PostgreSQL-only tests"; \
	TEST_PG_URL="$$url" TEST_PG_CLUSTER_DIR="$$dir" INSIGHTS_BIN=$(abspath $(BUILD)/insights) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/pg || failed="$$failed pg"; \
	echo "test-postgresql: done in $$(( $$(date +%s) - start )) s"; \
	if [ -n "$$failed" ]; then echo "test-postgresql: FAILED:$$failed" >&2; exit 1; fi
