/*
 * `pxed explain MAC`: see explain.h. The report is built in four passes
 * over the session's events: the facts, the plans (and the same decision
 * made again with the current config), the steps, and the verdict: where
 * the boot stopped and why. Only the last pass judges; the others copy.
 */
#include "obs/explain.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"
#include "obs/obs.h"

/* A machine heard from this recently may still be booting. */
#define EXPLAIN_RECENT_US (20 * 1000000ll)

static const char *const explain_verdict_names[EXPLAIN_VERDICT_COUNT] = {
    [EXPLAIN_NEVER_SEEN] = "never-seen",
    [EXPLAIN_NOT_BOOT_CLIENT] = "not-a-boot-client",
    [EXPLAIN_OTHER_SERVER] = "other-server",
    [EXPLAIN_OFFER_IGNORED] = "offer-ignored",
    [EXPLAIN_NOT_STORED] = "lease-not-stored", /* the store took no lease: no ACK */
    [EXPLAIN_NO_PLAN] = "no-plan",
    [EXPLAIN_IGNORED] = "ignored",
    [EXPLAIN_MENU_LOCAL] = "menu-local-boot",
    [EXPLAIN_NOT_FETCHED] = "not-fetched",
    [EXPLAIN_FILE_MISSING] = "file-missing",
    [EXPLAIN_TRANSFER_DIED] = "transfer-died",
    [EXPLAIN_NBP_NO_RETURN] = "nbp-no-return",
    [EXPLAIN_NO_KERNEL] = "no-kernel",
    [EXPLAIN_NO_INITRD] = "no-initrd",
    [EXPLAIN_DONE] = "done",
    [EXPLAIN_LOCAL_BOOT] = "local-boot",
};

const char *explain_verdict_name(enum explain_verdict v)
{
	return v < EXPLAIN_VERDICT_COUNT ? explain_verdict_names[v] : "?";
}

/* ---- small text helpers --------------------------------------------------- */

/* Appends to a NUL-terminated buffer, cutting what does not fit. */
static void explain_appendf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void explain_appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	va_list ap;
	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

static void explain_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool explain_is_dhcp(const struct store_event *e)
{
	return strcmp(e->proto, "dhcp") == 0 || strcmp(e->proto, "proxy") == 0 ||
	       strcmp(e->proto, "pxe4011") == 0;
}

static bool explain_is_ipxe(const struct store_event *e)
{
	return strcmp(e->user_class, "iPXE") == 0;
}

static bool explain_is_kind(const struct store_event *e, const char *kind)
{
	return strcmp(e->kind, kind) == 0;
}

/* A DHCP event that carries pxed's decision for a boot client. */
static bool explain_is_decision(const struct store_event *e)
{
	return explain_is_dhcp(e) && e->decision[0] != '\0';
}

static bool explain_is_transfer(const struct store_event *e)
{
	return explain_is_kind(e, "transfer");
}

/*
 * A REQUEST whose ACK pxed withheld: the lease did not reach the store
 * (dhcp/server.c records it so, with "ACK withheld" in its reason).
 */
static bool explain_is_withheld(const struct store_event *e)
{
	return strcmp(e->proto, "dhcp") == 0 && explain_is_kind(e, "request") && !e->ok &&
	       strstr(e->detail, "ACK withheld") != NULL;
}

/*
 * A transfer that failed for real. A client that ends a transfer before
 * any data (EDK2 after its tsize probe) chose to; one that gives up in the
 * middle gave up.
 */
static bool explain_is_failure(const struct store_event *e)
{
	return explain_is_transfer(e) && !e->ok && !(e->expected && e->bytes == 0);
}

/* The unsigned number after key ("size=") in a detail; false when absent. */
static bool explain_detail_num(const char *detail, const char *key, uint64_t *v)
{
	const char *p = strstr(detail, key);
	char *end;
	if (p == NULL)
		return false;
	p += strlen(key);
	*v = strtoull(p, &end, 10);
	return end != p;
}

/* The text after " reason=" in a DHCP event's detail. */
static void explain_detail_reason(const struct store_event *e, char *out, size_t cap)
{
	const char *p = strstr(e->detail, " reason=");
	explain_copy(out, cap, p != NULL ? p + 8 : "");
}

/* The step of a transfer: the first word of its detail ("nbp snponly.efi size=..."). */
static void explain_transfer_what(const struct store_event *e, char *out, size_t cap)
{
	size_t n = strcspn(e->detail, " ");
	if (n == 0 || n >= cap)
		n = 0;
	memcpy(out, e->detail, n);
	out[n] = '\0';
	if (n == 0)
		explain_copy(out, cap, "file");
}

/* The path a transfer or refusal was for (older events: the detail's second word). */
static void explain_transfer_file(const struct store_event *e, char *out, size_t cap)
{
	if (e->file[0] != '\0') {
		explain_copy(out, cap, e->file[0] == '/' ? e->file + 1 : e->file);
		return;
	}
	const char *p = strchr(e->detail, ' ');
	p = p != NULL ? p + 1 : e->detail;
	if (*p == '/')
		p++; /* HTTP paths: the same names as TFTP's */
	size_t n = strcspn(p, " :");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The path part of a boot file or URL ("http://a/b/c" -> "b/c"). */
static const char *explain_url_path(const char *s)
{
	if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
		const char *p = strchr(strstr(s, "//") + 2, '/');
		return p != NULL ? p + 1 : "";
	}
	return s[0] == '/' ? s + 1 : s;
}

static bool explain_same_file(const char *file, const char *decision)
{
	return decision[0] != '\0' &&
	       strcmp(explain_url_path(file), explain_url_path(decision)) == 0;
}

/* ---- facts ------------------------------------------------------------------ */

/* The firmware's facts: its first decision event, else any, else the newest DHCP facts. */
static const struct store_event *explain_facts_event(const struct explain_input *in)
{
	const struct store_event *any = NULL;
	for (size_t i = 0; i < in->n; i++) {
		const struct store_event *e = &in->ev[i];
		if (!explain_is_dhcp(e) || explain_is_kind(e, "chose-other"))
			continue;
		if (explain_is_decision(e) && !explain_is_ipxe(e))
			return e;
		if (any == NULL || (!explain_is_decision(any) && explain_is_decision(e)))
			any = e;
	}
	return any != NULL ? any : in->last_dhcp;
}

