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
# scripts/test-postgresql.sh is the driver: it runs the same stages outside make.

PKGS += libpq

.PHONY: test-postgresql
TEST_EXTRA += test-postgresql

# scripts/test-postgresql.sh runs every stage and removes the cluster.
test-postgresql: $(BUILD)/insights $(BUILD)/unit-tests
	PYTHON=$(PYTHON) scripts/test-postgresql.sh $(BUILD)
