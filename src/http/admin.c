#include "http/admin.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "boot/policy.h"
#include "boot/states.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/snapshot.h"
#include "http/api.h"
#include "http/conn.h"
#include "http/provision.h"
#include "obs/metrics.h"
#include "pxed.h"

#define ADMIN_MAX_HEADERS 8192

struct http_admin {
	struct pxed *d;
	struct evhttp *http;
	struct http_conns *conns; /* the caps and deadlines of http.* (http/conn.h) */
	struct http_api *api;	  /* the read endpoints, and the reply helpers */
	char token[ADMIN_TOKEN_MAX + 1];
	size_t token_len;
	uint64_t refused; /* requests without the right token, for the log */
};

/* The token from a token file's content: 0, or -EINVAL when too short (16) or long. */
static int admin_token_parse(const char *text, size_t len, char *out, size_t cap)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < 16 || len >= cap || len > ADMIN_TOKEN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f)
			return -EINVAL;
	memcpy(out, text, len);
	out[len] = '\0';
	return 0;
}

int http_admin_token_read(const char *file, char *out, size_t cap, char *why, size_t why_cap)
{
	struct conf_errors errs = {0};
	char *text = NULL;
	size_t len = 0;
	int rc = conf_read_file(file, &text, &len, &errs);

	if (rc < 0) {
		snprintf(why, why_cap, "%s", errs.n > 0 ? errs.msgs[0] : file);
		conf_errors_free(&errs);
		return rc;
	}
	rc = admin_token_parse(text, len, out, cap);
	explicit_bzero(text, len);
	free(text);
	if (rc < 0)
		snprintf(why, why_cap,
			 "%s: the token must be 16 to %d printable characters, no spaces", file,
			 ADMIN_TOKEN_MAX);
	return rc;
}

/* Compares in time that depends on the lengths only. */
static bool admin_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;

	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char)(a[i < alen ? i : 0] ^ b[i]);
	return diff == 0;
}

static bool admin_authorized(struct http_admin *a, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	static const char scheme[] = "Bearer ";

	if (h != NULL && strncasecmp(h, scheme, sizeof(scheme) - 1) == 0) {
		const char *t = h + sizeof(scheme) - 1;
		if (admin_token_equal(t, strlen(t), a->token, a->token_len))
			return true;
	}
	metric_inc(&a->d->metrics, METRIC_API_UNAUTHORIZED);
	a->refused++;
	if ((a->refused & (a->refused - 1)) == 0)
		log_warn("api", "%s bearer token: request refused (%" PRIu64 " so far)",
			 h == NULL ? "no" : "a wrong", a->refused);
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  "Bearer realm=\"pxed\"");
	http_api_reply_error(a->api, req, 401, "Unauthorized",
			     h == NULL ? "this API needs an Authorization: Bearer header"
				       : "wrong bearer token");
	return false;
}

/* ---- JSON of the inventory ------------------------------------------------ */

static json_t *admin_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Where an entry comes from: the file (and its line) or the API (and when). */
static void admin_source(json_t *o, const struct snapshot *snap, enum conf_entry_kind kind,
			 const char *name, int line)
{
	int64_t updated = 0;
	const char *body =
	    line == CONF_LINE_API ? snapshot_entry(snap, kind, name, &updated) : NULL;

	json_object_set_new(o, "source", json_string(line == CONF_LINE_API ? "api" : "config"));
	if (line != CONF_LINE_API) {
		json_object_set_new(o, "line", json_integer(line));
		return;
	}
	json_object_set_new(o, "updated", http_api_time(updated * 1000000));
	if (body != NULL)
		json_object_set_new(o, "spec", json_loads(body, 0, NULL));
}