static void explain_facts(const struct explain_input *in, struct explain_facts *f)
{
	const struct store_event *e = explain_facts_event(in);

	memset(f, 0, sizeof(*f));
	if (e != NULL) {
		f->known = true;
		f->has_arch = e->has_arch;
		f->arch = e->arch;
		explain_copy(f->vendor, sizeof(f->vendor), e->vendor);
		explain_copy(f->user_class, sizeof(f->user_class), e->user_class);
		f->relay = e->relay;
		explain_copy(f->iface, sizeof(f->iface), e->iface);
	}
	/* The address: the newest one an ACK or a transfer showed, else pxed's newest offer. */
	for (size_t i = in->n; i-- > 0 && (f->address == 0 || f->address_offered);) {
		const struct store_event *x = &in->ev[i];
		bool used = explain_is_kind(x, "ack") || explain_is_transfer(x) ||
			    explain_is_kind(x, "refused");
		if (x->ip != 0 && used) {
			f->address = x->ip;
			f->address_offered = false;
		} else if (x->ip != 0 && f->address == 0 && explain_is_kind(x, "offer")) {
			f->address = x->ip;
			f->address_offered = true;
		}
	}
}

/* ---- plans ------------------------------------------------------------------ */

/* The facts an event recorded, as boot_decide() takes them. */
static void explain_event_facts(const struct store_event *e, const uint8_t mac[6],
				struct boot_facts *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->mac, mac, 6);
	f->has_arch = e->has_arch;
	f->arch = e->arch;
	f->vendor_class_len = strlen(e->vendor);
	memcpy(f->vendor_class, e->vendor, f->vendor_class_len);
	f->user_class_len = strlen(e->user_class);
	memcpy(f->user_class, e->user_class, f->user_class_len);
	f->pxe_client = strncmp(e->vendor, "PXEClient", 9) == 0;
	f->http_client = strncmp(e->vendor, "HTTPClient", 10) == 0;
	f->ipxe = explain_is_ipxe(e);
	f->relay = e->relay;
	f->interface = e->iface[0] != '\0' ? e->iface : NULL;
	/* An item outside port 4011 is the one the server remembered for the machine. */
	f->has_boot_item = e->boot_item >= 0;
	f->boot_item_type = e->boot_item >= 0 ? (uint16_t)e->boot_item : 0;
	f->boot_item_remembered = f->has_boot_item && strcmp(e->proto, "pxe4011") != 0;
}

/* The server address in a recorded URL, so the same decision yields the same URL. */
static uint32_t explain_url_server(const char *decision)
{
	char host[16];
	uint32_t ip = 0;
	if (strncmp(decision, "http://", 7) != 0)
		return 0;
	size_t n = strcspn(decision + 7, ":/");
	if (n >= sizeof(host))
		return 0;
	memcpy(host, decision + 7, n);
	host[n] = '\0';
	return ip4_parse(host, &ip) == 0 ? ip : 0;
}

/* boot_decide() again, on the recorded facts with the current config. */
static void explain_rerun(const struct explain_input *in, const struct store_event *e,
			  struct explain_plan *p)
{
	struct boot_facts f;
	struct boot_plan now;

	explain_event_facts(e, in->mac, &f);
	boot_decide(in->conf, &f, explain_url_server(e->decision), &now);
	p->rerun = true;
	explain_copy(p->now_decision, sizeof(p->now_decision),
		     now.file[0] != '\0'       ? now.file
		     : now.action == BOOT_MENU ? "menu"
					       : "none");
	explain_copy(p->now_reason, sizeof(p->now_reason), now.reason);
	p->same = strcmp(p->now_decision, p->decision) == 0;
}

/* The newest decision of each client (the firmware, then iPXE), in the order they came. */
static void explain_plans(const struct explain_input *in, struct explain_report *r)
{
	const struct store_event *last[2] = {NULL, NULL};

	/* A withheld ACK's reason is the store's failure, not the plan's: another event's first. */
	for (size_t i = 0; i < in->n; i++)
		if (explain_is_decision(&in->ev[i]) &&
		    (!explain_is_withheld(&in->ev[i]) || last[explain_is_ipxe(&in->ev[i])] == NULL))
			last[explain_is_ipxe(&in->ev[i])] = &in->ev[i];
	if (last[0] == NULL && last[1] == NULL && in->n == 0 && in->last_dhcp != NULL &&
	    explain_is_decision(in->last_dhcp))
		last[explain_is_ipxe(in->last_dhcp)] = in->last_dhcp;
	for (int k = 0; k < 2; k++) {
		const struct store_event *e = last[k];
		if (e == NULL)
			continue;
		struct explain_plan *p = &r->plans[r->n_plans++];
		memset(p, 0, sizeof(*p));
		p->ipxe = k == 1;
		explain_copy(p->via, sizeof(p->via), e->proto);
		explain_copy(p->decision, sizeof(p->decision), e->decision);
		explain_copy(p->source, sizeof(p->source), e->source);
		explain_copy(p->profile, sizeof(p->profile), e->profile);
		explain_detail_reason(e, p->reason, sizeof(p->reason));
		if (in->conf != NULL)
			explain_rerun(in, e, p);
	}
}

/* ---- steps ------------------------------------------------------------------- */

static struct explain_step *explain_step_add(struct explain_report *r, const struct store_event *e,
					     const char *step)
{
	/* Past the cap, the newest step replaces the one before it: the end matters most. */
	if (r->n_steps == EXPLAIN_MAX_STEPS) {
		r->steps_left_out++;
		memmove(&r->steps[EXPLAIN_MAX_STEPS / 2], &r->steps[EXPLAIN_MAX_STEPS / 2 + 1],
			(EXPLAIN_MAX_STEPS / 2 - 1) * sizeof(r->steps[0]));
		r->n_steps--;
	}
	struct explain_step *s = &r->steps[r->n_steps++];
	memset(s, 0, sizeof(*s));
	s->ts_us = e->ts_us - (int64_t)e->duration_us;
	s->ok = e->ok;
	explain_copy(s->proto, sizeof(s->proto), e->proto);
	explain_copy(s->step, sizeof(s->step), step);
	return s;
}

/* One client's DHCP exchanges in a row: "firmware efi-x64: offer, ack 10.0.0.5 -> file". */
static size_t explain_step_dhcp(const struct explain_input *in, size_t i, struct explain_report *r)
{
	const struct store_event *e = &in->ev[i], *dec = NULL;
	bool ipxe = explain_is_ipxe(e);
	char ips[16];
	size_t j = i;

	if (explain_is_kind(e, "chose-other")) {
		struct explain_step *s = explain_step_add(r, e, "other");
		explain_appendf(s->text, sizeof(s->text), "%s", e->detail);
		s->ok = false;
		return i;
	}
	while (j + 1 < in->n && explain_is_dhcp(&in->ev[j + 1]) &&
	       !explain_is_kind(&in->ev[j + 1], "chose-other") &&
	       explain_is_ipxe(&in->ev[j + 1]) == ipxe)
		j++;
	struct explain_step *s = explain_step_add(r, e, "dhcp");
	explain_appendf(s->text, sizeof(s->text), "%s%s%s:", ipxe ? "iPXE" : "firmware",
			e->has_arch ? " " : "", e->has_arch ? boot_arch_name(e->arch) : "");
	for (size_t k = i; k <= j; k++) {
		const struct store_event *x = &in->ev[k];
		bool other = strcmp(x->proto, e->proto) != 0; /* "offer, ack, pxe4011 ack" */
		explain_appendf(s->text, sizeof(s->text), "%s %s%s%s", k > i ? "," : "",
				other ? x->proto : "", other ? " " : "", x->kind);
		if (x->ip != 0 && (k == j || x->ip != in->ev[k + 1].ip))
			explain_appendf(s->text, sizeof(s->text), " %s", ip4_format(ips, x->ip));
		if (explain_is_withheld(x))
			explain_appendf(s->text, sizeof(s->text), " (ACK withheld)");
		if (explain_is_decision(x))
			dec = x;
		s->ok = x->ok;
	}
	if (dec != NULL)
		explain_appendf(s->text, sizeof(s->text), " -> %s", dec->decision);
	return j;
}

