#include "daemon/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/rogue.h"
#include "dhcp/server.h"
#include "http/provision.h"
#include "obs/live.h"
#include "pxed.h"
#include "store/store.h"

/* An entry the API put, as the store holds it. */
struct snap_entry {
	enum conf_entry_kind kind;
	char *name;
	char *body;
	int64_t updated;
	/*
	 * In the running snapshot. One that stopped fitting the file (its
	 * profile removed, its address taken) is left out, logged, and stays
	 * here and in the store until it is put again or deleted; snapshots
	 * are built of the used ones, so it blocks no other change.
	 */
	bool used;
};

struct snapshot {
	char *path; /* NULL: built from flags, nothing to change */
	char *text; /* the file as last loaded */
	size_t len;
	struct snap_entry *entries;
	size_t n, cap;
	void (*overrides)(struct conf *c, const void *arg);
	const void *overrides_arg;
};

static const char *const kind_names[] = {
    [CONF_ENTRY_HOST] = "host", [CONF_ENTRY_PROFILE] = "profile"};

struct snapshot *snapshot_new(const char *path, char *text, size_t len)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (s == NULL || (path != NULL && (s->path = strdup(path)) == NULL))
		fatal("out of memory");
	s->text = text;
	s->len = len;
	return s;
}

static void entry_clear(struct snap_entry *e)
{
	free(e->name);
	free(e->body);
}

void snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_clear(&s->entries[i]);
	free(s->entries);
	free(s->text);
	free(s->path);
	free(s);
}

void snapshot_each_unused(const struct snapshot *s, enum conf_entry_kind kind,
			  void (*fn)(const char *name, const char *body, int64_t updated,
				     void *arg),
			  void *arg)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (!s->entries[i].used && s->entries[i].kind == kind)
			fn(s->entries[i].name, s->entries[i].body, s->entries[i].updated, arg);
}

void snapshot_set_overrides(struct snapshot *s, void (*fn)(struct conf *c, const void *arg),
			    const void *arg)
{
	s->overrides = fn;
	s->overrides_arg = arg;
}

bool snapshot_changeable(const struct snapshot *s)
{
	return s != NULL && s->path != NULL;
}

static struct snap_entry *entry_find(const struct snapshot *s, enum conf_entry_kind kind,
				     const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].kind == kind && strcmp(s->entries[i].name, name) == 0)
			return &s->entries[i];
	return NULL;
}

const char *snapshot_entry(const struct snapshot *s, enum conf_entry_kind kind, const char *name,
			   int64_t *updated)
{
	const struct snap_entry *e = s != NULL ? entry_find(s, kind, name) : NULL;

	if (e != NULL && updated != NULL)
		*updated = e->updated;
	return e != NULL ? e->body : NULL;
}

static void entry_add(struct snapshot *s, enum conf_entry_kind kind, const char *name,
		      const char *body, int64_t updated)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 16 : s->cap * 2;
		struct snap_entry *e = realloc(s->entries, cap * sizeof(*e));
		if (e == NULL)
			fatal("out of memory");
		s->entries = e;
		s->cap = cap;
	}
	struct snap_entry *e = &s->entries[s->n++];
	*e = (struct snap_entry){.kind = kind, .updated = updated, .used = true};
	if ((e->name = strdup(name)) == NULL || (e->body = strdup(body)) == NULL)
		fatal("out of memory");
}

/*
 * A snapshot of the file's text with entries[i] for every i where use[i]
 * (use NULL: the used ones), one entry replaced by `extra` (NULL: none),
 * and skip (NULL: none) left out, to replace running (NULL at start).
 */
static int snapshot_build(const struct snapshot *s, const struct conf *running, const bool *use,
			  const struct snap_entry *skip, const struct conf_entry *extra,
			  struct conf **out, struct conf_errors *errs)
{
	struct conf_entry *list = calloc(s->n + 1, sizeof(*list));
	size_t n = 0;
	bool replaced = false;

	if (list == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_entry *e = &s->entries[i];
		if ((use != NULL ? !use[i] : !e->used) || e == skip)
			continue;
		if (extra != NULL && extra->kind == e->kind && strcmp(extra->name, e->name) == 0) {
			list[n++] = *extra;
			replaced = true;
			continue;
		}
		list[n++] = (struct conf_entry){.kind = e->kind, .name = e->name, .body = e->body};
	}
	if (extra != NULL && !replaced)
		list[n++] = *extra;
	int rc = conf_load_over(running, s->path, s->text, s->len, list, n, out, errs);
	free(list);
	if (rc == 0 && s->overrides != NULL) {
		s->overrides(*out, s->overrides_arg);
		if ((rc = conf_validate_over(*out, running, errs)) < 0) {
			conf_free(*out);
			*out = NULL;
		}
	}
	return rc;
}

