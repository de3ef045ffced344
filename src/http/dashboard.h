/*
 * The web dashboard: three small static files (src/http/dashboard/) built
 * into the binary by scripts/embed.py and served from memory. The page is
 * read-only; everything it shows comes from the JSON API (docs/api.md).
 *
 *   /                       index.html, unless http.root has its own index.html
 *   /dashboard/             index.html (also /dashboard and /dashboard/index.html)
 *   /dashboard/<file>       app.js, style.css, icon.svg
 */
#ifndef PXED_HTTP_DASHBOARD_H
#define PXED_HTTP_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

struct evhttp_request;

/* One embedded file; the table is generated at build time (dashboard_assets.c). */
struct dashboard_asset {
	const char *name; /* "index.html": the file's name in src/http/dashboard/ */
	const char *type; /* Content-Type */
	const char *etag; /* a strong validator: a hash of the content, quoted */
	const unsigned char *data;
	size_t len;
};

extern const struct dashboard_asset dashboard_assets[];
extern const size_t dashboard_n_assets;

/*
 * The embedded file that answers path (a decoded request path), or NULL.
 * "/" answers only when the operator's http_root (may be NULL) has no
 * index.html of its own: theirs wins there, and the dashboard stays at
 * /dashboard/.
 */
const struct dashboard_asset *dashboard_lookup(const char *path, const char *http_root);

/*
 * Answers a GET or HEAD for path if it is a dashboard file (true), with
 * ETag, Cache-Control: no-cache, a Content-Security-Policy that allows
 * nothing but the page's own files, and 304 for a matching If-None-Match.
 * False: not ours, the caller serves the request.
 */
bool dashboard_handle(struct evhttp_request *req, const char *path, const char *http_root);

#endif