/* Refusals in a row: "3 files not served: a, b, c (the last: not found under /srv)". */
static size_t explain_step_refusals(const struct explain_input *in, size_t i,
				    struct explain_report *r)
{
	size_t j = i;
	char f[160];

	while (j + 1 < in->n && explain_is_kind(&in->ev[j + 1], "refused"))
		j++;
	struct explain_step *s = explain_step_add(r, &in->ev[i], "refused");
	s->ok = false;
	explain_appendf(s->text, sizeof(s->text), "%zu %s not served:", j - i + 1,
			j > i ? "files" : "file");
	for (size_t k = i; k <= j; k++) {
		explain_transfer_file(&in->ev[k], f, sizeof(f));
		explain_appendf(s->text, sizeof(s->text), "%s %s", k > i ? "," : "", f);
	}
	const char *why = strstr(in->ev[j].detail, ": ");
	if (why != NULL)
		explain_appendf(s->text, sizeof(s->text), " (%s)", why + 2);
	return j;
}

static void explain_step_transfer(const struct store_event *e, struct explain_report *r)
{
	char what[16], file[160];
	uint64_t v;

	explain_transfer_what(e, what, sizeof(what));
	explain_transfer_file(e, file, sizeof(file));
	struct explain_step *s = explain_step_add(r, e, what);
	explain_appendf(s->text, sizeof(s->text), "%s, %" PRIu64 " bytes in %.2f s", file, e->bytes,
			e->duration_us / 1e6);
	if (e->ok)
		return;
	explain_appendf(s->text, sizeof(s->text), ", FAILED");
	if (e->block != 0)
		explain_appendf(s->text, sizeof(s->text), " at block %" PRIu64, e->block);
	if (e->retries != 0)
		explain_appendf(s->text, sizeof(s->text), " after %u retries", e->retries);
	const char *why = strstr(e->detail, ": ");
	if (why != NULL)
		explain_appendf(s->text, sizeof(s->text), " (%s)", why + 2);
	if (explain_detail_num(e->detail, "blksize=", &v))
		explain_appendf(s->text, sizeof(s->text), " blksize=%" PRIu64, v);
	if (explain_detail_num(e->detail, "windowsize=", &v))
		explain_appendf(s->text, sizeof(s->text), " windowsize=%" PRIu64, v);
}

static void explain_steps(const struct explain_input *in, struct explain_report *r)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct store_event *e = &in->ev[i];
		if (explain_is_dhcp(e))
			i = explain_step_dhcp(in, i, r);
		else if (explain_is_kind(e, "refused"))
			i = explain_step_refusals(in, i, r);
		else if (explain_is_transfer(e) && (e->ok || explain_is_failure(e)))
			explain_step_transfer(e, r); /* EDK2's tsize probe is not a step */
	}
}

/* ---- the verdict -------------------------------------------------------------- */

/* What the session shows, for the verdict. Indices are -1 when there is none. */
struct explain_scan {
	int last_ok;	   /* the newest successful transfer */
	int kernel;	   /* the newest kernel fetched */
	int initrds;	   /* initrds fetched (distinct) */
	int last_decision; /* the newest decision event */
	int chose_other;   /* the newest chose-other */
	bool dhcp;	   /* any DHCP event */
	int withheld;	   /* the newest REQUEST whose ACK was withheld */
	int acked;	   /* the newest ACK */
};

static bool explain_what_is(const struct store_event *e, const char *what)
{
	char w[16];
	explain_transfer_what(e, w, sizeof(w));
	return strcmp(w, what) == 0;
}

static void explain_scan(const struct explain_input *in, struct explain_scan *sc)
{
	char seen[CONF_MAX_INITRDS][160], f[160];
	int n_seen = 0;

	*sc = (struct explain_scan){.last_ok = -1,
				    .kernel = -1,
				    .last_decision = -1,
				    .chose_other = -1,
				    .withheld = -1,
				    .acked = -1};
	for (size_t i = 0; i < in->n; i++) {
		const struct store_event *e = &in->ev[i];
		sc->dhcp |= explain_is_dhcp(e);
		if (explain_is_withheld(e))
			sc->withheld = (int)i;
		if (explain_is_dhcp(e) && explain_is_kind(e, "ack"))
			sc->acked = (int)i;
		if (explain_is_decision(e))
			sc->last_decision = (int)i;
		if (explain_is_kind(e, "chose-other"))
			sc->chose_other = (int)i;
		if (!explain_is_transfer(e) || !e->ok)
			continue;
		sc->last_ok = (int)i;
		if (explain_what_is(e, "kernel"))
			sc->kernel = (int)i;
		if (!explain_what_is(e, "initrd"))
			continue;
		explain_transfer_file(e, f, sizeof(f));
		bool dup = false;
		for (int k = 0; k < n_seen; k++)
			dup |= strcmp(seen[k], f) == 0;
		if (!dup && n_seen < CONF_MAX_INITRDS)
			memcpy(seen[n_seen++], f, sizeof(f));
	}
	sc->initrds = n_seen;
}

/* The initrds the plan's profile has, or -1 when the config does not say. */
static int explain_initrds_expected(const struct explain_input *in, const struct explain_report *r)
{
	for (size_t i = r->n_plans; i-- > 0;) {
		const struct conf_profile *p =
		    in->conf != NULL && r->plans[i].profile[0] != '\0'
			? conf_find_profile(in->conf, r->plans[i].profile)
			: NULL;
		if (p != NULL)
			return (int)p->n_initrds;
	}
	return -1;
}

/*
 * The failure that stopped the boot, after the newest success: a failed
 * transfer (not a client's own abort), or a refusal of the plan's file or
 * of one that nothing followed (pxelinux's probes and iPXE's autoexec.ipxe
 * are followed by what it asked next). -1 when none.
 */
