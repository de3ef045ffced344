/*
 * Machines' DHCP facts (see facts.h): an open-addressing table keyed by the
 * exact MAC, linear probing within OBS_FACTS_PROBE slots. Slots are never
 * emptied, only reused, so a lookup may stop at the first empty one. No
 * allocation: the table lives inside the daemon object.
 */
#include "obs/facts.h"

#include <stdio.h>
#include <string.h>

#include "boot/policy.h"
#include "core/util.h"
#include "obs/obs.h"
#include "pxed.h"

_Static_assert((OBS_FACTS_SLOTS & (OBS_FACTS_SLOTS - 1)) == 0,
	       "OBS_FACTS_SLOTS must be a power of two");
_Static_assert(OBS_FACTS_PROBE <= OBS_FACTS_SLOTS, "probe window larger than the table");

static const struct obs_facts_slot *obs_facts_find(const struct obs_facts *t, const uint8_t mac[6])
{
	uint32_t home = mac_hash(mac) & (OBS_FACTS_SLOTS - 1);

	for (uint32_t i = 0; i < OBS_FACTS_PROBE; i++) {
		const struct obs_facts_slot *s = &t->slots[(home + i) & (OBS_FACTS_SLOTS - 1)];
		if (!s->used)
			return NULL;
		if (memcmp(s->f.mac, mac, 6) == 0)
			return s;
	}
	return NULL;
}

/* The machine's slot; else the window's first empty one, else its least recently recorded. */
static struct obs_facts_slot *obs_facts_slot(struct obs_facts *t, const uint8_t mac[6])
{
	uint32_t home = mac_hash(mac) & (OBS_FACTS_SLOTS - 1);
	struct obs_facts_slot *s = NULL, *oldest = NULL;

	for (uint32_t i = 0; i < OBS_FACTS_PROBE && s == NULL; i++) {
		struct obs_facts_slot *at = &t->slots[(home + i) & (OBS_FACTS_SLOTS - 1)];
		if (!at->used) {
			t->n++;
			s = at;
		} else if (memcmp(at->f.mac, mac, 6) == 0) {
			return at;
		} else if (oldest == NULL || at->seq < oldest->seq) {
			oldest = at;
		}
	}
	if (s == NULL) {
		s = oldest;
		t->evicted++;
	}
	memset(s, 0, sizeof(*s));
	memcpy(s->f.mac, mac, 6);
	s->used = true;
	return s;
}

void obs_facts_record(struct obs_facts *t, const struct obs_fact *f)
{
	struct obs_facts_slot *s;

	if (!f->has_arch && !f->has_uuid)
		return; /* nothing to tell: a machine that never told us costs no slot */
	s = obs_facts_slot(t, f->mac);
	s->seq = ++t->seq;
	if (f->has_arch) {
		s->f.has_arch = true;
		s->f.arch = f->arch;
	}
	if (f->has_uuid) {
		s->f.has_uuid = true;
		memcpy(s->f.uuid, f->uuid, 16);
	}
}

bool obs_facts_lookup(const struct obs_facts *t, const uint8_t mac[6], struct obs_fact *out)
{
	const struct obs_facts_slot *s = obs_facts_find(t, mac);

	if (s == NULL)
		return false;
	*out = s->f;
	return true;
}

void obs_facts_words(const struct obs_facts *t, const uint8_t mac[6], const char **arch,
		     const char **uuid, char buf[OBS_UUID_TEXT])
{
	struct obs_fact f;

	*arch = *uuid = NULL;
	if (t == NULL || !obs_facts_lookup(t, mac, &f))
		return;
	if (f.has_arch)
		*arch = boot_arch_name(f.arch);
	if (f.has_uuid)
		*uuid = obs_uuid_format(buf, f.uuid);
}

char *obs_uuid_format(char out[OBS_UUID_TEXT], const uint8_t uuid[16])
{
	size_t n = 0;

	for (int i = 0; i < 16; i++) {
		bool dash = i == 4 || i == 6 || i == 8 || i == 10;
		n += (size_t)snprintf(out + n, OBS_UUID_TEXT - n, "%s%02x", dash ? "-" : "",
				      uuid[i]);
	}
	return out;
}

void obs_facts_of_requester(void *ctx, uint32_t ip, const uint8_t mac[6], const char **arch,
			    const char **uuid, char buf[OBS_UUID_TEXT])
{
	struct pxed *d = ctx;
	uint8_t who[6];

	*arch = *uuid = NULL;
	if (d->facts.n == 0 || d->obs == NULL || !obs_lookup(d->obs, ip, who) ||
	    memcmp(who, mac, 6) != 0)
		return;
	obs_facts_words(&d->facts, mac, arch, uuid, buf);
}