static json_t *admin_host(const struct pxed *d, const struct conf_host *h)
{
	json_t *o = json_object();
	char mac[18], ip[16];

	json_object_set_new(o, "mac",
			    h->has_mac ? json_string(mac_format(mac, h->mac)) : json_null());
	if (h->client_id_len > 0) {
		char hex[2 * CONF_MAX_CLIENT_ID + 1];
		for (size_t i = 0; i < h->client_id_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", h->client_id[i]);
		json_object_set_new(o, "client_id", json_string(hex));
	}
	json_object_set_new(o, "name", admin_str(h->name));
	json_object_set_new(
	    o, "address", h->address != 0 ? json_string(ip4_format(ip, h->address)) : json_null());
	json_object_set_new(o, "profile", admin_str(h->profile));
	json_object_set_new(o, "cmdline", admin_str(h->cmdline));
	/* The install life cycle (boot/states.h): null for a host without one. */
	enum boot_state st =
	    h->has_mac ? boot_states_effective(d->states, d->conf, h->mac) : BOOT_STATE_NONE;
	json_object_set_new(o, "install",
			    st == BOOT_STATE_INSTALL	 ? json_string("install")
			    : st == BOOT_STATE_INSTALLED ? json_string("installed")
							 : json_null());
	admin_source(o, d->snap, CONF_ENTRY_HOST, h->has_mac ? mac : "", h->line);
	return o;
}

static json_t *admin_profile(const struct pxed *d, const struct conf_profile *p)
{
	json_t *o = json_object(), *initrds = json_array(), *programs = json_object();

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "kernel", admin_str(p->kernel));
	for (size_t i = 0; i < p->n_initrds; i++)
		json_array_append_new(initrds, json_string(p->initrds[i]));
	json_object_set_new(o, "initrds", initrds);
	json_object_set_new(o, "cmdline", admin_str(p->cmdline));
	for (size_t i = 0; i < p->n_programs; i++)
		json_object_set_new(programs, boot_arch_name(p->programs[i].arch),
				    json_string(p->programs[i].file));
	json_object_set_new(o, "programs", programs);
	json_object_set_new(o, "default",
			    json_boolean(d->conf->default_profile != NULL &&
					 strcmp(d->conf->default_profile, p->name) == 0));
	admin_source(o, d->snap, CONF_ENTRY_PROFILE, p->name, p->line);
	return o;
}

/* ---- requests ------------------------------------------------------------- */

static void admin_errors(struct http_admin *a, struct evhttp_request *req, int code,
			 const char *reason, struct conf_errors *errs, const char *fallback)
{
	json_t *o = json_object(), *list = json_array();

	for (size_t i = 0; i < errs->n; i++)
		json_array_append_new(list, json_string(errs->msgs[i]));
	json_object_set_new(o, "error", json_string(errs->n > 0 ? errs->msgs[0] : fallback));
	json_object_set_new(o, "errors", list);
	http_api_reply(a->api, req, code, reason, o);
}

/* What a change's failure answers: the checks' messages, or why nothing could change. */
static void admin_change_failed(struct http_admin *a, struct evhttp_request *req, int rc,
				struct conf_errors *errs)
{
	if (rc == -EINVAL)
		admin_errors(a, req, 400, "Bad Request", errs, "the change does not hold together");
	else if (rc == -ENOTSUP)
		http_api_reply_error(a->api, req, 409, "Conflict",
				     "pxed was started without a config file: nothing to change "
				     "(start it with pxed serve --config)");
	else if (rc == -ENOMEM)
		http_api_reply_error(a->api, req, 503, "Service Unavailable",
				     "out of memory: nothing was changed");
	else
		http_api_reply_error(a->api, req, 500, "Internal Server Error",
				     "the store could not be written: nothing was changed");
}

/*
 * The request's body as a JSON object, written again in the config's flow
 * style (", " and ": " so that it is YAML too). NULL after answering 400.
 */