static int explain_stop_failure(const struct explain_input *in, const struct explain_report *r,
				int after)
{
	int found = -1;
	char f[160];

	for (int i = (int)in->n - 1; i > after; i--) {
		const struct store_event *e = &in->ev[i];
		if (explain_is_failure(e))
			return found >= 0 ? found : i;
		if (!explain_is_kind(e, "refused"))
			continue;
		explain_transfer_file(e, f, sizeof(f));
		bool trailing = true;
		for (size_t k = (size_t)i + 1; k < in->n; k++)
			trailing &=
			    !explain_is_dhcp(&in->ev[k]) && !explain_is_transfer(&in->ev[k]);
		bool planned = false;
		for (size_t k = 0; k < r->n_plans; k++)
			planned |= explain_same_file(f, r->plans[k].decision);
		if ((trailing || planned) && found < 0)
			found = i;
	}
	return found;
}

/* The root a refusal names ("... under /srv/tftp"), else the config's. */
static void explain_refusal_root(const struct explain_input *in, const struct store_event *e,
				 char *out, size_t cap)
{
	const char *p = strstr(e->detail, " under ");
	const char *root = NULL;
	if (p != NULL) {
		explain_copy(out, cap, p + 7);
		return;
	}
	if (in->conf != NULL)
		root = strcmp(e->proto, "http") == 0 ? in->conf->http_root : in->conf->tftp_root;
	explain_copy(out, cap, root != NULL ? root : "");
}

static void explain_cause_missing(const struct explain_input *in, struct explain_report *r,
				  const struct store_event *e)
{
	char f[160], root[160];
	const bool http = strcmp(e->proto, "http") == 0;
	const char *key = http ? "http.root" : "tftp.root";

	explain_transfer_file(e, f, sizeof(f));
	explain_refusal_root(in, e, root, sizeof(root));
	r->verdict = EXPLAIN_FILE_MISSING;
	snprintf(r->stopped, sizeof(r->stopped), "at %s: %s was refused", e->proto, f);
	if (strstr(e->detail, "not found") == NULL && strstr(e->detail, "404") == NULL) {
		snprintf(r->cause, sizeof(r->cause),
			 "The machine asked for %s over %s and pxed refused it (%s): a name that "
			 "leaves the root, a link out of it, or a file pxed cannot read.",
			 f, e->proto, e->detail);
		return;
	}
	if (root[0] != '\0')
		snprintf(r->cause, sizeof(r->cause),
			 "The file is missing: the machine asked for %s over %s and it is not "
			 "under the root %s (%s), nor among pxed's built-in or rendered files. Put "
			 "it at %s/%s, or fix the name in the profile's programs.",
			 f, e->proto, root, key, root, explain_url_path(f));
	else
		snprintf(
		    r->cause, sizeof(r->cause),
		    "The file is missing: the machine asked for %s over %s, which is not "
		    "among pxed's built-in or rendered files, and there is no %s to look "
		    "under. Set %s and put it there, or fix the name in the profile's programs.",
		    f, e->proto, key, key);
}

/*
 * HTTP runs over TCP: no blocks, no retries, no blksize to suspect. The
 * connection ended early, so the size sent is all there is to tell.
 */
static void explain_cause_died_http(struct explain_report *r, const struct store_event *e)
{
	char f[160], of[48] = "";
	uint64_t size = 0;

	explain_transfer_file(e, f, sizeof(f));
	if (explain_detail_num(e->detail, "size=", &size) && size > 0)
		snprintf(of, sizeof(of), " of %" PRIu64, size);
	r->verdict = EXPLAIN_TRANSFER_DIED;
	snprintf(r->stopped, sizeof(r->stopped),
		 "at the %s transfer of %s, after %" PRIu64 "%s bytes", e->proto, f, e->bytes, of);
	snprintf(r->cause, sizeof(r->cause),
		 "The %s transfer of %s ended early: the connection closed after %" PRIu64
		 "%s bytes. Suspect the network between pxed and the machine, a proxy or "
		 "firewall that cuts long downloads, or the machine rebooting or giving up "
		 "mid-download (its console says which).",
		 e->proto, f, e->bytes, of);
}

static void explain_cause_died(struct explain_report *r, const struct store_event *e)
{
	char f[160], why[160] = "timed out", total[48] = "";
	uint64_t size = 0, blksize = 0, window = 0;

	if (strcmp(e->proto, "http") == 0) {
		explain_cause_died_http(r, e);
		return;
	}
	explain_transfer_file(e, f, sizeof(f));
	explain_detail_num(e->detail, "size=", &size);
	explain_detail_num(e->detail, "blksize=", &blksize);
	explain_detail_num(e->detail, "windowsize=", &window);
	if (size > 0 && blksize > 0)
		snprintf(total, sizeof(total), " of %" PRIu64, size / blksize + 1);
	const char *p = strstr(e->detail, ": ");
	if (p != NULL)
		explain_copy(why, sizeof(why), p + 2);
	r->verdict = EXPLAIN_TRANSFER_DIED;
	snprintf(r->stopped, sizeof(r->stopped), "at the %s transfer of %s, block %" PRIu64 "%s",
		 e->proto, f, e->block, total);
	snprintf(r->cause, sizeof(r->cause),
		 "The transfer of %s died at block %" PRIu64 "%s after %u retries (%s), having "
		 "sent %" PRIu64 " bytes: packets between pxed and the machine were lost. "
		 "Suspect the MTU or blksize (it used blksize=%" PRIu64 ", windowsize=%" PRIu64
		 "; a link with a smaller MTU, or a firewall that drops UDP fragments or "
		 "bursts, stops large blocks), or a firewall between them.",
		 f, e->block, total, e->retries, why, e->bytes, blksize, window);
}

/* "F is a UEFI program but the machine said bios" when the name gives it away. */
static void explain_arch_hint(const struct explain_report *r, const char *file, char *out,
			      size_t cap)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	size_t n = strlen(base);
	bool efi_file = n > 4 && strcmp(base + n - 4, ".efi") == 0;
	bool bios_file = (n > 2 && strcmp(base + n - 2, ".0") == 0) ||
			 (n > 5 && strcmp(base + n - 5, ".kpxe") == 0) ||
			 (n > 4 && strcmp(base + n - 4, ".pxe") == 0);
	const char *arch = r->facts.has_arch ? boot_arch_name(r->facts.arch) : NULL;

	out[0] = '\0';
	if (arch == NULL)
		return;
	if (efi_file && strcmp(arch, "bios") == 0)
		snprintf(out, cap, " %s is a UEFI program but the machine said it is BIOS.", base);
	else if (bios_file && strncmp(arch, "efi", 3) == 0)
		snprintf(out, cap, " %s is a BIOS program but the machine said it is %s.", base,
			 arch);
}

