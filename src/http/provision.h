/*
 * The provisioning life cycle's daemon side (boot/states.h holds the
 * states): loading them at start, the installer's callback on the public
 * HTTP port, and marking a host for install again through the API. Every
 * change is written to the store's host_state table before it is answered,
 * recorded as a boot event and counted.
 */
#ifndef PXED_HTTP_PROVISION_H
#define PXED_HTTP_PROVISION_H

#include <stdint.h>

struct pxed;
struct evhttp_request;

/*
 * Builds d->states from the store's host_state table, then marks for
 * install every host the config gives `install: true` that has no stored
 * state yet (a fresh token each, stored). At start, and again after the
 * config changes (hosts added). 0 or -errno.
 */
int provision_load(struct pxed *d);
/* After the config changed: marks the hosts with `install: true` that have no state yet. */
int provision_mark_new(struct pxed *d);
void provision_free(struct pxed *d);

/*
 * Marks mac for install: a fresh token, state install, stored, an event.
 * 0, or -ENOENT (not a host of the config), -EIO, -ENOSPC.
 */
int provision_mark(struct pxed *d, const uint8_t mac[6]);

/*
 * POST /callback/<mac>/<token> (the MAC with dashes or colons): 200 and
 * the host is installed; 403 for a wrong or spent token, 404 for a MAC
 * with no life cycle, 405 for another method. Returns 1 when path is a
 * callback's (answered), 0 otherwise (not answered).
 */
int provision_callback_handle(struct pxed *d, struct evhttp_request *req, const char *path);

/*
 * POST /api/v1/hosts/<mac>/install: marks the host again (JSON answer with
 * its state). For the API's router, after its bearer-token check. Returns 1
 * when path is this endpoint's (answered), 0 otherwise.
 */
int provision_api_handle(struct pxed *d, struct evhttp_request *req, const char *path);

#endif