static char *admin_body(struct http_admin *a, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *raw = (const char *)evbuffer_pullup(in, -1);
	json_error_t jerr;
	char why[300];

	json_t *j =
	    len > 0 && raw != NULL ? json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (j == NULL || !json_is_object(j)) {
		if (j == NULL && len > 0)
			snprintf(why, sizeof(why), "the body is not JSON: %s (line %d)", jerr.text,
				 jerr.line);
		else
			snprintf(why, sizeof(why), "the body must be a JSON object");
		json_decref(j);
		http_api_reply_error(a->api, req, 400, "Bad Request", why);
		return NULL;
	}
	char *text = json_dumps(j, JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL)
		http_api_reply_error(a->api, req, 500, "Internal Server Error", "out of memory");
	return text;
}

static void admin_put(struct http_admin *a, struct evhttp_request *req, enum conf_entry_kind kind,
		      const char *name)
{
	struct conf_errors errs = {0};
	char *body = admin_body(a, req);
	int rc;

	if (body == NULL)
		return;
	bool existed = snapshot_entry(a->d->snap, kind, name, NULL) != NULL;
	rc = snapshot_put(a->d, kind, name, body, &errs);
	free(body);
	if (rc < 0) {
		admin_change_failed(a, req, rc, &errs);
	} else {
		metric_inc(&a->d->metrics, METRIC_INVENTORY_CHANGES);
		json_t *o;
		if (kind == CONF_ENTRY_HOST) {
			uint8_t mac[6];
			mac_parse(name, mac);
			o = admin_host(a->d, conf_find_host(a->d->conf, mac));
		} else {
			o = admin_profile(a->d, conf_find_profile(a->d->conf, name));
		}
		http_api_reply(a->api, req, existed ? 200 : 201, existed ? "OK" : "Created", o);
	}
	conf_errors_free(&errs);
}

/* Where the file declares what the API cannot delete: "pxed.yaml:12". */
static int admin_declared_line(const struct conf *c, enum conf_entry_kind kind, const char *name)
{
	if (kind == CONF_ENTRY_PROFILE) {
		const struct conf_profile *p = conf_find_profile(c, name);
		return p != NULL ? p->line : 0;
	}
	uint8_t mac[6];
	const struct conf_host *h = mac_parse(name, mac) == 0 ? conf_find_host(c, mac) : NULL;
	return h != NULL ? h->line : 0;
}

static void admin_delete(struct http_admin *a, struct evhttp_request *req,
			 enum conf_entry_kind kind, const char *name)
{
	struct conf_errors errs = {0};
	int rc = snapshot_delete(a->d, kind, name, &errs);
	char why[PATH_MAX + 128];

	if (rc == 0) {
		metric_inc(&a->d->metrics, METRIC_INVENTORY_CHANGES);
		evhttp_send_reply(req, 204, "No Content", NULL);
	} else if (rc == -ENOENT) {
		int line = admin_declared_line(a->d->conf, kind, name);
		if (line > 0) {
			snprintf(why, sizeof(why), "declared in %s:%d: change it there",
				 a->d->conf->path != NULL ? a->d->conf->path : "the config", line);
			http_api_reply_error(a->api, req, 409, "Conflict", why);
		} else {
			http_api_reply_error(a->api, req, 404, "Not Found", "no such entry");
		}
	} else {
		admin_change_failed(a, req, rc, &errs);
	}
	conf_errors_free(&errs);
}

static void admin_get_one(struct http_admin *a, struct evhttp_request *req,
			  enum conf_entry_kind kind, const char *name)
{
	const struct conf *c = a->d->conf;
	json_t *o = NULL;
	uint8_t mac[6];

	if (kind == CONF_ENTRY_PROFILE) {
		const struct conf_profile *p = conf_find_profile(c, name);
		o = p != NULL ? admin_profile(a->d, p) : NULL;
	} else if (mac_parse(name, mac) == 0) {
		const struct conf_host *h = conf_find_host(c, mac);
		o = h != NULL ? admin_host(a->d, h) : NULL;
	}
	if (o == NULL)
		http_api_reply_error(a->api, req, 404, "Not Found", "no such entry");
	else
		http_api_reply(a->api, req, 200, "OK", o);
}