static void explain_cause_nbp(struct explain_report *r, const struct store_event *e)
{
	char f[160], hint[160];
	explain_transfer_file(e, f, sizeof(f));
	explain_arch_hint(r, f, hint, sizeof(hint));
	r->verdict = EXPLAIN_NBP_NO_RETURN;
	snprintf(r->stopped, sizeof(r->stopped), "after the boot program %s", f);
	snprintf(r->cause, sizeof(r->cause),
		 "The machine fetched its boot program %s (%" PRIu64 " bytes) and never asked "
		 "pxed for anything again: the program did not run, or stopped at once.%s Most "
		 "likely it is the wrong binary for the machine's architecture (%s), or Secure "
		 "Boot refused an unsigned program (use the signed shim and GRUB, or turn Secure "
		 "Boot off). The machine's console says which.",
		 f, e->bytes, hint, r->facts.has_arch ? boot_arch_name(r->facts.arch) : "not sent");
}

static void explain_cause_no_kernel(struct explain_report *r, const struct store_event *e)
{
	char f[160];
	explain_transfer_file(e, f, sizeof(f));
	r->verdict = EXPLAIN_NO_KERNEL;
	bool script = explain_what_is(e, "script");
	snprintf(r->stopped, sizeof(r->stopped), "after the %s %s",
		 script ? "script" : "configuration", f);
	if (script)
		snprintf(
		    r->cause, sizeof(r->cause),
		    "iPXE got its script %s but never fetched the kernel: the script failed "
		    "in iPXE (its console shows the command that failed), or the kernel URL is "
		    "unreachable from the machine (check server_address, http.port and "
		    "firewalls).",
		    f);
	else
		snprintf(
		    r->cause, sizeof(r->cause),
		    "The boot loader got its configuration %s but never fetched the kernel: "
		    "the configuration failed in the loader (see its console), or the kernel's "
		    "path or URL is unreachable from the machine.",
		    f);
}

/*
 * An installed host (boot/states.h): its script or configuration says
 * boot the local disk, so no kernel follows. boot/policy.c's reason says so.
 */
static bool explain_local_boot(struct explain_report *r, const struct store_event *e)
{
	char f[160];
	bool local = false;

	for (size_t i = 0; i < r->n_plans; i++)
		local = local || strstr(r->plans[i].reason, "installed: boots from its local disk");
	if (!local)
		return false;
	explain_transfer_file(e, f, sizeof(f));
	r->verdict = EXPLAIN_LOCAL_BOOT;
	snprintf(r->stopped, sizeof(r->stopped), "after %s: told to boot from its local disk", f);
	snprintf(r->cause, sizeof(r->cause),
		 "Done: the host is installed, and %s told it to boot from its local disk "
		 "(iPXE exit, pxelinux LOCALBOOT, GRUB exit). To install it again, mark it: "
		 "POST /api/v1/hosts/MAC/install.",
		 f);
	return true;
}

static void explain_cause_done(const struct explain_input *in, struct explain_report *r,
			       const struct explain_scan *sc, int expected)
{
	char f[160];
	explain_transfer_file(&in->ev[sc->last_ok], f, sizeof(f));
	if (expected >= 0 && sc->initrds < expected) {
		r->verdict = EXPLAIN_NO_INITRD;
		snprintf(r->stopped, sizeof(r->stopped), "after %s (initrd %d of %d missing)", f,
			 sc->initrds + 1, expected);
		snprintf(r->cause, sizeof(r->cause),
			 "The kernel was fetched but only %d of the profile's %d initrds: the "
			 "loader stopped before the rest (see the console: a failed command, an "
			 "unreachable URL, or too little memory).",
			 sc->initrds, expected);
		return;
	}
	r->verdict = EXPLAIN_DONE;
	snprintf(r->stopped, sizeof(r->stopped),
		 "after %s: the kernel and %d initrd%s were delivered", f, sc->initrds,
		 sc->initrds == 1 ? "" : "s");
	snprintf(r->cause, sizeof(r->cause),
		 "Done: pxed's part is done. The machine fetched its kernel and %d initrd%s. If "
		 "the operating system did not come up, look at the machine's console: pxed "
		 "cannot see past this point.",
		 sc->initrds, sc->initrds == 1 ? "" : "s");
}

/* The architecture words of a "no boot program" reason, for the plain cause. */
static void explain_cause_no_program(struct explain_report *r, const struct explain_plan *p)
{
	uint16_t arch = r->facts.arch;
	char said[64] = "sent no architecture", override[96] = "";
	const char *decided = strstr(p->reason, "architecture ");
	uint64_t code;

	if (r->facts.has_arch)
		snprintf(said, sizeof(said), "is %s (option 93 = %u)", boot_arch_name(arch), arch);
	if (decided != NULL && explain_detail_num(decided, "architecture ", &code) &&
	    code <= UINT16_MAX)
		arch = (uint16_t)code; /* what pxed decided on: the firmware's, or the override's */
	if (strstr(p->reason, "by override]") != NULL)
		snprintf(override, sizeof(override), ", taken as %s by arch_overrides",
			 boot_arch_name(arch));
	snprintf(r->cause, sizeof(r->cause),
		 "Wrong architecture for its profile: the firmware %s%s, but profile %s has no "
		 "program for %s and pxed has no built-in one. Add `programs: {%s: FILE}` to "
		 "profile %s, or correct arch_overrides if the machine is something else. "
		 "(pxed: %s)",
		 said, override, p->profile[0] ? p->profile : "(none)", boot_arch_name(arch),
		 boot_arch_name(arch), p->profile[0] ? p->profile : "(none)", p->reason);
}

/*
 * A subnet's `unknown:` policy (dhcp/server.c's words): ignored, or
 * registered as discovered and waiting for a profile.
 */
static bool explain_cause_unknown(struct explain_report *r, const struct explain_plan *p,
				  const char *mac)
{
	if (strstr(p->reason, "(unknown: ignore)") != NULL) {
		r->verdict = EXPLAIN_IGNORED;
		snprintf(r->stopped, sizeof(r->stopped), "at DHCP: %s", p->reason);
		snprintf(r->cause, sizeof(r->cause),
			 "pxed ignored the machine on purpose: %s is not in hosts, and its subnet "
			 "has unknown: ignore, so it got no reply at all. Give it a host entry, or "
			 "set that subnet's unknown: to boot or discover.",
			 mac);
		return true;
	}
	if (strstr(p->reason, "(unknown: discover)") != NULL) {
		snprintf(r->cause, sizeof(r->cause),
			 "pxed %s: it is listed in /api/v1/discovered and gets an address but no "
			 "boot program until it is given a host entry with a profile.",
			 p->reason);
		return true;
	}
	return false;
}