/* Path a is dir or lies beneath it. */
static bool path_beneath(const char *a, const char *dir)
{
	size_t n = dir != NULL ? strlen(dir) : 0;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n > 0 && strncmp(a, dir, n) == 0 && (a[n] == '/' || a[n] == '\0');
}

/*
 * A file a profile serves to anyone: readable by pxed now (Landlock lets it
 * read the files of the profiles it started with), a regular file (a FIFO
 * would hold the loop), and, when the API put the profile, not in the
 * directories that hold pxed's own files (the config's, the state, uploads).
 */
static void snapshot_check_file(const struct conf *c, const struct conf_profile *p, const char *f,
				struct conf_errors *errs)
{
	const char *who = p->line == CONF_LINE_API ? "api" : c->path;
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", c->path != NULL ? c->path : "");
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	if (p->line == CONF_LINE_API &&
	    (path_beneath(f, dir) || path_beneath(f, c->state_dir) ||
	     (c->tftp_upload_dir != NULL && path_beneath(f, c->tftp_upload_dir)))) {
		conf_errors_add(errs, who, p->line,
				"profile '%s': %s lies in pxed's own directories (the config's, "
				"state_dir, tftp.upload_dir): not served",
				p->name, f);
		return;
	}
	int fd = open(f, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		conf_errors_add(
		    errs, who, p->line, "profile '%s': %s: %s%s", p->name, f, strerror(errno),
		    errno == EACCES || errno == EPERM
			? " (pxed reads only the files of the profiles it started with: "
			  "restart it to add others)"
			: "");
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		conf_errors_add(errs, who, p->line, "profile '%s': %s is not a regular file",
				p->name, f);
	close(fd);
}

/*
 * What a snapshot needs beyond `pxed check`: no setting that only a restart
 * applies has changed, and every profile's files can be served.
 */
static int snapshot_check(const struct conf *running, const struct conf *c,
			  struct conf_errors *errs)
{
	const char *key = conf_restart_change(running, c);
	size_t before = errs->n;

	if (key != NULL)
		conf_errors_add(
		    errs, c->path, 0,
		    "%s changed: only a restart of pxed applies it (nothing was changed)", key);
	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct conf_profile *p = &c->profiles[i];
		for (size_t k = 0; k <= p->n_initrds; k++) {
			const char *f = k == 0 ? p->kernel : p->initrds[k - 1];
			if (f != NULL)
				snapshot_check_file(c, p, f, errs);
		}
		for (size_t k = 0; k < p->n_templates; k++)
			if (p->line == CONF_LINE_API)
				snapshot_check_file(c, p, p->templates[k].path, errs);
	}
	return errs->n > before ? -EINVAL : 0;
}

/* Replaces the running snapshot: between two events, nothing points into the old one. */
static void snapshot_swap(struct pxed *d, struct conf *c)
{
	struct conf *old = (struct conf *)d->conf;

	d->conf = c;
	if (d->live != NULL)
		obs_live_attach(d->live, &d->metrics, c);
	if (d->dhcp != NULL && dhcp_server_conf_changed(d->dhcp, old) < 0)
		log_err("snapshot", "the DHCP pools could not be reloaded from the store");
	rogue_conf_changed(d->rogue);
	/* Hosts that came with `install: true` get their state (at start, provision_load does). */
	if (d->states != NULL && provision_mark_new(d) < 0)
		log_err("snapshot", "the hosts new with install: true could not be marked");
	conf_free(old);
}

static int entry_load(const char *kind, const char *name, const char *body, int64_t updated,
		      void *arg)
{
	struct snapshot *s = arg;

	if (strcmp(kind, "host") == 0)
		entry_add(s, CONF_ENTRY_HOST, name, body, updated);
	else if (strcmp(kind, "profile") == 0)
		entry_add(s, CONF_ENTRY_PROFILE, name, body, updated);
	else
		log_warn("snapshot", "the store holds an inventory entry of unknown kind '%s'",
			 kind);
	return 0;
}

static void log_errors(const char *what, struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		log_err("snapshot", "%s: %s", what, errs->msgs[i]);
}

