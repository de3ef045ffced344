#include "obs/timeline.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/policy.h"
#include "core/util.h"
#include "store/store.h"

#include "obs/obs.h"

#define TIMELINE_MAX_EVENTS 2000

struct timeline {
	struct store_event *ev;
	size_t n, cap;
};

static int timeline_collect(const struct store_event *e, void *arg)
{
	struct timeline *t = arg;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct store_event *p = realloc(t->ev, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		t->ev = p;
		t->cap = cap;
	}
	t->ev[t->n++] = *e;
	return 0;
}

static bool timeline_is_dhcp(const struct store_event *e)
{
	return strcmp(e->proto, "dhcp") == 0 || strcmp(e->proto, "proxy") == 0 ||
	       strcmp(e->proto, "pxe4011") == 0;
}

static bool timeline_is_refusal(const struct store_event *e)
{
	return strcmp(e->kind, "refused") == 0;
}

static void timeline_json_text(json_t *o, const char *key, const char *v)
{
	if (v[0] != '\0')
		json_object_set_new(o, key, json_string(v));
}

json_t *timeline_event_json(const struct store_event *e)
{
	char mac[18], ip[16];
	json_t *o = json_pack(
	    "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "ts_us", (json_int_t)e->ts_us,
	    "session", (json_int_t)e->session, "mac", e->has_mac ? mac_format(mac, e->mac) : "",
	    "ip", ip4_format(ip, e->ip), "proto", e->proto, "kind", e->kind, "detail", e->detail,
	    "bytes", (json_int_t)e->bytes, "duration_us", (json_int_t)e->duration_us, "ok", e->ok);
	if (o == NULL)
		return NULL;
	if (e->expected)
		json_object_set_new(o, "expected", json_true());
	if (e->has_arch) {
		json_object_set_new(o, "arch", json_integer(e->arch));
		json_object_set_new(o, "arch_name", json_string(boot_arch_name(e->arch)));
	}
	timeline_json_text(o, "vendor_class", e->vendor);
	timeline_json_text(o, "user_class", e->user_class);
	if (e->relay != 0)
		json_object_set_new(o, "relay", json_string(ip4_format(ip, e->relay)));
	timeline_json_text(o, "interface", e->iface);
	if (e->boot_item >= 0)
		json_object_set_new(o, "boot_item", json_integer(e->boot_item));
	timeline_json_text(o, "decision", e->decision);
	timeline_json_text(o, "source", e->source);
	timeline_json_text(o, "profile", e->profile);
	timeline_json_text(o, "file", e->file);
	if (e->block != 0)
		json_object_set_new(o, "block", json_integer((json_int_t)e->block));
	if (e->retries != 0)
		json_object_set_new(o, "retries", json_integer(e->retries));
	return o;
}

static void timeline_print_json(const struct timeline *t)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(arr, timeline_event_json(&t->ev[i]));
	char *s = json_dumps(arr, JSON_INDENT(2));
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(arr);
}

/* The step a transfer is, from the first word of its detail ("kernel ..."). */
static void timeline_step_name(const struct store_event *e, char *out, size_t cap)
{
	size_t n = strcspn(e->detail, " ");
	if (n == 0 || n >= cap)
		n = 0;
	memcpy(out, e->detail, n);
	out[n] = '\0';
	if (strcmp(out, "nbp") == 0)
		snprintf(out, cap, "NBP");
	else if (n == 0)
		snprintf(out, cap, "%.15s", e->kind);
}

static void timeline_print_dhcp_step(const struct timeline *t, size_t first, size_t last,
				     int64_t t0)
{
	const struct store_event *a = &t->ev[first], *z = &t->ev[last];
	char ip[16];
	printf("  %-8s +%7.2fs %7.2fs  %s %s %s: %s\n", "DHCP", (a->ts_us - t0) / 1e6,
	       (z->ts_us - a->ts_us) / 1e6, z->proto, z->kind,
	       z->ip != 0 ? ip4_format(ip, z->ip) : "-", z->detail);
}

/* A transfer of the same session after event j went through: the client recovered. */
static bool timeline_recovered(const struct timeline *t, size_t j)
{
	for (size_t k = j + 1; k < t->n && t->ev[k].session == t->ev[j].session; k++)
		if (strcmp(t->ev[k].kind, "transfer") == 0 && t->ev[k].ok)
			return true;
	return false;
}

/*
 * Refusals (files that were not there) in a row are one line: how many,
 * and the names, newest first. Without --all, refusals the client got past
 * (a file it fetched came after them) are left out: pxelinux probes a
 * dozen names before it finds its configuration, and only a miss after the
 * last fetch can be what stopped a boot.
 */
