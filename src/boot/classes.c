/*
 * Classes and architecture overrides (see classes.h): which configured
 * rules a client's facts match. Pure functions over the config snapshot.
 */
#include "boot/classes.h"

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

#include <string.h>

static bool vendor_class_matches(const char *prefix, const struct boot_facts *f)
{
	size_t n = strlen(prefix);

	return n <= f->vendor_class_len && memcmp(f->vendor_class, prefix, n) == 0;
}

/*
 * RFC 3004 §4 makes option 77 a list of length-prefixed class names, but
 * iPXE and most PXE ROMs send one bare string ("iPXE"). Either form
 * matches: the whole option, or one of its RFC 3004 entries.
 */
static bool user_class_matches(const char *want, const struct boot_facts *f)
{
	size_t n = strlen(want), pos = 0;

	if (n == f->user_class_len && memcmp(f->user_class, want, n) == 0)
		return true;
	while (pos < f->user_class_len) {
		size_t len = f->user_class[pos];
		if (len == 0 || len > f->user_class_len - pos - 1)
			return false; /* not RFC 3004 after all */
		if (len == n && memcmp(f->user_class + pos + 1, want, n) == 0)
			return true;
		pos += 1 + len;
	}
	return false;
}

static bool arch_matches(const struct conf_match *m, const struct boot_facts *f)
{
	if (!f->has_arch)
		return false;
	for (size_t i = 0; i < m->n_arches && i < CONF_MAX_CLASS_ARCHES; i++)
		if (m->arches[i] == f->arch)
			return true;
	return false;
}

static bool mac_prefix_matches(const uint8_t *prefix, size_t len, const uint8_t mac[6])
{
	return len <= 6 && memcmp(prefix, mac, len) == 0;
}

/* Option 97's bytes as sent, against the class's UUIDs (see conf_match). */
static bool uuid_matches(const struct conf_match *m, const struct boot_facts *f)
{
	if (!f->has_uuid)
		return false;
	for (size_t i = 0; i < m->n_uuids; i++)
		if (memcmp(m->uuids[i], f->uuid, 16) == 0)
			return true;
	return false;
}

/*
 * The client's network is the one its link address (relay, or our
 * interface) picks, so that address inside a class subnet is the client
 * inside it.
 */
static bool subnet_matches(const struct conf_match *m, const struct boot_facts *f)
{
	if (f->link == 0)
		return false;
	for (size_t i = 0; i < m->n_subnets && i < CONF_MAX_CLASS_SUBNETS; i++) {
		const struct conf_cidr *n = &m->subnets[i];
		if ((f->link & prefix_mask(n->prefix_len)) == n->network)
			return true;
	}
	return false;
}

bool boot_class_matches(const struct conf_class *cl, const struct boot_facts *f)
{
	const struct conf_match *m = &cl->match;

	if (m->vendor_class_prefix != NULL && !vendor_class_matches(m->vendor_class_prefix, f))
		return false;
	if (m->user_class != NULL && !user_class_matches(m->user_class, f))
		return false;
	if (m->n_arches > 0 && !arch_matches(m, f))
		return false;
	if (m->mac_prefix_len > 0 && !mac_prefix_matches(m->mac_prefix, m->mac_prefix_len, f->mac))
		return false;
	if (m->relay != 0 && m->relay != f->relay)
		return false;
	if (m->interface != NULL && (f->interface == NULL || strcmp(m->interface, f->interface)))
		return false;
	if (m->n_uuids > 0 && !uuid_matches(m, f))
		return false;
	if (m->n_subnets > 0 && !subnet_matches(m, f))
		return false;
	return true;
}

size_t boot_classes_match(const struct conf *c, const struct boot_facts *f,
			  const struct conf_class **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_classes && n < max; i++)
		if (boot_class_matches(&c->classes[i], f))
			out[n++] = &c->classes[i];
	return n;
}

bool boot_arch_override(const struct conf *c, const uint8_t mac[6], uint16_t *arch)
{
	const struct conf_arch_override *best = NULL;

	/* Longest prefix wins; among equal ones the first in the file. */
	for (size_t i = 0; i < c->n_arch_overrides; i++) {
		const struct conf_arch_override *o = &c->arch_overrides[i];
		if (o->mac_prefix_len == 0 ||
		    !mac_prefix_matches(o->mac_prefix, o->mac_prefix_len, mac))
			continue;
		if (best == NULL || o->mac_prefix_len > best->mac_prefix_len)
			best = o;
	}
	if (best == NULL)
		return false;
	*arch = best->arch;
	return true;
}
