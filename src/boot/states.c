#include "boot/states.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

/* Entries sorted by MAC: a lookup per DHCP request and per rendered file is a bsearch. */
struct boot_states {
	struct boot_state_entry *e;
	size_t n, alloc; /* entries used, allocated */
	size_t cap;	 /* the most it may hold */
};

static const char *const boot_state_names[] = {
    [BOOT_STATE_NONE] = "none",
    [BOOT_STATE_INSTALL] = "install",
    [BOOT_STATE_INSTALLED] = "installed",
};

const char *boot_state_name(enum boot_state st)
{
	return (size_t)st < PXED_ARRAY_LEN(boot_state_names) ? boot_state_names[st] : "?";
}

int boot_state_parse(const char *name, enum boot_state *out)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(boot_state_names); i++)
		if (strcmp(name, boot_state_names[i]) == 0) {
			*out = (enum boot_state)i;
			return 0;
		}
	return -EINVAL;
}

bool boot_token_valid(const char *token)
{
	size_t i;
	for (i = 0; token[i] != '\0' && i <= BOOT_TOKEN_LEN; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	return i == BOOT_TOKEN_LEN;
}

int boot_states_new(size_t cap, struct boot_states **out)
{
	if (cap == 0 || cap > BOOT_STATES_MAX)
		return -EINVAL;
	struct boot_states *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->cap = cap;
	*out = s;
	return 0;
}

void boot_states_free(struct boot_states *s)
{
	if (s == NULL)
		return;
	free(s->e);
	free(s);
}

size_t boot_states_count(const struct boot_states *s)
{
	return s != NULL ? s->n : 0;
}

/* The index of mac, or where it would go (*found false). */
static size_t boot_states_index(const struct boot_states *s, const uint8_t mac[6], bool *found)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->e[mid].mac, mac, 6);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct boot_state_entry *boot_states_find(const struct boot_states *s, const uint8_t mac[6])
{
	bool found;
	if (s == NULL || s->n == 0)
		return NULL;
	size_t i = boot_states_index(s, mac, &found);
	return found ? &s->e[i] : NULL;
}

/* Room for one more entry: the array grows by doubling, up to cap. */
static int boot_states_grow(struct boot_states *s)
{
	if (s->n < s->alloc)
		return 0;
	if (s->n >= s->cap)
		return -ENOSPC;
	size_t want = s->alloc == 0 ? 64 : s->alloc * 2;
	if (want > s->cap)
		want = s->cap;
	struct boot_state_entry *e = realloc(s->e, want * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	s->e = e;
	s->alloc = want;
	return 0;
}

int boot_states_set(struct boot_states *s, const uint8_t mac[6], enum boot_state st,
		    const char *token, int64_t now)
{
	bool found;
	int rc;

	if (st == BOOT_STATE_INSTALL ? token == NULL || !boot_token_valid(token)
				     : st != BOOT_STATE_NONE && st != BOOT_STATE_INSTALLED)
		return -EINVAL;
	size_t i = boot_states_index(s, mac, &found);
	if (!found) {
		if ((rc = boot_states_grow(s)) < 0)
			return rc;
		memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof(*s->e));
		s->n++;
		memcpy(s->e[i].mac, mac, 6);
	}
	struct boot_state_entry *e = &s->e[i];
	e->state = st;
	snprintf(e->token, sizeof(e->token), "%s", st == BOOT_STATE_INSTALL ? token : "");
	e->updated = now;
	return 0;
}

/* Compares two tokens in time that does not depend on where they differ. */
static bool boot_token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;
	if (strlen(a) != BOOT_TOKEN_LEN || strlen(b) != BOOT_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < BOOT_TOKEN_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

enum boot_callback_result boot_states_callback(struct boot_states *s, const uint8_t mac[6],
					       const char *token, int64_t now)
{
	bool found;
	if (s == NULL || s->n == 0)
		return BOOT_CALLBACK_UNKNOWN;
	size_t i = boot_states_index(s, mac, &found);
	if (!found)
		return BOOT_CALLBACK_UNKNOWN;
	struct boot_state_entry *e = &s->e[i];
	/* A spent token is "": it matches nothing, so a replayed callback is refused. */
	if (e->state != BOOT_STATE_INSTALL || !boot_token_equal(e->token, token))
		return BOOT_CALLBACK_REFUSED;
	e->state = BOOT_STATE_INSTALLED;
	e->token[0] = '\0';
	e->updated = now;
	return BOOT_CALLBACK_DONE;
}

enum boot_state boot_states_effective(const struct boot_states *s, const struct conf *c,
				      const uint8_t mac[6])
{
	const struct conf_host *h = conf_find_host(c, mac);
	/* A host gone from the inventory leaves its stored state behind, unused. */
	if (h == NULL)
		return BOOT_STATE_NONE;
	const struct boot_state_entry *e = boot_states_find(s, mac);
	if (e != NULL)
		return e->state;
	return h->install ? BOOT_STATE_INSTALL : BOOT_STATE_NONE;
}

int boot_states_callback_url(const struct boot_states *s, const struct conf *c,
			     const uint8_t mac[6], uint32_t server_ip, char *out, size_t cap)
{
	const struct boot_state_entry *e = boot_states_find(s, mac);
	char base[64], dash[18];

	if (cap > 0)
		out[0] = '\0';
	if (e == NULL || e->state != BOOT_STATE_INSTALL || e->token[0] == '\0')
		return -ENOENT;
	boot_http_base(c, server_ip, base, sizeof(base));
	int n = snprintf(out, cap, "%s/callback/%s/%s", base, mac_format_dash(dash, mac), e->token);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}