static void explain_cause_no_plan(struct explain_report *r, const struct explain_plan *p)
{
	char mac[18];
	mac_format(mac, r->mac);
	r->verdict = EXPLAIN_NO_PLAN;
	snprintf(r->stopped, sizeof(r->stopped), "at DHCP: pxed gave no boot file");
	if (explain_cause_unknown(r, p, mac))
		return;
	if (strstr(p->reason, "no boot program for architecture") != NULL)
		explain_cause_no_program(r, p);
	else if (strstr(p->reason, "no default profile") != NULL)
		snprintf(r->cause, sizeof(r->cause),
			 "pxed had nothing to boot it with: %s %s, and there is no "
			 "default_profile. Give it a host entry with a profile, or set "
			 "default_profile. (pxed: %s)",
			 mac,
			 strstr(p->reason, "host has no profile")
			     ? "has a host entry without a profile"
			     : "is not in hosts",
			 p->reason);
	else
		snprintf(r->cause, sizeof(r->cause), "pxed had no boot plan for it: %s.",
			 p->reason);
}

static void explain_cause_other_server(struct explain_report *r, const struct store_event *c)
{
	char ips[16];
	ip4_format(ips, c->ip);
	r->verdict = EXPLAIN_OTHER_SERVER;
	snprintf(r->stopped, sizeof(r->stopped), "at DHCP: the machine took %s's offer", ips);
	snprintf(r->cause, sizeof(r->cause),
		 "The machine took another server's offer: it asked DHCP server %s for its "
		 "address instead of pxed and followed that server's boot instructions. Remove "
		 "that server's boot options for these machines, stop it answering them, or run "
		 "pxed with dhcp.mode: proxy beside it.",
		 ips);
}

/* pxed's own failure: the lease could not be written, so the ACK was never sent. */
static void explain_cause_not_stored(struct explain_report *r, const struct store_event *e)
{
	char ips[16];
	ip4_format(ips, e->ip);
	r->verdict = EXPLAIN_NOT_STORED;
	snprintf(r->stopped, sizeof(r->stopped),
		 "at DHCP: the ACK for %s was withheld, its lease could not be stored", ips);
	snprintf(
	    r->cause, sizeof(r->cause),
	    "pxed chose %s for the machine but could not write the lease to its store "
	    "(state_dir: most likely a full disk; pxed's log names the error), so it did not "
	    "send the ACK: a lease must be on disk before the ACK leaves. The machine got no "
	    "address from pxed. It keeps asking on its own: free space in state_dir, or repair "
	    "the store, and its next request is answered.",
	    ips);
}

/* No decision of pxed's: a client that is not booting, or one pxed saw only on TFTP/HTTP. */
static void explain_cause_no_boot(struct explain_report *r, bool dhcp)
{
	if (!dhcp) {
		r->verdict = EXPLAIN_NOT_FETCHED;
		snprintf(r->stopped, sizeof(r->stopped), "at TFTP/HTTP: nothing completed");
		snprintf(r->cause, sizeof(r->cause),
			 "pxed saw the machine only over TFTP or HTTP (its DHCP went elsewhere), "
			 "and no transfer completed: the steps above show what it asked for.");
		return;
	}
	r->verdict = EXPLAIN_NOT_BOOT_CLIENT;
	snprintf(r->stopped, sizeof(r->stopped), "at DHCP: not a network boot");
	snprintf(r->cause, sizeof(r->cause),
		 "The machine asked for an address but never as a network-boot client (no "
		 "PXEClient or HTTPClient vendor class, not iPXE): its firmware did not try to "
		 "boot from the network. Enable network boot in its firmware.");
}

static void explain_cause_menu(struct explain_report *r)
{
	r->verdict = EXPLAIN_MENU_LOCAL;
	snprintf(r->stopped, sizeof(r->stopped), "at the PXE menu (default: local disk)");
	snprintf(r->cause, sizeof(r->cause),
		 "pxed offered its PXE menu, whose default item boots from the local disk, and "
		 "nothing was fetched: the machine booted locally, or the item chosen got no "
		 "answer.");
}

/*
 * A file was given and never fetched. A full-DHCP offer that was never
 * requested means the machine went elsewhere; an ACK (or a proxy offer)
 * that was never followed means it could not reach pxed's server.
 */
static void explain_cause_not_fetched(const struct explain_input *in, struct explain_report *r,
				      const struct explain_plan *p, int from, int after)
{
	bool acked = false, offered_full = false, http = strncmp(p->decision, "http", 4) == 0;

	for (int i = from; i >= 0 && i > after; i--) {
		const struct store_event *e = &in->ev[i];
		if (!explain_is_dhcp(e) || explain_is_ipxe(e) != p->ipxe)
			continue;
		acked |= explain_is_kind(e, "ack");
		offered_full |= strcmp(e->proto, "dhcp") == 0 && explain_is_kind(e, "offer");
	}
	if (offered_full && !acked) {
		r->verdict = EXPLAIN_OFFER_IGNORED;
		snprintf(r->stopped, sizeof(r->stopped), "at DHCP: the offer was not taken");
		snprintf(r->cause, sizeof(r->cause),
			 "pxed offered an address and %s, but the machine never asked for it (no "
			 "REQUEST came back, and none naming another server was seen): most likely "
			 "another DHCP server answered and the machine took its offer. Look for a "
			 "second DHCP server on the segment.",
			 p->decision);
		return;
	}
	r->verdict = EXPLAIN_NOT_FETCHED;
	snprintf(r->stopped, sizeof(r->stopped), "at DHCP: told %s, never fetched", p->decision);
	snprintf(r->cause, sizeof(r->cause),
		 "pxed told the %s to boot %s, but it never asked pxed for it: check that the "
		 "machine can reach pxed's %s (firewall, server_address%s), and that no other "
		 "DHCP server's boot options overrode pxed's.",
		 p->ipxe ? "iPXE client" : "firmware", p->decision,
		 http ? "HTTP server" : "TFTP server on UDP 69", http ? ", http.port" : "");
}

/* The verdict when nothing was fetched after DHCP's last word (events after `after`). */
static void explain_verdict_dhcp(const struct explain_input *in, struct explain_report *r,
				 const struct explain_scan *sc, int after)
{
	const struct store_event *d = sc->last_decision > after ? &in->ev[sc->last_decision] : NULL;
	const struct explain_plan *p = NULL;

	for (size_t i = 0; d != NULL && i < r->n_plans; i++)
		if (r->plans[i].ipxe == explain_is_ipxe(d))
			p = &r->plans[i];
	/* A withheld ACK that nothing answered since: boot client or not, that is the stop. */
	if (sc->withheld > after && sc->withheld > sc->acked && sc->withheld > sc->chose_other)
		explain_cause_not_stored(r, &in->ev[sc->withheld]);
	else if (sc->chose_other > after)
		explain_cause_other_server(r, &in->ev[sc->chose_other]);
	else if (p == NULL)
		explain_cause_no_boot(r, sc->dhcp);
	else if (strcmp(p->decision, "none") == 0)
		explain_cause_no_plan(r, p);
	else if (strcmp(p->decision, "menu") == 0)
		explain_cause_menu(r);
	else
		explain_cause_not_fetched(in, r, p, sc->last_decision, after);
}

