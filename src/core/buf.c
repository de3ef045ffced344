#include "core/buf.h"

#include <string.h>

const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

bool rd_bytes(struct rd *r, void *out, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (p == NULL) {
		if (out != NULL)
			memset(out, 0, n);
		return false;
	}
	if (out != NULL)
		memcpy(out, p, n);
	return true;
}

uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? p[0] : 0;
}

uint16_t rd_u16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint8_t *wr_reserve(struct wr *w, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_reserve(w, n);
	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

void wr_zero(struct wr *w, size_t n)
{
	uint8_t *p = wr_reserve(w, n);
	if (p != NULL)
		memset(p, 0, n);
}

void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 2);
}

void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 4);
}