/* An API entry the running configuration leaves out: its name, body and "used": false. */
static void admin_unused(const char *name, const char *body, int64_t updated, void *arg)
{
	json_t *list = arg;
	json_t *o = json_object();

	json_object_set_new(o, strchr(name, ':') != NULL ? "mac" : "name", json_string(name));
	json_object_set_new(o, "source", json_string("api"));
	json_object_set_new(o, "used", json_false());
	json_object_set_new(o, "updated", http_api_time(updated * 1000000));
	json_object_set_new(o, "spec", json_loads(body, 0, NULL));
	json_array_append_new(list, o);
}

static void admin_list(struct http_admin *a, struct evhttp_request *req, enum conf_entry_kind kind)
{
	const struct conf *c = a->d->conf;
	json_t *list = json_array();

	if (kind == CONF_ENTRY_PROFILE)
		for (size_t i = 0; i < c->n_profiles; i++)
			json_array_append_new(list, admin_profile(a->d, &c->profiles[i]));
	else
		for (size_t i = 0; i < c->n_hosts; i++)
			json_array_append_new(list, admin_host(a->d, &c->hosts[i]));
	snapshot_each_unused(a->d->snap, kind, admin_unused, list);
	http_api_reply(a->api, req, 200, "OK",
		       json_pack("{s:o}", kind == CONF_ENTRY_PROFILE ? "profiles" : "hosts", list));
}

static void admin_reload(struct http_admin *a, struct evhttp_request *req)
{
	struct conf_errors errs = {0};
	int rc = snapshot_reload(a->d, &errs);

	metric_inc(&a->d->metrics, rc == 0 ? METRIC_RELOAD_DONE : METRIC_RELOAD_REFUSED);
	for (size_t i = 0; i < errs.n; i++)
		log_err("api", "reload refused: %s", errs.msgs[i]);
	if (rc == 0)
		http_api_reply(a->api, req, 200, "OK", json_pack("{s:b}", "reloaded", 1));
	else
		admin_change_failed(a, req, rc, &errs);
	conf_errors_free(&errs);
}

/*
 * The name after "/api/v1/hosts/" or "/api/v1/profiles/", canonical (a
 * MAC in lower case), or false after answering 400.
 */