static void explain_verdict(const struct explain_input *in, struct explain_report *r)
{
	struct explain_scan sc;
	int expected = explain_initrds_expected(in, r);

	if (in->n == 0) {
		char mac[18];
		r->verdict = EXPLAIN_NEVER_SEEN;
		snprintf(r->stopped, sizeof(r->stopped), "before DHCP: never seen");
		snprintf(r->cause, sizeof(r->cause),
			 "pxed has never heard from %s: the machine did not reach pxed. Check that "
			 "it network-boots (PXE or network boot enabled in its firmware), that it "
			 "is on a network pxed serves (interfaces), and across routers that a DHCP "
			 "relay forwards to pxed.",
			 mac_format(mac, in->mac));
		return;
	}
	explain_scan(in, &sc);
	bool delivered = sc.kernel >= 0 && (expected < 0 ? true : sc.initrds >= expected);
	int fail = explain_stop_failure(in, r, sc.last_ok);
	if (fail >= 0 && !(delivered && fail > sc.kernel)) {
		if (explain_is_kind(&in->ev[fail], "refused"))
			explain_cause_missing(in, r, &in->ev[fail]);
		else
			explain_cause_died(r, &in->ev[fail]);
		return;
	}
	if (sc.kernel >= 0) {
		explain_cause_done(in, r, &sc, expected);
		return;
	}
	/* DHCP after the last fetch: its outcome is where the boot stands. */
	if (sc.last_ok < 0 || sc.last_decision > sc.last_ok || sc.chose_other > sc.last_ok) {
		explain_verdict_dhcp(in, r, &sc, sc.last_ok);
		return;
	}
	const struct store_event *last = &in->ev[sc.last_ok];
	/* The boot program, or an operator's own file it fetched: the same silence after. */
	if (explain_what_is(last, "script") || explain_what_is(last, "config")) {
		if (!explain_local_boot(r, last))
			explain_cause_no_kernel(r, last);
	} else {
		explain_cause_nbp(r, last);
	}
}

/* ---- the report ------------------------------------------------------------------ */

void explain_build(const struct explain_input *in, struct explain_report *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->mac, in->mac, 6);
	r->now_us = in->now_us;
	r->seen = in->n > 0;
	r->n_events = in->n;
	if (in->n > 0) {
		r->session = in->ev[in->n - 1].session;
		r->start_us = in->ev[0].ts_us;
		r->end_us = in->ev[in->n - 1].ts_us;
	}
	explain_facts(in, &r->facts);
	explain_plans(in, r);
	explain_steps(in, r);
	explain_verdict(in, r);
	bool failed = r->verdict == EXPLAIN_FILE_MISSING || r->verdict == EXPLAIN_TRANSFER_DIED;
	if (r->seen && !failed && r->verdict != EXPLAIN_DONE && r->verdict != EXPLAIN_LOCAL_BOOT &&
	    in->now_us - r->end_us < EXPLAIN_RECENT_US)
		explain_appendf(r->cause, sizeof(r->cause),
				" (Its last event was %.0f s ago: the boot may still be going.)",
				(in->now_us - r->end_us) / 1e6);
}

static void explain_print_facts(const struct explain_report *r, FILE *out)
{
	const struct explain_facts *f = &r->facts;
	char ip[16];

	if (!f->known) {
		fprintf(out, "facts:   none recorded\n");
		return;
	}
	if (f->has_arch)
		fprintf(out, "facts:   arch %s (%u)", boot_arch_name(f->arch), f->arch);
	else
		fprintf(out, "facts:   arch not sent");
	fprintf(out, ", vendor class %s, user class %s", f->vendor[0] ? f->vendor : "-",
		f->user_class[0] ? f->user_class : "-");
	if (f->iface[0])
		fprintf(out, ", on %s", f->iface);
	if (f->relay != 0)
		fprintf(out, ", relayed by %s", ip4_format(ip, f->relay));
	if (f->address != 0)
		fprintf(out, ", %s %s", f->address_offered ? "offered" : "address",
			ip4_format(ip, f->address));
	fputc('\n', out);
}

static void explain_print_plans(const struct explain_report *r, FILE *out)
{
	if (r->n_plans == 0)
		fprintf(out, "plan:    none recorded (no boot client asked)\n");
	for (size_t i = 0; i < r->n_plans; i++) {
		const struct explain_plan *p = &r->plans[i];
		fprintf(out, "%s %-9s %s (via %s)\n", i == 0 ? "plan:   " : "        ",
			p->ipxe ? "iPXE:" : "firmware:", p->decision, p->via);
		fprintf(out, "           why: %s\n", p->reason[0] ? p->reason : p->source);
		if (p->rerun && p->same)
			fprintf(out, "           the current config decides the same\n");
		else if (p->rerun)
			fprintf(out, "           the current config would now give %s: %s\n",
				p->now_decision, p->now_reason);
	}
}

void explain_report_print(const struct explain_report *r, FILE *out)
{
	char mac[18], when[40];
	struct tm tm;

	mac_format(mac, r->mac);
	if (!r->seen) {
		fprintf(out, "%s: never seen\n", mac);
	} else {
		time_t secs = (time_t)(r->start_us / 1000000);
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		fprintf(out, "%s: boot of %s, %zu events over %.1f s, last %.0f s ago\n", mac, when,
			r->n_events, (r->end_us - r->start_us) / 1e6,
			(r->now_us - r->end_us) / 1e6);
		explain_print_facts(r, out);
		explain_print_plans(r, out);
		for (size_t i = 0; i < r->n_steps; i++) {
			const struct explain_step *s = &r->steps[i];
			if (i == EXPLAIN_MAX_STEPS / 2 && r->steps_left_out > 0)
				fprintf(out, "         ... %zu steps left out\n",
					r->steps_left_out);
			fprintf(out, "%s +%6.2fs %-8s %-7s %s\n", i == 0 ? "steps:  " : "        ",
				(s->ts_us - r->start_us) / 1e6, s->step, s->proto, s->text);
		}
	}
	fprintf(out, "stopped: %s\n", r->stopped);
	fprintf(out, "cause:   [%s] %s\n", explain_verdict_name(r->verdict), r->cause);
}

static json_t *explain_facts_json(const struct explain_facts *f)
{
	json_t *o = json_object();
	char ip[16];
	if (!f->known && f->address == 0)
		return o;
	if (f->has_arch) {
		json_object_set_new(o, "arch", json_integer(f->arch));
		json_object_set_new(o, "arch_name", json_string(boot_arch_name(f->arch)));
	}
	if (f->vendor[0])
		json_object_set_new(o, "vendor_class", json_string(f->vendor));
	if (f->user_class[0])
		json_object_set_new(o, "user_class", json_string(f->user_class));
	if (f->relay != 0)
		json_object_set_new(o, "relay", json_string(ip4_format(ip, f->relay)));
	if (f->iface[0])
		json_object_set_new(o, "interface", json_string(f->iface));
	if (f->address != 0)
		json_object_set_new(o, f->address_offered ? "offered" : "address",
				    json_string(ip4_format(ip, f->address)));
	return o;
}

