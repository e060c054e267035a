/*
 * utf8.h: UTF-8 checks used by validation (lengths count characters, not
 * bytes) and by the JSON writer (which must never emit invalid UTF-8).
 */
#ifndef INSIGHTS_UTF8_H
#define INSIGHTS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence at `s` (1 to 4), or 0 when the
 * bytes there are not one (overlong forms, surrogates and code points above
 * U+10FFFF are rejected). `left` is the number of bytes available.
 */
size_t utf8_seqlen(const unsigned char *s, size_t left);
bool utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t utf8_count(const char *s, size_t len);

#endif