static bool admin_name(struct http_admin *a, struct evhttp_request *req, enum conf_entry_kind kind,
		       const char *s, char *out, size_t cap)
{
	uint8_t mac[6];

	if (kind == CONF_ENTRY_HOST) {
		if (mac_parse(s, mac) == 0) {
			mac_format(out, mac);
			return true;
		}
		http_api_reply_error(a->api, req, 400, "Bad Request",
				     "not a MAC address like 52:54:00:12:34:56");
		return false;
	}
	size_t n = strlen(s);
	bool ok = n > 0 && n <= 64 && n < cap && s[0] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		     (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-';
	if (!ok) {
		http_api_reply_error(a->api, req, 400, "Bad Request",
				     "a profile name has letters, digits, '.', '_' and '-' (at "
				     "most 64, not starting with '.')");
		return false;
	}
	memcpy(out, s, n + 1);
	return true;
}

/* /api/v1/hosts[/MAC] and /api/v1/profiles[/NAME]; false when path is neither. */
static bool admin_inventory(struct http_admin *a, struct evhttp_request *req, const char *path)
{
	static const char hosts[] = "/api/v1/hosts", profiles[] = "/api/v1/profiles";
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	enum conf_entry_kind kind;
	const char *rest;
	char name[72];

	if (strncmp(path, hosts, sizeof(hosts) - 1) == 0) {
		kind = CONF_ENTRY_HOST;
		rest = path + sizeof(hosts) - 1;
	} else if (strncmp(path, profiles, sizeof(profiles) - 1) == 0) {
		kind = CONF_ENTRY_PROFILE;
		rest = path + sizeof(profiles) - 1;
	} else {
		return false;
	}
	if (rest[0] == '\0') {
		if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
			admin_list(a, req, kind);
		else
			http_api_reply_error(a->api, req, 405, "Method Not Allowed",
					     "GET the list; PUT or DELETE one entry by its name");
		return true;
	}
	if (rest[0] != '/')
		return false;
	/* /api/v1/hosts/MAC/...: the life cycle's (http/provision.h). */
	if (kind == CONF_ENTRY_HOST && strchr(rest + 1, '/') != NULL)
		return false;
	if (!admin_name(a, req, kind, rest + 1, name, sizeof(name)))
		return true;
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		admin_get_one(a, req, kind, name);
	else if (cmd == EVHTTP_REQ_PUT)
		admin_put(a, req, kind, name);
	else if (cmd == EVHTTP_REQ_DELETE)
		admin_delete(a, req, kind, name);
	else
		http_api_reply_error(a->api, req, 405, "Method Not Allowed",
				     "GET, PUT or DELETE one entry");
	return true;
}

static void admin_on_request(struct evhttp_request *req, void *arg)
{
	struct http_admin *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	size_t plen = 0;

	http_conns_request(a->conns, req);
	char *path = raw != NULL ? evhttp_uridecode(raw, 0, &plen) : NULL;
	if (path == NULL || strlen(path) != plen || path[0] != '/') {
		free(path);
		http_api_reply_error(a->api, req, 400, "Bad Request", "malformed path");
		return;
	}
	if (!admin_authorized(a, req)) {
		free(path);
		return;
	}
	if (admin_inventory(a, req, path)) {
		metric_inc(&a->d->metrics, METRIC_HTTP_API_REQUESTS);
	} else if (strcmp(path, "/api/v1/reload") == 0) {
		metric_inc(&a->d->metrics, METRIC_HTTP_API_REQUESTS);
		if (cmd == EVHTTP_REQ_POST)
			admin_reload(a, req);
		else
			http_api_reply_error(a->api, req, 405, "Method Not Allowed",
					     "POST to reload");
	} else if (provision_api_handle(a->d, req, path) == 1) {
		/* the life cycle's: marking a host for install */
	} else if (strncmp(path, "/api/", 5) == 0) {
		http_api_handle(a->api, req, path);
	} else {
		http_api_reply_error(a->api, req, 404, "Not Found",
				     "no such API endpoint (see docs/api.md)");
	}
	free(path);
}

static int admin_read_token(struct http_admin *a, const char *file)
{
	char why[PATH_MAX + 128];
	int rc = http_admin_token_read(file, a->token, sizeof(a->token), why, sizeof(why));

	if (rc < 0) {
		log_err("api", "%s", why);
		return rc;
	}
	a->token_len = strlen(a->token);
	return 0;
}

int http_admin_start(struct pxed *d, struct http_admin **out)
{
	const struct conf *c = d->conf;
	struct http_admin *a;
	char ip[16];
	int rc;

	*out = NULL;
	if (c->api_token_file == NULL)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->d = d;
	if ((rc = admin_read_token(a, c->api_token_file)) < 0) {
		http_admin_stop(a);
		return rc;
	}
	a->http = evhttp_new(d->base);
	if (a->http == NULL || http_api_new(d, &a->api) < 0 ||
	    http_conns_new(d, a->http, &a->conns) < 0) {
		http_admin_stop(a);
		return -ENOMEM;
	}
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, CONF_ENTRY_MAX);
	evhttp_set_timeout(a->http, http_conn_timeout_s(d->conf));
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(a->http, admin_on_request, a);
	if (evhttp_bind_socket(a->http, ip4_format(ip, c->api_address), c->api_port) != 0) {
		rc = errno ? -errno : -EADDRINUSE;
		http_admin_stop(a);
		return rc;
	}
	log_info("api", "inventory API on http://%s:%u/api/v1/", ip, c->api_port);
	*out = a;
	return 0;
}

void http_admin_stop(struct http_admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	http_api_free(a->api);
	http_conns_free(a->conns);
	explicit_bzero(a->token, sizeof(a->token));
	free(a);
}
