# mk/soak.mk: the soak and fault test, `make soak` (not part of `make test`).
#
#   make soak                   the optimised binary under 10 minutes of paced
#                               mixed load on SQLite, then on PostgreSQL (two
#                               instances, PostgreSQL restarted twice), and a
#                               kill -9 loop on each backend (scripts/soak.py)
#   make soak SOAK_MINUTES=1    a shorter try
#
# scripts/soak.py documents the other knobs (SOAK_PHASES, SOAK_N, SOAK_LOAD,
# SOAK_CONNECTIONS, SOAK_KILL_ROUNDS, ...), all read from the environment.
# Logs, databases and results.json go to build/soak/.

SOAK_MINUTES ?= 10

.PHONY: soak
soak:
	scripts/install-deps.sh soak
	$(MAKE) --no-print-directory all
	SOAK_MINUTES=$(SOAK_MINUTES) PG_BIN=$${PG_BIN:-/usr/lib/postgresql/15/bin} $(PYTHON) scripts/soak.py
