/*
 * The inventory API (docs/api.md "Inventory"): an HTTP listener of its own
 * on api.listen:api.port (127.0.0.1:8780 unless configured), opened only
 * when api.token_file names the file holding its bearer token. Every
 * request needs `Authorization: Bearer <token>`.
 *
 *   GET    /api/v1/hosts, /api/v1/hosts/MAC          the inventory's hosts
 *   PUT    /api/v1/hosts/MAC                          add or replace one (JSON)
 *   DELETE /api/v1/hosts/MAC                          delete one the API put
 *   GET    /api/v1/profiles, /api/v1/profiles/NAME    and the same for profiles
 *   PUT    /api/v1/profiles/NAME
 *   DELETE /api/v1/profiles/NAME
 *   POST   /api/v1/reload                             read the config file again
 *   GET    every read endpoint of http/api.h
 *
 * Changes go through daemon/snapshot.h: checked whole, stored, then used.
 */
#ifndef PXED_HTTP_ADMIN_H
#define PXED_HTTP_ADMIN_H

#include <stddef.h>

struct pxed;
struct http_admin;

/* Bearer tokens, at most (the file's whole content, a final newline dropped). */
#define ADMIN_TOKEN_MAX 4096

/*
 * Reads the token and binds the listener (before privileges are dropped);
 * *out stays NULL without api.token_file. 0 or -errno (logged).
 */
int http_admin_start(struct pxed *d, struct http_admin **out);
void http_admin_stop(struct http_admin *a);

/*
 * The token in file (its whole content, a final newline dropped: 16 to
 * ADMIN_TOKEN_MAX printable characters, no spaces) into out; 0, or -errno
 * with why said. For the daemon and for `pxed hosts` alike.
 */
int http_admin_token_read(const char *file, char *out, size_t cap, char *why, size_t why_cap);

#endif
