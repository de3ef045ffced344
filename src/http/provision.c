#include "http/provision.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "boot/states.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/util.h"
#include "http/files.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/store.h"

static const char provision_callback_prefix[] = "/callback/";
static const char provision_api_prefix[] = "/api/v1/hosts/";

/* 16 bytes from the kernel's generator, in hex. */
static int provision_token(char out[BOOT_TOKEN_LEN + 1])
{
	uint8_t r[BOOT_TOKEN_LEN / 2];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/*
 * One step of the machine's timeline, of protocol "install" (a life-cycle
 * step, not a transfer): install-marked, install-done, callback-refused.
 */
static void provision_event(struct pxed *d, const uint8_t mac[6], uint32_t ip, const char *kind,
			    const char *detail, bool ok)
{
	if (d->obs != NULL)
		obs_event(d->obs, &(struct obs_event){.mac = mac,
						      .ip = ip,
						      .proto = "install",
						      .kind = kind,
						      .detail = detail,
						      .ok = ok});
}

/* The store first: a state is answered only once it would survive a restart. */
static int provision_store(struct pxed *d, const struct boot_state_entry *e)
{
	return store_host_state_put(d->store, e->mac, boot_state_name(e->state), e->token,
				    e->updated);
}

static int provision_load_row(const uint8_t mac[6], const char *state, const char *token,
			      int64_t updated, void *arg)
{
	struct boot_states *s = arg;
	enum boot_state st;
	char m[18];

	if (boot_state_parse(state, &st) < 0 || boot_states_set(s, mac, st, token, updated) < 0)
		log_warn("provision", "%s: stored state '%.16s' ignored", mac_format(m, mac),
			 state);
	return 0;
}

int provision_mark(struct pxed *d, const uint8_t mac[6])
{
	char token[BOOT_TOKEN_LEN + 1], m[18];
	const struct conf_host *h = conf_find_host(d->conf, mac);
	int rc;

	if (h == NULL || !h->has_mac)
		return -ENOENT;
	if ((rc = provision_token(token)) < 0)
		return rc;
	struct boot_state_entry e = {.state = BOOT_STATE_INSTALL, .updated = time(NULL)};
	memcpy(e.mac, mac, 6);
	snprintf(e.token, sizeof(e.token), "%s", token);
	/* The store first: a failed write leaves the host as it was, in memory too. */
	if ((rc = provision_store(d, &e)) < 0 ||
	    (rc = boot_states_set(d->states, mac, e.state, e.token, e.updated)) < 0)
		return rc;
	metric_inc(&d->metrics, METRIC_INSTALL_MARKED);
	log_info("provision", "%s: marked for install", mac_format(m, mac));
	provision_event(d, mac, 0, "install-marked", "marked for install: boots its installer",
			true);
	return 0;
}

int provision_mark_new(struct pxed *d)
{
	const struct conf *c = d->conf;
	int rc;

	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct conf_host *h = &c->hosts[i];
		if (!h->install || !h->has_mac || boot_states_find(d->states, h->mac) != NULL)
			continue;
		if ((rc = provision_mark(d, h->mac)) < 0)
			return rc;
	}
	return 0;
}

int provision_load(struct pxed *d)
{
	int rc;

	if (d->states == NULL && (rc = boot_states_new(BOOT_STATES_MAX, &d->states)) < 0)
		return rc;
	if ((rc = store_host_state_each(d->store, provision_load_row, d->states)) < 0 ||
	    (rc = provision_mark_new(d)) < 0)
		return rc;
	if (boot_states_count(d->states) > 0)
		log_info("provision", "%zu hosts with an install life cycle",
			 boot_states_count(d->states));
	return 0;
}

void provision_free(struct pxed *d)
{
	boot_states_free(d->states);
	d->states = NULL;
}

/* A one-line answer: text for the installer, JSON for the API (text starts with '{'). */
static void provision_reply(struct pxed *d, struct evhttp_request *req, int code,
			    const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	if (code >= 400)
		metric_inc(&d->metrics, METRIC_HTTP_ERRORS);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  text[0] == '{' ? "application/json; charset=utf-8"
					 : "text/plain; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static uint32_t provision_peer(struct evhttp_request *req)
{
	char *host = NULL;
	ev_uint16_t port;
	uint32_t ip = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &host, &port);
	if (host != NULL && ip4_parse(host, &ip) < 0)
		ip = 0;
	return ip;
}

/*
 * "<mac>/<token>": the MAC (dashes or colons) and the token. -EINVAL for
 * anything else: a path that is not exactly this is not a callback.
 */
