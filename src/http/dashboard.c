#include "http/dashboard.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/*
 * Only the page's own files, no inline script or style, no framing:
 * everything the dashboard loads comes from pxed itself (the API and the
 * event stream included).
 */
#define DASHBOARD_CSP                                                                              \
	"default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* Request paths and the embedded file each one gets. */
static const struct {
	const char *path, *name;
} dashboard_routes[] = {
    {"/dashboard", "index.html"},
    {"/dashboard/", "index.html"},
    {"/dashboard/index.html", "index.html"},
    {"/dashboard/app.js", "app.js"},
    {"/dashboard/style.css", "style.css"},
    {"/dashboard/icon.svg", "icon.svg"},
};

static const struct dashboard_asset *dashboard_asset_named(const char *name)
{
	for (size_t i = 0; i < dashboard_n_assets; i++)
		if (strcmp(dashboard_assets[i].name, name) == 0)
			return &dashboard_assets[i];
	return NULL;
}

/* True when the operator's HTTP root has a regular file index.html. */
static bool dashboard_root_has_index(const char *http_root)
{
	struct stat st;
	if (http_root == NULL)
		return false;
	int dirfd = open(http_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return false;
	int rc = fstatat(dirfd, "index.html", &st, 0);
	close(dirfd);
	return rc == 0 && S_ISREG(st.st_mode);
}

const struct dashboard_asset *dashboard_lookup(const char *path, const char *http_root)
{
	if (strcmp(path, "/") == 0)
		return dashboard_root_has_index(http_root) ? NULL
							   : dashboard_asset_named("index.html");
	for (size_t i = 0; i < PXED_ARRAY_LEN(dashboard_routes); i++)
		if (strcmp(path, dashboard_routes[i].path) == 0)
			return dashboard_asset_named(dashboard_routes[i].name);
	return NULL;
}

/*
 * If-None-Match (RFC 9110 section 13.1.2): "*" or a list of entity tags,
 * compared weakly (W/"x" matches "x"). Ours never contain commas or blanks.
 */
static bool dashboard_etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = header;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		size_t len = strcspn(p, " \t,");
		if (len == n && memcmp(p, etag, n) == 0)
			return true;
		p += len;
	}
	return false;
}

bool dashboard_handle(struct evhttp_request *req, const char *path, const char *http_root)
{
	const struct dashboard_asset *a = dashboard_lookup(path, http_root);
	if (a == NULL)
		return false;

	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm = evhttp_find_header(in, "If-None-Match");

	evhttp_add_header(out, "ETag", a->etag);
	/* Revalidate every time: a new pxed brings new files under the same names. */
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Content-Security-Policy", DASHBOARD_CSP);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	if (inm != NULL && dashboard_etag_matches(inm, a->etag)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return true;
	}
	struct evbuffer *b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return true;
	}
	/* The content is static and outlives every request: no copy. */
	evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
	evhttp_add_header(out, "Content-Type", a->type);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	return true;
}
