/*
 * fuzz.h: what the libFuzzer targets of tests/fuzz/ share: the entry point
 * libFuzzer calls, invariant checks that stop the run with a report, and a
 * NUL-terminated copy of an input.
 *
 * A target must never crash, leak or trip a sanitizer on any input; beyond
 * that it checks the invariants its parser promises (FUZZ_CHECK). A broken
 * invariant aborts, which libFuzzer reports as a crash and saves the input.
 */
#ifndef INSIGHTS_FUZZ_H
#define INSIGHTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz: invariant failed at %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* A copy of `size` bytes followed by a NUL (free it). */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a C string: up to its first NUL (free it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	const void *nul = memchr(data, 0, size);
	return fuzz_bytes(data, nul ? (size_t)((const uint8_t *)nul - data) : size);
}

#endif
