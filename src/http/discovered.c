#include "http/discovered.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/discovered.h"

struct disc_list {
	const struct conf *conf; /* this request's snapshot: for the host lookup only */
	json_t *machines;
};

/* RFC 3339, UTC, milliseconds as the API has them (the store keeps seconds): ...:00.000Z. */
static json_t *disc_time(int64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;
	char buf[32];

	if (s <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		return json_null();
	return json_string(buf);
}

static json_t *disc_ip(uint32_t ip)
{
	char s[16];
	return ip != 0 ? json_string(ip4_format(s, ip)) : json_null();
}

/* Stored text is escaped ASCII already; "" is "not given". */
static json_t *disc_str(const char *s)
{
	json_t *j = s[0] != '\0' ? json_string(s) : json_null();
	return j != NULL ? j : json_null();
}

static int disc_add(const struct store_discovered *r, void *arg)
{
	struct disc_list *l = arg;
	json_t *o;
	char mac[18];

	/* Given a host entry since (config or API): no longer unknown, no longer listed. */
	if (conf_find_host(l->conf, r->mac) != NULL)
		return 0;
	o = json_object();
	json_object_set_new(o, "mac", json_string(mac_format(mac, r->mac)));
	json_object_set_new(o, "first_seen", disc_time(r->first_seen));
	json_object_set_new(o, "last_seen", disc_time(r->last_seen));
	json_object_set_new(o, "ip", disc_ip(r->ip));
	json_object_set_new(o, "arch", r->has_arch ? json_integer(r->arch) : json_null());
	json_object_set_new(o, "arch_name",
			    r->has_arch ? json_string(boot_arch_name(r->arch)) : json_null());
	json_object_set_new(o, "vendor_class", disc_str(r->vendor));
	json_object_set_new(o, "user_class", disc_str(r->user_class));
	json_object_set_new(o, "uuid", disc_str(r->uuid));
	json_object_set_new(o, "interface", disc_str(r->iface));
	json_object_set_new(o, "relay", disc_ip(r->relay));
	json_array_append_new(l->machines, o);
	return 0;
}

static void disc_send(struct pxed *d, struct evhttp_request *req, int code, const char *reason,
		      json_t *body)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	json_decref(body);
	if (text == NULL) {
		code = 500;
		reason = "Internal Server Error";
	}
	if (code >= 400)
		metric_inc(&d->metrics, METRIC_HTTP_ERRORS);
	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (b != NULL) {
		const char *t = text != NULL ? text : "{\"error\":\"out of memory\"}";
		evbuffer_add(b, t, strlen(t));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
	free(text);
}

int discovered_api_handle(struct pxed *d, struct evhttp_request *req, const char *path)
{
	struct disc_list l = {.conf = d->conf, .machines = json_array()};

	if (strcmp(path, "/api/v1/discovered") != 0)
		return 0;
	if (l.machines == NULL ||
	    store_discovered_each(d->store, DISCOVERED_API_MAX, disc_add, &l) < 0) {
		json_decref(l.machines);
		disc_send(d, req, 503, "Service Unavailable",
			  json_pack("{s:s}", "error", "the store cannot be read (see the log)"));
		return 1;
	}
	disc_send(d, req, 200, "OK", json_pack("{s:o}", "machines", l.machines));
	return 1;
}