static json_t *explain_plan_json(const struct explain_plan *p)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "client",
			      p->ipxe ? "ipxe" : "firmware", "via", p->via, "decision", p->decision,
			      "source", p->source, "profile", p->profile, "reason", p->reason);
	if (o != NULL && p->rerun)
		json_object_set_new(o, "current",
				    json_pack("{s:s, s:s, s:b}", "decision", p->now_decision,
					      "reason", p->now_reason, "same", p->same));
	return o;
}

json_t *explain_report_json(const struct explain_report *r)
{
	char mac[18];
	json_t *o = json_object(), *plans = json_array(), *steps = json_array();

	json_object_set_new(o, "mac", json_string(mac_format(mac, r->mac)));
	json_object_set_new(o, "seen", json_boolean(r->seen));
	json_object_set_new(
	    o, "session",
	    r->seen ? json_pack("{s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)r->session,
				"start_us", (json_int_t)r->start_us, "end_us",
				(json_int_t)r->end_us, "events", (json_int_t)r->n_events,
				"last_heard_s", (json_int_t)((r->now_us - r->end_us) / 1000000))
		    : json_null());
	json_object_set_new(o, "facts", explain_facts_json(&r->facts));
	for (size_t i = 0; i < r->n_plans; i++)
		json_array_append_new(plans, explain_plan_json(&r->plans[i]));
	json_object_set_new(o, "plan", plans);
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct explain_step *s = &r->steps[i];
		json_array_append_new(
		    steps, json_pack("{s:I, s:s, s:s, s:s, s:b}", "at_ms",
				     (json_int_t)((s->ts_us - r->start_us) / 1000), "proto",
				     s->proto, "step", s->step, "text", s->text, "ok", s->ok));
	}
	json_object_set_new(o, "steps", steps);
	json_object_set_new(o, "stopped", json_string(r->stopped));
	json_object_set_new(
	    o, "diagnosis",
	    json_pack("{s:s, s:s}", "code", explain_verdict_name(r->verdict), "text", r->cause));
	return o;
}

/* ---- reading the store ------------------------------------------------------------ */

struct explain_events {
	struct store_event *v;
	size_t n;
};

/* The value of "key=" in a schema-1 detail, up to the next space. */
static void explain_v1_word(const char *detail, const char *key, char *out, size_t cap)
{
	const char *p = strstr(detail, key);
	size_t n = p != NULL ? strcspn(p + strlen(key), " ") : 0;
	if (n >= cap)
		n = cap - 1;
	if (p != NULL)
		memcpy(out, p + strlen(key), n);
	out[n] = '\0';
	if (strcmp(out, "-") == 0)
		out[0] = '\0';
}

/*
 * Events written before schema 2 keep their facts only in the detail
 * ("arch=bios vendor=... user=... file=F reason=R"): read them from there,
 * so explain works on an upgraded store too.
 */
static void explain_upgrade_v1(struct store_event *e)
{
	char arch[32], file[sizeof(e->decision)];

	if (e->session != 0 || !explain_is_dhcp(e) || e->decision[0] != '\0' ||
	    strncmp(e->detail, "arch=", 5) != 0)
		return;
	explain_v1_word(e->detail, "arch=", arch, sizeof(arch));
	for (unsigned c = 0; arch[0] != '\0' && c < 64 && !e->has_arch; c++)
		if (strcmp(boot_arch_name((uint16_t)c), arch) == 0) {
			e->has_arch = true;
			e->arch = (uint16_t)c;
		}
	explain_v1_word(e->detail, " vendor=", e->vendor, sizeof(e->vendor));
	explain_v1_word(e->detail, " user=", e->user_class, sizeof(e->user_class));
	explain_v1_word(e->detail, " file=", file, sizeof(file));
	/* Only boot clients were given a file or a reason. */
	if (file[0] != '\0' || strstr(e->detail, " reason=") != NULL)
		explain_copy(e->decision, sizeof(e->decision), file[0] != '\0' ? file : "none");
}

static int explain_collect(const struct store_event *e, void *arg)
{
	struct explain_events *l = arg;
	if (l->n == EXPLAIN_MAX_EVENTS)
		return -1;
	l->v[l->n] = *e;
	explain_upgrade_v1(&l->v[l->n++]);
	return 0;
}

int explain_for(struct store *st, const struct conf *conf, const uint8_t mac[6], int64_t now_us,
		struct explain_report *out)
{
	struct explain_events l = {.v = calloc(EXPLAIN_MAX_EVENTS, sizeof(*l.v))};
	struct store_event last = {0};
	struct explain_input in = {.conf = conf, .now_us = now_us};

	if (l.v == NULL)
		return -ENOMEM;
	int rc = store_event_last_session(st, mac, EXPLAIN_MAX_EVENTS, OBS_SESSION_GAP_US,
					  explain_collect, &l);
	if (rc == 0) {
		/* -ENOENT: no boot decision was ever made for mac; last stays unread. */
		int lr = store_event_last_dhcp(st, mac, &last);
		if (lr == 0)
			explain_upgrade_v1(&last);
		memcpy(in.mac, mac, 6);
		in.ev = l.v;
		in.n = l.n;
		in.last_dhcp = lr == 0 ? &last : NULL;
		explain_build(&in, out);
	}
	free(l.v);
	return rc < 0 ? -EIO : 0;
}

json_t *explain_json(struct store *st, const struct conf *conf, const uint8_t mac[6])
{
	struct explain_report *r = malloc(sizeof(*r));
	json_t *o = NULL;
	if (r != NULL && explain_for(st, conf, mac, now_wall_us(), r) == 0)
		o = explain_report_json(r);
	free(r);
	return o;
}

int explain_print(const char *state_dir, const struct conf *conf, const uint8_t mac[6], bool json)
{
	char path[PATH_MAX];
	struct store *st;
	struct explain_report *r;

	snprintf(path, sizeof(path), "%s/pxed.db", state_dir);
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "pxed: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (store_open(state_dir, &st) < 0) {
		fprintf(stderr, "pxed: cannot open the store in %s\n", state_dir);
		return 1;
	}
	r = malloc(sizeof(*r));
	int rc = r != NULL ? explain_for(st, conf, mac, now_wall_us(), r) : -ENOMEM;
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "pxed: cannot read the events of the store in %s\n", state_dir);
		free(r);
		return 1;
	}
	if (json) {
		json_t *o = explain_report_json(r);
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		explain_report_print(r, stdout);
	}
	free(r);
	return 0;
}
