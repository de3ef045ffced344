/*
 * The running configuration. d->conf is one immutable snapshot built from
 * the config file's text (as last loaded) and the inventory entries the API
 * put (kept in the store). A change — an API put or delete, a reload on
 * SIGHUP or through the API — builds a whole new snapshot, checks it as
 * `pxed check` would and then some (what only a restart applies, files the
 * sandbox lets pxed read), stores what must be stored, and only then
 * replaces d->conf, between two events of the loop. A change that fails
 * any check changes nothing. Leases and transfers in flight keep going:
 * nothing holds a pointer into a snapshot past one event.
 */
#ifndef PXED_DAEMON_SNAPSHOT_H
#define PXED_DAEMON_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct pxed;
struct snapshot;

/*
 * What the daemon was started from: the config file (path, its text as
 * loaded; text is taken over), or NULL path for a configuration built from
 * flags (`pxed boot`, `pxed serve --listen`), which can be neither
 * reloaded nor changed through the API.
 */
struct snapshot *snapshot_new(const char *path, char *text, size_t len);
void snapshot_free(struct snapshot *s);

/*
 * What the command line overrides (`--state-dir`, `--user`...): applied to
 * every snapshot built from the file, as to the first; arg must outlive s.
 */
void snapshot_set_overrides(struct snapshot *s, void (*fn)(struct conf *c, const void *arg),
			    const void *arg);

/*
 * After the store is open: lays the API's entries over d->conf (the file's
 * alone until then). An entry that no longer fits the file (its profile is
 * gone, its address taken...) is left out, logged, and stays in the store.
 * 0 or -EIO.
 */
int snapshot_start(struct pxed *d);

/*
 * For `pxed explain --config`: the file's text (already loaded from path)
 * with the API's entries in the store at state_dir over it, as the daemon
 * runs it; NULL when the store holds none (or cannot be read).
 */
struct conf *snapshot_load_offline(const char *path, const char *text, size_t len,
				   const char *state_dir);

/*
 * Reads the config file again and applies it. 0; -EINVAL with errs filled
 * (the file's problems, as `pxed check` reports them, or a setting that
 * only a restart applies); -ENOTSUP without a config file.
 */
int snapshot_reload(struct pxed *d, struct conf_errors *errs);

/*
 * Puts (adds or replaces) an API entry; body is JSON with the keys of a
 * hosts entry or of a profile (docs/api.md). 0; -EINVAL with errs filled;
 * -ENOTSUP without a config file; -EIO when the store failed.
 */
int snapshot_put(struct pxed *d, enum conf_entry_kind kind, const char *name, const char *body,
		 struct conf_errors *errs);

/*
 * Deletes an API entry: 0; -ENOENT when the API put none of that name;
 * -EINVAL (errs) when what remains does not hold together (a host of the
 * API still boots that profile); -ENOTSUP, -EIO as snapshot_put().
 */
int snapshot_delete(struct pxed *d, enum conf_entry_kind kind, const char *name,
		    struct conf_errors *errs);

/* The API's entry of that kind and name, or NULL; its body and when it was put. */
const char *snapshot_entry(const struct snapshot *s, enum conf_entry_kind kind, const char *name,
			   int64_t *updated);

/*
 * The API's entries of that kind that the running snapshot leaves out (they
 * stopped fitting the file; logged at start or reload): fn for each.
 */
void snapshot_each_unused(const struct snapshot *s, enum conf_entry_kind kind,
			  void (*fn)(const char *name, const char *body, int64_t updated,
				     void *arg),
			  void *arg);

/* Whether d->conf can change at run time (started from a config file). */
bool snapshot_changeable(const struct snapshot *s);

#endif
