/*
 * Provisioning life cycles: a host marked for install boots its profile (the
 * installer) until the installer calls back with the host's token; from then
 * on it boots from its local disk until it is marked again.
 *
 *   (none) --config install: true / mark--> install --callback(token)--> installed
 *   installed --mark (API)--> install (a fresh token)
 *
 * The table is pure memory: no I/O, no clock, no randomness (the caller
 * brings the token and the time), so tests call it with values. The daemon
 * keeps it in step with the store's host_state table (http/provision.c).
 */
#ifndef PXED_BOOT_STATES_H
#define PXED_BOOT_STATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

enum boot_state {
	BOOT_STATE_NONE,      /* no life cycle: the host boots its profile as always */
	BOOT_STATE_INSTALL,   /* boots its profile, the installer, which calls back */
	BOOT_STATE_INSTALLED, /* boots from its local disk */
};

/* 16 random bytes in hex: the callback's proof that it comes from the installer. */
#define BOOT_TOKEN_LEN 32
/* One entry per host with a life cycle: as many as the config may hold hosts. */
#define BOOT_STATES_MAX 65536

struct boot_state_entry {
	uint8_t mac[6];
	enum boot_state state;
	char token[BOOT_TOKEN_LEN + 1]; /* BOOT_STATE_INSTALL: the callback's token; else "" */
	int64_t updated;		/* wall clock, seconds */
};

/* What a callback did. */
enum boot_callback_result {
	BOOT_CALLBACK_DONE,    /* install -> installed */
	BOOT_CALLBACK_REFUSED, /* wrong token, a used one, or a host not being installed */
	BOOT_CALLBACK_UNKNOWN, /* no life cycle for this MAC */
};

struct boot_states;

/* An empty table for at most cap entries (at most BOOT_STATES_MAX). 0 or -ENOMEM, -EINVAL. */
int boot_states_new(size_t cap, struct boot_states **out);
void boot_states_free(struct boot_states *s);
size_t boot_states_count(const struct boot_states *s);

/* "install", "installed", "none"; and back: 0 or -EINVAL. */
const char *boot_state_name(enum boot_state st);
int boot_state_parse(const char *name, enum boot_state *out);

/* Whether token is BOOT_TOKEN_LEN lowercase hex digits. */
bool boot_token_valid(const char *token);

/* The entry for mac, or NULL. s may be NULL (no table: nothing has a life cycle). */
const struct boot_state_entry *boot_states_find(const struct boot_states *s, const uint8_t mac[6]);

/*
 * Sets mac's state (inserting it): install needs a valid token, the others
 * take none (token ignored). 0, -EINVAL, or -ENOSPC when the table is full.
 */
int boot_states_set(struct boot_states *s, const uint8_t mac[6], enum boot_state st,
		    const char *token, int64_t now);

/*
 * The installer's callback: a host in install whose token matches moves to
 * installed and its token is spent. Anything else changes nothing. The
 * token is compared in constant time.
 */
enum boot_callback_result boot_states_callback(struct boot_states *s, const uint8_t mac[6],
					       const char *token, int64_t now);

/*
 * The state that decides mac's boot: none for a MAC that is not a host of
 * c; else the table's (a stored state wins over the config until the host
 * is marked again), else install for a host marked `install: true`, else none.
 */
enum boot_state boot_states_effective(const struct boot_states *s, const struct conf *c,
				      const uint8_t mac[6]);

/*
 * The URL mac's installer posts to when done, "http://10.0.0.1/callback/
 * 52-54-00-aa-00-01/<token>", for a host in install with a token; "" (and
 * -ENOENT) otherwise. server_ip: the address the client reached us on.
 */
int boot_states_callback_url(const struct boot_states *s, const struct conf *c,
			     const uint8_t mac[6], uint32_t server_ip, char *out, size_t cap);

#endif
