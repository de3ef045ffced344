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
#include "http/api.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/discovered.h"

struct disc_list {
	const struct conf *conf; /* this request's snapshot: for the host lookup only */
	json_t *machines;
};

/* The store keeps seconds; 0 is "never". */
static json_t *disc_time(int64_t s)
{
	return http_api_time(s > 0 ? s * 1000000 : -1);
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
	json_object_set_new(o, "ip", http_api_ip(r->ip));
	json_object_set_new(o, "arch", r->has_arch ? json_integer(r->arch) : json_null());
	json_object_set_new(o, "arch_name",
			    r->has_arch ? json_string(boot_arch_name(r->arch)) : json_null());
	json_object_set_new(o, "vendor_class", disc_str(r->vendor));
	json_object_set_new(o, "user_class", disc_str(r->user_class));
	json_object_set_new(o, "uuid", disc_str(r->uuid));
	json_object_set_new(o, "interface", disc_str(r->iface));
	json_object_set_new(o, "relay", http_api_ip(r->relay));
	json_array_append_new(l->machines, o);
	return 0;
}

int discovered_api_handle(struct http_api *a, struct evhttp_request *req, const char *path)
{
	struct pxed *d = http_api_daemon(a);

	if (strcmp(path, "/api/v1/discovered") != 0)
		return 0;
	struct disc_list l = {.conf = d->conf, .machines = json_array()};
	if (l.machines == NULL ||
	    store_discovered_each(d->store, DISCOVERED_API_MAX, disc_add, &l) < 0) {
		json_decref(l.machines);
		http_api_reply_error(a, req, 503, "Service Unavailable",
				     "the store cannot be read (see the log)");
		return 1;
	}
	http_api_reply(a, req, 200, "OK", json_pack("{s:o}", "machines", l.machines));
	return 1;
}