/* Builds with use[] and, when it fails, drops entry i again and names it in the log. */
static bool snapshot_try(struct snapshot *s, const struct conf *running, bool *use, size_t i)
{
	struct conf_errors one = {0};
	struct conf *t = NULL;

	use[i] = true;
	if (snapshot_build(s, running, use, NULL, NULL, &t, &one) == 0) {
		conf_free(t);
		return true;
	}
	use[i] = false;
	char what[160];
	snprintf(what, sizeof(what),
		 "api %s %s is not used (it stays in the store; put or delete it)",
		 kind_names[s->entries[i].kind], s->entries[i].name);
	log_errors(what, &one);
	conf_errors_free(&one);
	return false;
}

/*
 * The file with every entry of s over it, to replace running (NULL at
 * start); an entry that does not fit is left out (use[i] false) and named
 * in the log: it stays in the store. The file's own hosts may boot the
 * API's profiles, so the profiles come first, then the hosts one by one.
 * use has s->n slots. 0, or -errno with errs saying why nothing fits.
 */
static int snapshot_layer(struct snapshot *s, const struct conf *running, bool *use,
			  struct conf **out, struct conf_errors *errs)
{
	struct conf_errors one = {0};
	struct conf *t = NULL;

	for (size_t i = 0; i < s->n; i++)
		use[i] = true;
	if (snapshot_build(s, running, use, NULL, NULL, out, &one) == 0) {
		conf_errors_free(&one);
		return 0;
	}
	/* A file that fails alone the same way is broken itself: no entry is to blame. */
	struct conf_errors alone = {0};
	for (size_t i = 0; i < s->n; i++)
		use[i] = false;
	if (snapshot_build(s, running, use, NULL, NULL, &t, &alone) == 0) {
		conf_free(t);
	} else if (one.n > 0 && alone.n > 0 && strcmp(one.msgs[0], alone.msgs[0]) == 0) {
		conf_errors_free(&one);
		for (size_t i = 0; i < alone.n; i++)
			conf_errors_add(errs, NULL, 0, "%s", alone.msgs[i]);
		conf_errors_free(&alone);
		return -EINVAL;
	}
	conf_errors_free(&alone);
	conf_errors_free(&one);
	for (size_t i = 0; i < s->n; i++)
		use[i] = s->entries[i].kind == CONF_ENTRY_PROFILE;
	if (snapshot_build(s, running, use, NULL, NULL, &t, &one) == 0) {
		conf_free(t);
	} else {
		for (size_t i = 0; i < s->n; i++)
			use[i] = false;
		for (size_t i = 0; i < s->n; i++)
			if (s->entries[i].kind == CONF_ENTRY_PROFILE)
				snapshot_try(s, running, use, i);
	}
	conf_errors_free(&one);
	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].kind == CONF_ENTRY_HOST)
			snapshot_try(s, running, use, i);
	/* Nothing at all fits: the file's own problems (with what it needs) are the answer. */
	return snapshot_build(s, running, use, NULL, NULL, out, errs);
}

static void snapshot_use(struct snapshot *s, const bool *use)
{
	for (size_t i = 0; i < s->n; i++)
		s->entries[i].used = use[i];
}

int snapshot_start(struct pxed *d)
{
	struct snapshot *s = d->snap;
	struct conf *c = NULL;
	int rc;

	if (!snapshot_changeable(s))
		return 0;
	if (store_inventory_each(d->store, entry_load, s) < 0)
		return -EIO;
	if (s->n == 0)
		return 0;
	bool *use = calloc(s->n, sizeof(*use));
	struct conf_errors errs = {0};
	if (use == NULL)
		return -ENOMEM;
	rc = snapshot_layer(s, NULL, use, &c, &errs);
	log_errors("inventory", &errs);
	conf_errors_free(&errs);
	if (rc == 0)
		snapshot_use(s, use);
	free(use);
	if (rc < 0)
		return rc;
	/* Before the sandbox: it is built from this snapshot (the profiles' files). */
	snapshot_swap(d, c);
	log_info("snapshot", "%zu inventory entries from the API", s->n);
	return 0;
}

struct conf *snapshot_load_offline(const char *path, const char *text, size_t len,
				   const char *state_dir)
{
	struct conf *c = NULL;
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct snapshot *s = snapshot_new(path, copy, len);
	struct conf_errors errs = {0};
	bool *use = NULL;
	if (store_inventory_read(state_dir, entry_load, s) == 0 && s->n > 0 &&
	    (use = calloc(s->n, sizeof(*use))) != NULL &&
	    snapshot_layer(s, NULL, use, &c, &errs) < 0)
		c = NULL;
	log_errors("inventory", &errs);
	conf_errors_free(&errs);
	free(use);
	snapshot_free(s);
	return c;
}