static size_t timeline_print_refusals(const struct timeline *t, size_t i, int64_t t0, bool all)
{
	size_t j = i, n;
	char names[200] = "";
	size_t used = 0;

	while (j + 1 < t->n && timeline_is_refusal(&t->ev[j + 1]) &&
	       t->ev[j + 1].session == t->ev[i].session)
		j++;
	if (!all && timeline_recovered(t, j))
		return j;
	n = j - i + 1;
	/* The names, newest first, as many as fit. */
	for (size_t k = j + 1; k-- > i && used + 4 < sizeof(names);) {
		const char *f = t->ev[k].file[0] ? t->ev[k].file : t->ev[k].detail;
		int w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", f);
		if (w < 0 || used + (size_t)w >= sizeof(names)) {
			snprintf(names + used, sizeof(names) - used, "%s...", used ? ", " : "");
			break;
		}
		used += (size_t)w;
	}
	const char *why = strstr(t->ev[j].detail, ": ");
	printf("  %-8s +%7.2fs %7.2fs  %zu %s not served over %s (newest first): %s%s%s%s\n",
	       "refused", (t->ev[i].ts_us - t0) / 1e6, (t->ev[j].ts_us - t->ev[i].ts_us) / 1e6, n,
	       n == 1 ? "file" : "files", t->ev[j].proto, names, why != NULL ? " (" : "",
	       why != NULL ? why + 2 : "", why != NULL ? ")" : "");
	return j;
}

/* "boot of MAC, when": a session's first line. */
static void timeline_print_header(const struct store_event *e)
{
	time_t secs = (time_t)(e->ts_us / 1000000);
	char when[40], mac[18];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("boot of %s, %s\n", mac_format(mac, e->mac), when);
	printf("  %-8s %9s %8s  %s\n", "step", "start", "took", "detail");
}

static void timeline_print_steps(const struct timeline *t, bool all)
{
	int64_t t0 = t->ev[0].ts_us;

	for (size_t i = 0; i < t->n; i++) {
		const struct store_event *e = &t->ev[i];
		bool new_session =
		    i == 0 || e->session != t->ev[i - 1].session ||
		    (e->session == 0 && e->ts_us - t->ev[i - 1].ts_us > OBS_SESSION_GAP_US);
		if (new_session) {
			/* --all: each session under its own heading, its times from its start. */
			timeline_print_header(e);
			t0 = e->ts_us;
		}
		if (timeline_is_dhcp(e)) {
			size_t j = i;
			while (j + 1 < t->n && timeline_is_dhcp(&t->ev[j + 1]) &&
			       t->ev[j + 1].session == e->session)
				j++;
			timeline_print_dhcp_step(t, i, j, t0);
			i = j;
			continue;
		}
		if (timeline_is_refusal(e)) {
			i = timeline_print_refusals(t, i, t0, all);
			continue;
		}
		char step[16];
		int64_t begin = e->ts_us - (int64_t)e->duration_us;
		timeline_step_name(e, step, sizeof(step));
		/* The install life cycle's steps (http/provision.c) move no bytes. */
		if (strcmp(e->proto, "install") == 0) {
			printf("  %-8s +%7.2fs %8s  %s%s\n", step, (begin - t0) / 1e6, "",
			       e->detail, e->ok ? "" : " REFUSED");
			continue;
		}
		printf("  %-8s +%7.2fs %7.2fs  %s over %s, %llu bytes%s\n", step,
		       (begin - t0) / 1e6, e->duration_us / 1e6, e->detail, e->proto,
		       (unsigned long long)e->bytes,
		       e->ok	     ? ""
		       : e->expected ? " (ended by the client)"
				     : " FAILED");
	}
}

int timeline_print(const char *state_dir, const uint8_t mac[6], bool json, bool all)
{
	struct timeline t = {0};
	struct store *st;
	char path[PATH_MAX], macs[18];
	int rc;

	snprintf(path, sizeof(path), "%s/pxed.db", state_dir);
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "pxed: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (store_open(state_dir, &st) < 0) {
		fprintf(stderr, "pxed: cannot open the store in %s\n", state_dir);
		return 1;
	}
	if (all)
		rc = store_event_each(st, mac, TIMELINE_MAX_EVENTS, timeline_collect, &t);
	else
		rc = store_event_last_session(st, mac, TIMELINE_MAX_EVENTS, OBS_SESSION_GAP_US,
					      timeline_collect, &t);
	store_close(st);
	if (rc < 0) {
		free(t.ev);
		fprintf(stderr, "pxed: cannot read events\n");
		return 1;
	}
	if (json) {
		timeline_print_json(&t);
	} else if (t.n == 0) {
		printf("no boot recorded for %s\n", mac_format(macs, mac));
	} else {
		timeline_print_steps(&t, all);
	}
	free(t.ev);
	return 0;
}
