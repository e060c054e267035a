/*
 * buf.h: a growable byte buffer (in the manner of git's strbuf).
 *
 * Invariants: `len < cap` whenever `data` is not NULL, and `data[len]` is
 * always '\0', so the contents can be used as a C string when they hold no
 * NUL bytes. A zeroed struct (BUF_INIT) is an empty buffer that owns
 * nothing. The buffer owns `data`; buf_detach() is the only way to take it.
 */
#ifndef INSIGHTS_BUF_H
#define INSIGHTS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { 0 }

/* Makes room for at least `extra` more bytes (plus the terminating NUL). */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
static inline void buf_addch(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Shortens the contents to their first `len` bytes (len <= b->len). */
static inline void buf_truncate(struct buf *b, size_t len)
{
	if (b->data) {
		b->len = len;
		b->data[len] = '\0';
	}
}
/* Empties the buffer, keeping its allocation. */
void buf_reset(struct buf *b);
/* Frees the allocation; the buffer is empty (and reusable) afterwards. */
void buf_release(struct buf *b);
/* The contents as a C string: "" for a buffer that owns nothing. */
const char *buf_cstr(const struct buf *b);
/*
 * Hands the allocation to the caller (free() it), leaving the buffer empty.
 * Never returns NULL; `len` receives the length when not NULL.
 */
char *buf_detach(struct buf *b, size_t *len);

#endif