int snapshot_reload(struct pxed *d, struct conf_errors *errs)
{
	struct snapshot *s = d->snap;
	struct conf *c = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!snapshot_changeable(s))
		return -ENOTSUP;
	if ((rc = conf_read_file(s->path, &text, &len, errs)) < 0)
		return -EINVAL;
	char *old_text = s->text;
	size_t old_len = s->len;
	bool *use = calloc(s->n + 1, sizeof(*use));
	if (use == NULL) {
		free(text);
		return -ENOMEM;
	}
	s->text = text;
	s->len = len;
	rc = snapshot_layer(s, d->conf, use, &c, errs);
	if (rc == 0 && (rc = snapshot_check(d->conf, c, errs)) < 0)
		conf_free(c);
	if (rc < 0) {
		s->text = old_text;
		s->len = old_len;
		free(text);
		free(use);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	free(old_text);
	snapshot_use(s, use);
	free(use);
	snapshot_swap(d, c);
	log_info("snapshot", "reloaded %s", s->path);
	return 0;
}

/*
 * A host given an address that another machine holds a lease on would be
 * offered it and NAKed until that lease ends: refused instead.
 */
static int snapshot_check_lease(struct pxed *d, const struct conf *c, const char *mac_text,
				struct conf_errors *errs)
{
	const struct conf_host *h, *was;
	struct store_lease l;
	uint8_t mac[6];
	char ip[16], other[18];

	if (mac_parse(mac_text, mac) < 0 || (h = conf_find_host(c, mac)) == NULL || h->address == 0)
		return 0;
	was = conf_find_host(d->conf, mac);
	if ((was != NULL && was->address == h->address) ||
	    store_lease_by_ip(d->store, h->address, &l) < 0 || memcmp(l.mac, mac, 6) == 0 ||
	    l.expires <= (int64_t)time(NULL))
		return 0;
	conf_errors_add(errs, "api", 0,
			"host %s: address %s is leased to %s for %lld s more: release it first "
			"(pxed leases release) or reserve another",
			mac_text, ip4_format(ip, h->address), mac_format(other, l.mac),
			(long long)(l.expires - (int64_t)time(NULL)));
	return -EINVAL;
}

int snapshot_put(struct pxed *d, enum conf_entry_kind kind, const char *name, const char *body,
		 struct conf_errors *errs)
{
	struct snapshot *s = d->snap;
	struct conf_entry e = {.kind = kind, .name = name, .body = body};
	struct conf *c = NULL;
	int rc;

	if (!snapshot_changeable(s))
		return -ENOTSUP;
	if ((rc = snapshot_build(s, d->conf, NULL, NULL, &e, &c, errs)) < 0)
		return rc;
	if ((rc = snapshot_check(d->conf, c, errs)) < 0 ||
	    (kind == CONF_ENTRY_HOST && (rc = snapshot_check_lease(d, c, name, errs)) < 0) ||
	    (rc = store_inventory_put(d->store, kind_names[kind], name, body)) < 0) {
		conf_free(c);
		return rc;
	}
	struct snap_entry *old = entry_find(s, kind, name);
	if (old != NULL) {
		char *b = strdup(body);
		if (b == NULL)
			fatal("out of memory");
		free(old->body);
		old->body = b;
		old->updated = (int64_t)time(NULL);
		old->used = true;
	} else {
		entry_add(s, kind, name, body, (int64_t)time(NULL));
	}
	snapshot_swap(d, c);
	log_info("snapshot", "api %s %s put", kind_names[kind], name);
	return 0;
}

int snapshot_delete(struct pxed *d, enum conf_entry_kind kind, const char *name,
		    struct conf_errors *errs)
{
	struct snapshot *s = d->snap;
	struct snap_entry *e;
	struct conf *c = NULL;
	int rc;

	if (!snapshot_changeable(s))
		return -ENOTSUP;
	if ((e = entry_find(s, kind, name)) == NULL)
		return -ENOENT;
	if ((rc = snapshot_build(s, d->conf, NULL, e, NULL, &c, errs)) < 0)
		return rc;
	if ((rc = snapshot_check(d->conf, c, errs)) < 0 ||
	    ((rc = store_inventory_delete(d->store, kind_names[kind], name)) < 0 &&
	     rc != -ENOENT)) {
		conf_free(c);
		return rc;
	}
	entry_clear(e);
	*e = s->entries[--s->n];
	snapshot_swap(d, c);
	log_info("snapshot", "api %s %s deleted", kind_names[kind], name);
	return 0;
}
