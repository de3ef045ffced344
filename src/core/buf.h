/*
 * Bounds-checked cursors for decoding and encoding wire formats.
 *
 * A reader never reads past its end: any short read sets a sticky error flag
 * and returns zeros, so a decoder checks rd.err once at the end instead of
 * after every field. A writer has a fixed capacity chosen by its caller; an
 * overflow sets its error flag and writes nothing further.
 */
#ifndef PXED_CORE_BUF_H
#define PXED_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

struct wr {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool err;
};

static inline struct rd rd_init(const void *p, size_t len)
{
	struct rd r = {.p = p, .len = len, .off = 0, .err = false};
	return r;
}

static inline size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r); /* network byte order */
uint32_t rd_u32(struct rd *r); /* network byte order */
/* Copies n bytes into out (which may be NULL to skip); false on short read. */
bool rd_bytes(struct rd *r, void *out, size_t n);
/* Returns a pointer to the next n bytes and advances, or NULL on short read. */
const uint8_t *rd_take(struct rd *r, size_t n);

static inline struct wr wr_init(void *p, size_t cap)
{
	struct wr w = {.p = p, .cap = cap, .len = 0, .err = false};
	return w;
}

void wr_u8(struct wr *w, uint8_t v);
void wr_u16(struct wr *w, uint16_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_bytes(struct wr *w, const void *p, size_t n);
void wr_zero(struct wr *w, size_t n);
/* Reserves n bytes to fill in later; NULL on overflow. */
uint8_t *wr_reserve(struct wr *w, size_t n);

#endif