static int provision_parse(const char *rest, uint8_t mac[6], char token[BOOT_TOKEN_LEN + 1])
{
	char m[18];
	if (strlen(rest) != 17 + 1 + BOOT_TOKEN_LEN || rest[17] != '/')
		return -EINVAL;
	memcpy(m, rest, 17);
	m[17] = '\0';
	memcpy(token, rest + 18, BOOT_TOKEN_LEN + 1);
	return mac_parse(m, mac) < 0 || !boot_token_valid(token) ? -EINVAL : 0;
}

/* The callback's answer, once the request is known to be one: stored, logged, counted. */
static void provision_callback(struct pxed *d, struct evhttp_request *req, const uint8_t mac[6],
			       const char *token)
{
	uint32_t ip = provision_peer(req);
	char m[18];
	enum boot_callback_result r = boot_states_callback(d->states, mac, token, time(NULL));

	mac_format(m, mac);
	if (r == BOOT_CALLBACK_UNKNOWN) {
		/* Any MAC may be named: no event, or anyone could fill the store with timelines. */
		metric_inc(&d->metrics, METRIC_INSTALL_CALLBACK_REFUSED);
		log_debug("provision", "%s: callback refused: no install life cycle", m);
		provision_reply(d, req, 404, "Not Found", "refused: no install life cycle");
		return;
	}
	if (r == BOOT_CALLBACK_REFUSED) {
		metric_inc(&d->metrics, METRIC_INSTALL_CALLBACK_REFUSED);
		log_warn("provision", "%s: install callback refused: wrong or spent token", m);
		provision_event(d, mac, ip, "callback-refused",
				"callback refused: wrong or spent token", false);
		provision_reply(d, req, 403, "Forbidden", "refused: wrong or spent token");
		return;
	}
	if (provision_store(d, boot_states_find(d->states, mac)) < 0) {
		/* Not durable: back to install with the same token, so the installer may retry. */
		boot_states_set(d->states, mac, BOOT_STATE_INSTALL, token, time(NULL));
		provision_reply(d, req, 500, "Internal Server Error", "the store failed");
		return;
	}
	metric_inc(&d->metrics, METRIC_INSTALL_CALLBACK_DONE);
	log_info("provision", "%s: install done: boots from its local disk from now on", m);
	provision_event(d, mac, ip, "install-done",
			"install done: boots from its local disk from now on", true);
	provision_reply(d, req, 200, "OK", "installed");
}

int provision_callback_handle(struct pxed *d, struct evhttp_request *req, const char *path)
{
	uint8_t mac[6];
	char token[BOOT_TOKEN_LEN + 1];

	if (strncmp(path, provision_callback_prefix, sizeof(provision_callback_prefix) - 1) != 0)
		return 0;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		provision_reply(d, req, 405, "Method Not Allowed", "a callback is a POST");
		return 1;
	}
	if (provision_parse(path + sizeof(provision_callback_prefix) - 1, mac, token) < 0) {
		metric_inc(&d->metrics, METRIC_INSTALL_CALLBACK_REFUSED);
		provision_reply(d, req, 403, "Forbidden", "refused: not /callback/MAC/TOKEN");
		return 1;
	}
	provision_callback(d, req, mac, token);
	return 1;
}

int provision_api_handle(struct pxed *d, struct evhttp_request *req, const char *path)
{
	const char *rest = path + sizeof(provision_api_prefix) - 1;
	char m[18];
	uint8_t mac[6];

	if (strncmp(path, provision_api_prefix, sizeof(provision_api_prefix) - 1) != 0 ||
	    strlen(rest) != 17 + 8 || strcmp(rest + 17, "/install") != 0)
		return 0;
	memcpy(m, rest, 17);
	m[17] = '\0';
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		provision_reply(d, req, 405, "Method Not Allowed", "{\"error\":\"POST only\"}");
		return 1;
	}
	if (mac_parse(m, mac) < 0) {
		provision_reply(d, req, 400, "Bad Request", "{\"error\":\"not a MAC address\"}");
		return 1;
	}
	int rc = provision_mark(d, mac);
	if (rc == -ENOENT)
		provision_reply(d, req, 404, "Not Found", "{\"error\":\"no such host\"}");
	else if (rc < 0)
		provision_reply(d, req, 500, "Internal Server Error",
				"{\"error\":\"the store failed\"}");
	else
		provision_reply(d, req, 200, "OK", "{\"state\":\"install\"}");
	return 1;
}
