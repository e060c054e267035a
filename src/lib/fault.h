/*
 * fault.h: fault injection for the tests, in the manner of SQLite's test
 * hooks: named points where a test makes the service fail or wait, to reach
 * paths that no well-behaved client or database reaches (a write that
 * fails after its first statement, a database that stops answering, a
 * request still in flight at SIGTERM).
 *
 * The points exist only in builds made with -DINSIGHTS_FAULTS (the test
 * build, `make test`); elsewhere fault_armed() is the constant false and the
 * checks compile to nothing, so a production binary has no way to be told
 * to fail.
 *
 * A test arms points by writing a file, named by the environment variable
 * INSIGHTS_FAULTS_FILE when the process starts, with one point per line:
 * its name and an optional integer argument ("store.statistics.after_ms
 * 500"). The file is read again whenever it changes, so points can be armed
 * and disarmed while the server runs; no file (or an empty one) arms
 * nothing. The points (grep for their names):
 *
 *   store.<operation>.before_ms N   sleep N ms before a store operation runs
 *   store.<operation>.after_ms N    sleep N ms after it, before its result
 *                                   goes back to the caller
 *   store.<operation>.fail          the operation fails (E_UNAVAILABLE)
 *                                   without reaching the database
 *   store.write.halfway             an insight write fails (E_UNAVAILABLE)
 *                                   after its first statement, inside its
 *                                   transaction
 *   sqlite.io                       every SQLite statement fails with an
 *                                   I/O error, as on a dead disk
 *   pg.listen                       the PostgreSQL listener cannot LISTEN
 *   clock.offset_s N                clock_now() (lib/clock.h) is N seconds
 *                                   ahead (or behind, N < 0) of the real time
 *   clock.at_s N                    clock_now() is N (Unix seconds): a frozen
 *                                   clock, for figures exact to the second
 */
#ifndef INSIGHTS_FAULT_H
#define INSIGHTS_FAULT_H

#include <stdbool.h>

#ifdef INSIGHTS_FAULTS
/* True when `point` is armed; *arg (when not NULL) receives its argument (0 if none). */
bool fault_armed(const char *point, long *arg);
/* Sleeps for the argument of `point`, in milliseconds, when it is armed. */
void fault_sleep(const char *point);
#else
static inline bool fault_armed(const char *point, long *arg)
{
	(void)point;
	(void)arg;
	return false;
}
static inline void fault_sleep(const char *point)
{
	(void)point;
}
#endif

#endif
