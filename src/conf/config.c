/*
 * The configuration file: YAML read with libyaml's document API, turned into
 * a struct conf by one table of keys per section, then checked as a whole by
 * conf_validate(). Every problem becomes one "file:line: message"; parsing
 * goes on after an error so that `pxed check` shows all of them at once.
 *
 * An entry whose identifying key is missing or bad (a host without a valid
 * mac, a subnet without a valid subnet) is reported and then dropped, so it
 * does not cause a cascade of confusing follow-up errors.
 */
#include "conf/config.h"

#include "boot/policy.h"
#include "boot/script.h"
#include "boot/template.h"
#include "conf/tlskey.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/options.h"
#include "dhcp/pxe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* Past this many messages the rest is noise: one typo may repeat per host. */
#define CONF_MAX_ERRORS 100
/* CONF_MAX_HOSTS hosts take a few MiB of YAML; a bigger file is a mistake. */
#define CONF_MAX_FILE_SIZE (64u << 20)
/*
 * Lease times: below a minute clients renew (at half the lease, RFC 2131
 * 4.4.5) so often that it floods the server; dnsmasq refuses under 2 min.
 */
#define CONF_LEASE_MIN_S 60u
#define CONF_LEASE_MAX_S (365u * 86400u)
/* rogue.probe_interval: 0 (off) or in this range; 5 minutes by default. */
#define CONF_ROGUE_PROBE_MIN_S 5u
#define CONF_ROGUE_PROBE_MAX_S 86400u
#define CONF_ROGUE_PROBE_DEFAULT_S 300u
/*
 * libyaml's scanner slows down quadratically with flow nesting depth (every
 * level keeps a possible simple key that is rechecked per token), so deeper
 * nesting than any configuration needs is refused before the document is
 * built.
 */
#define CONF_MAX_DEPTH 64
/* Longest value echoed back in a message. */
#define ECHO "%.80s"

/* ---------------------------------------------------------------------- */
/* Memory and error messages                                              */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		fatal("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		fatal("out of memory");
	return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		fatal("out of memory");
	return s;
}

static void errors_push(struct conf_errors *errs, char *msg)
{
	errs->msgs = xrealloc(errs->msgs, (errs->n + 1) * sizeof(*errs->msgs));
	errs->msgs[errs->n++] = msg;
}

static char *error_line(const char *file, int line, const char *msg)
{
	if (file == NULL)
		return xstrdup(msg);
	if (line > 0)
		return xasprintf("%s:%d: %s", file, line, msg);
	return xasprintf("%s: %s", file, msg);
}

static void conf_errors_vadd(struct conf_errors *errs, const char *file, int line, const char *fmt,
			     va_list ap) __attribute__((format(printf, 4, 0)));
static void conf_errors_vadd(struct conf_errors *errs, const char *file, int line, const char *fmt,
			     va_list ap)
{
	char *msg;

	if (errs->n > CONF_MAX_ERRORS)
		return;
	if (errs->n == CONF_MAX_ERRORS) {
		msg = xasprintf("too many errors; only the first %d are shown", CONF_MAX_ERRORS);
		errors_push(errs, error_line(file, 0, msg));
		free(msg);
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory");
	errors_push(errs, error_line(file, line, msg));
	free(msg);
}

void conf_errors_add(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_errors_vadd(errs, file, line, fmt, ap);
	va_end(ap);
}

void conf_errors_free(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* ---------------------------------------------------------------------- */
/* Snapshot life cycle                                                    */

struct conf *conf_new_defaults(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		fatal("out of memory");
	c->dhcp_mode = CONF_DHCP_SERVER;
	c->lease_time_s = 3600;
	c->authoritative = true;
	c->dhcp_rate_per_mac = CONF_DHCP_RATE_PER_MAC_DEFAULT;
	c->dhcp_rate_per_source = CONF_DHCP_RATE_PER_SOURCE_DEFAULT;
	c->dhcp_new_client_rate = CONF_DHCP_NEW_CLIENT_RATE_DEFAULT;
	c->tftp_rate_per_address = CONF_TFTP_RATE_PER_ADDRESS_DEFAULT;
	c->tftp_max_transfers = CONF_TFTP_MAX_TRANSFERS_DEFAULT;
	c->tftp_max_per_client = CONF_TFTP_MAX_PER_CLIENT_DEFAULT;
	c->rogue_detect = true;
	c->rogue_probe_interval_s = CONF_ROGUE_PROBE_DEFAULT_S;
	c->events_retention_s = CONF_EVENTS_RETENTION_DEFAULT_S;
	c->events_max_per_machine = CONF_EVENTS_PER_MACHINE_DEFAULT;
	c->events_max_total = CONF_EVENTS_TOTAL_DEFAULT;
	c->tftp_port = 69;
	c->http_port = 80;
	c->http_max_connections = CONF_HTTP_MAX_CONNECTIONS_DEFAULT;
	c->http_max_per_client = CONF_HTTP_MAX_PER_CLIENT_DEFAULT;
	c->http_header_timeout_s = CONF_HTTP_HEADER_TIMEOUT_DEFAULT;
	c->http_idle_timeout_s = CONF_HTTP_IDLE_TIMEOUT_DEFAULT;
	c->http_rate_per_address = CONF_HTTP_RATE_PER_ADDRESS_DEFAULT;
	c->http_tls_port = 443;
	c->tftp_upload_max_bytes = CONF_UPLOAD_MAX_DEFAULT;
	c->state_dir = xstrdup("/var/lib/pxed");
	c->user = xstrdup("pxed");
	c->landlock = true;
	c->seccomp = true;
	c->api_address = 0x7f000001;
	c->api_port = 8780;
	c->nbp_dir_ipxe = xstrdup("/usr/lib/ipxe");
	c->nbp_dir_pxelinux = xstrdup("/usr/lib/PXELINUX");
	c->nbp_dir_syslinux = xstrdup("/usr/lib/syslinux/modules/bios");
	return c;
}

static void options_clear(struct conf_options *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].data);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static void match_clear(struct conf_match *m)
{
	free(m->vendor_class_prefix);
	free(m->user_class);
	free(m->interface);
	free(m->uuids);
	memset(m, 0, sizeof(*m));
}

static void class_clear(struct conf_class *cl)
{
	free(cl->name);
	match_clear(&cl->match);
	options_clear(&cl->options);
	free(cl->profile);
	memset(cl, 0, sizeof(*cl));
}

static void menu_item_clear(struct conf_menu_item *it)
{
	free(it->label);
	free(it->profile);
	memset(it, 0, sizeof(*it));
}

static void menu_free(struct conf_pxe_menu *m)
{
	if (m == NULL)
		return;
	free(m->prompt);
	for (size_t i = 0; i < m->n_items && i < CONF_MAX_MENU_ITEMS; i++)
		menu_item_clear(&m->items[i]);
	free(m);
}

static void profile_clear_initrds(struct conf_profile *pr)
{
	for (size_t i = 0; i < pr->n_initrds; i++)
		free(pr->initrds[i]);
	pr->n_initrds = 0;
}

static void profile_clear_programs(struct conf_profile *pr)
{
	for (size_t i = 0; i < pr->n_programs && i < CONF_MAX_PROGRAMS; i++)
		free(pr->programs[i].file);
	pr->n_programs = 0;
}

static void vars_clear(struct conf_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
	}
	free(vars->v);
	vars->v = NULL;
	vars->n = 0;
}

static void profile_clear_templates(struct conf_profile *pr)
{
	for (size_t i = 0; i < pr->n_templates; i++) {
		free(pr->templates[i].name);
		free(pr->templates[i].path);
		tmpl_free(pr->templates[i].tmpl);
	}
	free(pr->templates);
	pr->templates = NULL;
	pr->n_templates = 0;
}

static void profile_clear(struct conf_profile *pr)
{
	free(pr->name);
	free(pr->kernel);
	profile_clear_initrds(pr);
	free(pr->cmdline);
	profile_clear_programs(pr);
	vars_clear(&pr->vars);
	profile_clear_templates(pr);
	memset(pr, 0, sizeof(*pr));
}

static void host_clear(struct conf_host *h)
{
	options_clear(&h->options);
	free(h->name);
	free(h->profile);
	free(h->cmdline);
	vars_clear(&h->vars);
	memset(h, 0, sizeof(*h));
}

void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	for (size_t i = 0; i < c->n_interfaces; i++)
		free(c->interfaces[i]);
	free(c->tftp_root);
	free(c->tftp_upload_dir);
	free(c->http_root);
	free(c->http_tls_cert);
	free(c->http_tls_key);
	free(c->state_dir);
	free(c->user);
	free(c->api_token_file);
	free(c->nbp_dir_ipxe);
	free(c->nbp_dir_pxelinux);
	free(c->nbp_dir_syslinux);
	for (size_t i = 0; i < c->n_subnets; i++) {
		free(c->subnets[i].domain);
		options_clear(&c->subnets[i].options);
	}
	for (size_t i = 0; i < c->n_profiles; i++)
		profile_clear(&c->profiles[i]);
	for (size_t i = 0; i < c->n_hosts; i++)
		host_clear(&c->hosts[i]);
	free(c->hosts);
	free(c->hosts_by_client_id);
	free(c->default_profile);
	options_clear(&c->options);
	for (size_t i = 0; i < c->n_classes; i++)
		class_clear(&c->classes[i]);
	menu_free(c->pxe_menu);
	free(c);
}

/* ---------------------------------------------------------------------- */
/* Lookups                                                                */

/* Hosts known only by a client identifier have no MAC to be sorted by. */
static bool host_keyed_by_mac(const struct conf_host *h)
{
	return h->has_mac || h->client_id_len == 0;
}

/* MAC order, the hosts without a MAC after all others; lines not compared. */
static int host_order(const struct conf_host *x, const struct conf_host *y)
{
	bool kx = host_keyed_by_mac(x), ky = host_keyed_by_mac(y);

	if (kx != ky)
		return kx ? -1 : 1;
	return kx ? memcmp(x->mac, y->mac, sizeof(x->mac)) : 0;
}

static int host_cmp_mac(const void *a, const void *b)
{
	const struct conf_host *x = a, *y = b;
	int r = host_order(x, y);

	if (r != 0)
		return r;
	return (x->line > y->line) - (x->line < y->line);
}

/* Client identifiers by length, then bytes. */
static int client_id_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int host_ptr_cmp_client_id(const void *a, const void *b)
{
	const struct conf_host *x = *(const struct conf_host *const *)a;
	const struct conf_host *y = *(const struct conf_host *const *)b;
	int r = client_id_cmp(x->client_id, x->client_id_len, y->client_id, y->client_id_len);

	if (r != 0)
		return r;
	return (x->line > y->line) - (x->line < y->line);
}

static void index_client_ids(struct conf *c)
{
	size_t n = 0;

	free(c->hosts_by_client_id);
	c->hosts_by_client_id = NULL;
	c->n_hosts_by_client_id = 0;
	for (size_t i = 0; i < c->n_hosts; i++)
		n += c->hosts[i].client_id_len > 0;
	if (n == 0)
		return;
	c->hosts_by_client_id = xrealloc(NULL, n * sizeof(*c->hosts_by_client_id));
	for (size_t i = 0; i < c->n_hosts; i++)
		if (c->hosts[i].client_id_len > 0)
			c->hosts_by_client_id[c->n_hosts_by_client_id++] = &c->hosts[i];
	qsort(c->hosts_by_client_id, n, sizeof(*c->hosts_by_client_id), host_ptr_cmp_client_id);
}

void conf_sort_hosts(struct conf *c)
{
	if (c->n_hosts > 1)
		qsort(c->hosts, c->n_hosts, sizeof(*c->hosts), host_cmp_mac);
	index_client_ids(c);
}

static int host_key_cmp(const void *key, const void *elem)
{
	const struct conf_host *h = elem;

	if (!host_keyed_by_mac(h))
		return -1; /* sorted after every MAC */
	return memcmp(key, h->mac, sizeof(h->mac));
}

const struct conf_host *conf_find_host(const struct conf *c, const uint8_t mac[6])
{
	if (c->n_hosts == 0)
		return NULL;
	return bsearch(mac, c->hosts, c->n_hosts, sizeof(*c->hosts), host_key_cmp);
}

struct client_id_key {
	const uint8_t *id;
	size_t len;
};

static int client_id_key_cmp(const void *key, const void *elem)
{
	const struct client_id_key *k = key;
	const struct conf_host *h = *(const struct conf_host *const *)elem;

	return client_id_cmp(k->id, k->len, h->client_id, h->client_id_len);
}

const struct conf_host *conf_find_host_by_client_id(const struct conf *c, const uint8_t *id,
						    size_t len)
{
	struct client_id_key k = {id, len};
	const struct conf_host *const *h;

	if (len == 0 || len > CONF_MAX_CLIENT_ID || c->n_hosts_by_client_id == 0)
		return NULL;
	h = bsearch(&k, c->hosts_by_client_id, c->n_hosts_by_client_id,
		    sizeof(*c->hosts_by_client_id), client_id_key_cmp);
	return h != NULL ? *h : NULL;
}

const struct conf_profile *conf_find_profile(const struct conf *c, const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_profiles; i++)
		if (c->profiles[i].name != NULL && strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

static bool subnet_contains(const struct conf_subnet *s, uint32_t ip)
{
	uint32_t mask = prefix_mask(s->prefix_len);
	return (ip & mask) == (s->network & mask);
}

const struct conf_subnet *conf_find_subnet(const struct conf *c, uint32_t ip)
{
	for (size_t i = 0; i < c->n_subnets; i++)
		if (subnet_contains(&c->subnets[i], ip))
			return &c->subnets[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Value syntax shared by the parser and the validator                    */

/* The kernel's dev_valid_name(): what `ip link` accepts. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *q = s; *q != '\0'; q++)
		if (*q == '/' || *q == ':' || isspace((unsigned char)*q))
			return false;
	return true;
}

/* RFC 1123 host and domain names: labels of letters, digits and '-'. */
static bool hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (const char *q = s; *q != '\0'; q++) {
		if (*q == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!isalnum((unsigned char)*q) && *q != '-') {
			return false;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

/* Profile names become path components (files/<profile>/...) and URL parts. */
static bool profile_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64 || s[0] == '.')
		return false;
	for (const char *q = s; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '_' && *q != '-')
			return false;
	return true;
}

static const char *const dhcp_mode_names[] = {
    [CONF_DHCP_SERVER] = "server",
    [CONF_DHCP_PROXY] = "proxy",
    [CONF_DHCP_OFF] = "off",
};

/* "3600", "90s", "30m", "12h", "1d" within [min, max] s: 0, -EINVAL (syntax) or -ERANGE. */
static int parse_duration_in(const char *s, uint64_t min, uint64_t max, uint32_t *out)
{
	static const struct {
		char unit;
		uint32_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	size_t len = strlen(s);
	uint64_t mult = 1, v;
	char *num = xstrdup(s);
	int rc;

	for (size_t i = 0; len > 0 && i < PXED_ARRAY_LEN(units); i++) {
		if (s[len - 1] == units[i].unit) {
			mult = units[i].secs;
			num[len - 1] = '\0';
		}
	}
	rc = parse_u64(num, 0, UINT64_MAX / 86400, &v);
	free(num);
	if (rc < 0)
		return rc;
	v *= mult;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* A lease time: 60 s to 365 d. */
static int parse_duration(const char *s, uint32_t *out)
{
	return parse_duration_in(s, CONF_LEASE_MIN_S, CONF_LEASE_MAX_S, out);
}

/* "b8:27:eb": 1 to 6 bytes of a MAC, two hex digits each, ':' or '-' between. */
static int mac_prefix_parse(const char *s, uint8_t prefix[6], size_t *len)
{
	size_t n = 0;
	char sep = 0;

	for (const char *q = s;; q += 3) {
		int hi = hex_digit(q[0]), lo = hi < 0 ? -1 : hex_digit(q[1]);
		if (hi < 0 || lo < 0 || n == 6)
			return -EINVAL;
		prefix[n++] = (uint8_t)(hi << 4 | lo);
		if (q[2] == '\0')
			break;
		if ((q[2] != ':' && q[2] != '-') || (sep != 0 && q[2] != sep))
			return -EINVAL;
		sep = q[2];
	}
	*len = n;
	return 0;
}

static char *mac_prefix_format(char out[18], const uint8_t *prefix, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && i < 6; i++)
		o += (size_t)snprintf(out + o, 18 - o, "%s%02x", i ? ":" : "", prefix[i]);
	return out;
}

static bool match_is_empty(const struct conf_match *m)
{
	return m->vendor_class_prefix == NULL && m->user_class == NULL && m->n_arches == 0 &&
	       m->mac_prefix_len == 0 && m->relay == 0 && m->interface == NULL && m->n_uuids == 0 &&
	       m->n_subnets == 0;
}

static const struct conf_option *options_find(const struct conf_options *set, uint8_t code)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].code == code)
			return &set->v[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* The parser: node helpers                                               */

struct parser {
	const char *file; /* for messages */
	yaml_document_t *doc;
	struct conf *c;
	struct conf_errors *errs;
	size_t n_errors;  /* counted even past CONF_MAX_ERRORS */
	char *base_dir;	  /* absolute directory of the file */
	size_t hosts_cap; /* allocated length of c->hosts */
	int listen_line;  /* where tftp.listen or http.listen was given */
	const char *listen_what;
};

static void perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	p->n_errors++;
	va_start(ap, fmt);
	conf_errors_vadd(p->errs, p->file, line, fmt, ap);
	va_end(ap);
}

static yaml_node_t *node_at(struct parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* `key:` with no value, `~` or `null`: YAML's null. */
static bool node_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

static bool expect_type(struct parser *p, const char *what, yaml_node_t *n, yaml_node_type_t type,
			const char *hint)
{
	static const char *const names[] = {
	    [YAML_SCALAR_NODE] = "a single value",
	    [YAML_SEQUENCE_NODE] = "a list",
	    [YAML_MAPPING_NODE] = "a mapping",
	};

	if (n->type == type)
		return true;
	perr(p, node_line(n), "%s must be %s%s, not %s", what, names[type], hint, node_kind(n));
	return false;
}

/*
 * The text of a single value, or NULL after an error. Control characters
 * are refused everywhere: values end up in logs, iPXE scripts and
 * pxelinux files, where a newline would inject a command.
 */
static const char *scalar_value(struct parser *p, const char *what, yaml_node_t *n)
{
	const char *v;
	size_t len;

	if (!expect_type(p, what, n, YAML_SCALAR_NODE, ""))
		return NULL;
	v = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (node_is_null(n) || len == 0) {
		perr(p, node_line(n), "%s has no value", what);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			perr(p, node_line(n), "%s contains a control character", what);
			return NULL;
		}
	}
	return v;
}

/*
 * The items of a list, or of a single value taken as a one-item list. At
 * most max are returned; one more is an error at its own line.
 */
static size_t list_items(struct parser *p, const char *what, yaml_node_t *n, yaml_node_t **items,
			 size_t max)
{
	yaml_node_item_t *it;
	size_t count = 0;

	if (node_is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		items[0] = n;
		return 1;
	}
	if (!expect_type(p, what, n, YAML_SEQUENCE_NODE, " or a single value"))
		return 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = node_at(p, *it);
		if (count == max) {
			perr(p, node_line(item), "%s: too many entries (at most %zu)", what, max);
			break;
		}
		items[count++] = item;
	}
	return count;
}

/* ---------------------------------------------------------------------- */
/* The parser: walking a mapping through a table of keys                  */

/* Stores one value at dst (a field of the object being filled). */
typedef void set_fn(struct parser *p, const char *what, yaml_node_t *val, void *dst);

struct key_spec {
	const char *name;
	set_fn *set;
	size_t off;    /* offset of dst in the object */
	bool required; /* the entry is dropped without a valid one */
};

#define KEYS_MAX 32

static const struct key_spec *find_key(struct parser *p, const char *section,
				       const struct key_spec *keys, size_t n_keys, yaml_node_t *k)
{
	char esc[80];
	const char *name;

	if (k->type != YAML_SCALAR_NODE) {
		perr(p, node_line(k), "a key %s%s is %s, not a name", section ? "in " : "at ",
		     section ? section : "top level", node_kind(k));
		return NULL;
	}
	name = (const char *)k->data.scalar.value;
	for (size_t i = 0; i < n_keys && strlen(name) == k->data.scalar.length; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	log_escape(esc, sizeof(esc), name, k->data.scalar.length);
	perr(p, node_line(k), "unknown key '%s' %s%s", esc, section ? "in " : "at ",
	     section ? section : "top level");
	return NULL;
}

/*
 * Applies every key of map to obj. Reports unknown, duplicate and missing
 * keys. lines (optional, n_keys long) receives where each key was given.
 * Returns whether every required key was given and valid.
 */
static bool walk_mapping(struct parser *p, yaml_node_t *map, const char *section,
			 const struct key_spec *keys, size_t n_keys, void *obj, int *lines)
{
	int first[KEYS_MAX] = {0};
	bool bad[KEYS_MAX] = {false}, ok = true;
	yaml_node_pair_t *pair;
	char what[96];

	if (n_keys > KEYS_MAX)
		fatal("config: a key table is longer than KEYS_MAX");
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key), *v = node_at(p, pair->value);
		const struct key_spec *spec = find_key(p, section, keys, n_keys, k);
		size_t i, before = p->n_errors;

		if (spec == NULL)
			continue;
		i = (size_t)(spec - keys);
		if (first[i] != 0) {
			perr(p, node_line(k), "duplicate key '%s' %s%s (first at line %d)",
			     spec->name, section ? "in " : "at ", section ? section : "top level",
			     first[i]);
			continue;
		}
		first[i] = node_line(k);
		snprintf(what, sizeof(what), "%s%s%s", section ? section : "", section ? "." : "",
			 spec->name);
		spec->set(p, what, v, (char *)obj + spec->off);
		bad[i] = p->n_errors != before;
	}
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i].required && first[i] == 0)
			perr(p, node_line(map), "%s entry is missing '%s'", section, keys[i].name);
		if (keys[i].required && (first[i] == 0 || bad[i]))
			ok = false;
		if (lines != NULL)
			lines[i] = first[i];
	}
	return ok;
}

/*
 * A list of mappings, each an entry of a table capped at max. An entry is
 * walked zeroed in the caller's scratch space, with its line set; then add()
 * takes it (and counts it), or, with no add(), it is copied to base[*count].
 * An entry missing a required key, or that add() refuses, is cleared.
 */
struct list_spec {
	const char *each;     /* "each entry of subnets", for an entry that is not a mapping */
	const char *hint;     /* the shape an entry should have */
	const char *section;  /* where walk_mapping() reports keys */
	const char *too_many; /* "too many subnets", reported at the first entry past max */
	size_t max;
	const struct key_spec *keys;
	size_t n_keys;
	size_t size;	 /* of one entry */
	size_t line_off; /* offset of the entry's int line */
	/* clean: the walk reported no error. Returns whether it took the entry. */
	bool (*add)(struct parser *p, void *entry, const int *lines, bool clean, void *ctx);
	void (*clear)(void *entry); /* frees what a dropped entry holds */
};

/* The fields of a list_spec that follow from the entry type and its keys. */
#define LIST_ENTRIES(sect, type, key_table)                                                        \
	.section = (sect), .keys = (key_table), .n_keys = PXED_ARRAY_LEN(key_table),               \
	.size = sizeof(type), .line_off = offsetof(type, line)

static void walk_list(struct parser *p, const char *what, yaml_node_t *val,
		      const struct list_spec *ls, void *entry, void *base, size_t *count, void *ctx)
{
	yaml_node_item_t *it;

	if (node_is_null(val) || !expect_type(p, what, val, YAML_SEQUENCE_NODE, ""))
		return;
	for (it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = node_at(p, *it);
		int lines[KEYS_MAX], line = node_line(item);
		size_t before = p->n_errors;
		bool kept;

		if (*count == ls->max) {
			perr(p, line, "%s (at most %zu)", ls->too_many, ls->max);
			return;
		}
		if (!expect_type(p, ls->each, item, YAML_MAPPING_NODE, ls->hint))
			continue;
		memset(entry, 0, ls->size);
		memcpy((char *)entry + ls->line_off, &line, sizeof(line));
		kept = walk_mapping(p, item, ls->section, ls->keys, ls->n_keys, entry, lines);
		if (kept && ls->add != NULL)
			kept = ls->add(p, entry, lines, p->n_errors == before, ctx);
		else if (kept)
			memcpy((char *)base + (*count)++ * ls->size, entry, ls->size);
		if (!kept && ls->clear != NULL)
			ls->clear(entry);
	}
}

/* ---------------------------------------------------------------------- */
/* The parser: single values                                              */

static void replace_str(char **dst, char *s)
{
	free(*dst);
	*dst = s;
}

/* Relative paths are taken from the directory the config file is in. */
static char *resolve_path(const char *base, const char *s)
{
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	if (s[0] == '/')
		return xstrdup(s);
	if (s[0] == '\0' || strcmp(s, ".") == 0)
		return xstrdup(base);
	return xasprintf("%s%s%s", base, strcmp(base, "/") == 0 ? "" : "/", s);
}

static void set_path(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s != NULL)
		replace_str(dst, resolve_path(p->base_dir, s));
}

static void set_string(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s != NULL)
		replace_str(dst, xstrdup(s));
}

static void set_hostname(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (!hostname_valid(s)) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a valid name (letters, digits and '-', in labels "
		     "separated by '.')",
		     what, s);
		return;
	}
	replace_str(dst, xstrdup(s));
}

static void set_cmdline(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (strlen(s) >= CONF_MAX_CMDLINE) {
		perr(p, node_line(val), "%s is %zu bytes long (at most %d)", what, strlen(s),
		     CONF_MAX_CMDLINE - 1);
		return;
	}
	replace_str(dst, xstrdup(s));
}

static void set_ip(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s != NULL && ip4_parse(s, dst) < 0)
		perr(p, node_line(val), "%s: '" ECHO "' is not an IPv4 address", what, s);
}

static void set_port(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	uint64_t v;
	int rc;

	if (s == NULL)
		return;
	rc = parse_u64(s, 1, 65535, &v);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (1-65535)", what, s);
	else if (rc < 0)
		perr(p, node_line(val), "%s: '" ECHO "' is not a number", what, s);
	else
		*(uint16_t *)dst = (uint16_t)v;
}

static void set_duration(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	int rc;

	if (s == NULL)
		return;
	rc = parse_duration(s, dst);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (60s to 365d)", what, s);
	else if (rc < 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a duration (seconds, or a number with s, m, h or d)",
		     what, s);
}

static void set_mac(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	uint8_t mac[6];

	if (s == NULL)
		return;
	if (mac_parse(s, mac) < 0) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a MAC address (like 52:54:00:aa:00:01)", what, s);
		return;
	}
	/* Bit 0 of the first octet marks group addresses; no NIC has one. */
	if ((mac[0] & 1) != 0 || memcmp(mac, "\0\0\0\0\0\0", 6) == 0) {
		perr(p, node_line(val), "%s: %s is not the address of a network card", what, s);
		return;
	}
	memcpy(dst, mac, 6);
}

static void set_dhcp_mode(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	p->c->lines.dhcp_mode = node_line(val);
	for (size_t i = 0; i < PXED_ARRAY_LEN(dhcp_mode_names); i++) {
		if (strcmp(s, dhcp_mode_names[i]) == 0) {
			*(enum conf_dhcp_mode *)dst = (enum conf_dhcp_mode)i;
			return;
		}
	}
	perr(p, node_line(val), "%s: '" ECHO "' is not one of server, proxy, off", what, s);
}

/* An unsigned number in [min, max]; false after an error. */
static bool parse_uint(struct parser *p, const char *what, yaml_node_t *val, uint64_t min,
		       uint64_t max, uint64_t *v)
{
	const char *s = scalar_value(p, what, val);
	int rc;

	if (s == NULL)
		return false;
	rc = parse_u64(s, min, max, v);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (%llu-%llu)", what, s,
		     (unsigned long long)min, (unsigned long long)max);
	else if (rc < 0)
		perr(p, node_line(val), "%s: '" ECHO "' is not a number", what, s);
	return rc == 0;
}

static void set_u32(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 0, UINT32_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

/* Only the two words: "yes", "on" or "1" are too easily something else. */
static void set_bool(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (strcmp(s, "true") == 0)
		*(bool *)dst = true;
	else if (strcmp(s, "false") == 0)
		*(bool *)dst = false;
	else
		perr(p, node_line(val), "%s: '" ECHO "' is not true or false", what, s);
}

/* Text that is sent in a DHCP option: at most 255 bytes. */
static void set_option_text(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (strlen(s) > 255) {
		perr(p, node_line(val), "%s is %zu bytes long (at most 255)", what, strlen(s));
		return;
	}
	replace_str(dst, xstrdup(s));
}

static void set_ifname(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (!ifname_valid(s)) {
		perr(p, node_line(val), "%s: '" ECHO "' is not an interface name", what, s);
		return;
	}
	replace_str(dst, xstrdup(s));
}

static bool parse_mac_prefix(struct parser *p, const char *what, yaml_node_t *val,
			     uint8_t prefix[6], size_t *len)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return false;
	if (mac_prefix_parse(s, prefix, len) < 0) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a MAC prefix (1 to 6 bytes, like b8:27:eb)", what, s);
		return false;
	}
	return true;
}

/* Registry numbers go up to 41 today; names are looked up below this. */
#define ARCH_NAME_SCAN 256
/* Codes one name may stand for ("efi-x64" is 7 and 9, PXE-NOTES.md). */
#define ARCH_NAME_CODES 4

/*
 * An architecture: a number 0-65535, or a name from the IANA table
 * (boot_arch_name) standing for every code that has it. Returns how many
 * codes were written to codes[], 0 after an error.
 */
static size_t parse_arch(struct parser *p, const char *what, yaml_node_t *val,
			 uint16_t codes[ARCH_NAME_CODES])
{
	const char *s = scalar_value(p, what, val);
	size_t n = 0;
	uint64_t v;
	int rc;

	if (s == NULL)
		return 0;
	rc = parse_u64(s, 0, UINT16_MAX, &v);
	if (rc == 0) {
		codes[0] = (uint16_t)v;
		return 1;
	}
	if (rc == -ERANGE) {
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (0-65535)", what, s);
		return 0;
	}
	/* boot_arch_name() calls every code it lacks "unknown": not a name. */
	for (unsigned a = 0; strcmp(s, "unknown") != 0 && a < ARCH_NAME_SCAN; a++)
		if (strcmp(boot_arch_name((uint16_t)a), s) == 0 && n < ARCH_NAME_CODES)
			codes[n++] = (uint16_t)a;
	if (n == 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not an architecture (a number 0-65535 or a name like "
		     "efi-x64)",
		     what, s);
	return n;
}

/* ---------------------------------------------------------------------- */
/* The parser: DHCP options                                               */

/* A list value is joined into one text; longer than this is a mistake. */
#define OPTION_TEXT_MAX 16384

/* The definition an option key names, or NULL after an error. */
static const struct dhcp_optdef *option_def(struct parser *p, const char *what, yaml_node_t *k)
{
	const char *name = scalar_value(p, "an option name", k);
	const struct dhcp_optdef *def;
	char lb[DHCP_OPTDEF_LABEL_MAX];

	if (name == NULL)
		return NULL;
	def = dhcp_optdef_by_name(name);
	if (def == NULL) {
		perr(p, node_line(k),
		     "%s: unknown option '" ECHO "' (a name from docs/config.md, or a number "
		     "1-254)",
		     what, name);
		return NULL;
	}
	if (def->flags & DHCP_OPTF_MANAGED) {
		perr(p, node_line(k), "%s: option %s (%u) is set by pxed itself%s%s", what,
		     dhcp_optdef_label(def, lb), def->code, def->hint ? "; " : "",
		     def->hint ? def->hint : "");
		return NULL;
	}
	return def;
}

/* A single value, or the items of a list joined by ", "; NULL after an error. */
static char *option_text(struct parser *p, const char *what, const struct dhcp_optdef *def,
			 yaml_node_t *v)
{
	yaml_node_item_t *it;
	char *text;
	size_t len = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		const char *s = scalar_value(p, what, v);
		return s != NULL ? xstrdup(s) : NULL;
	}
	if (!(def->flags & DHCP_OPTF_LIST)) {
		perr(p, node_line(v), "%s takes a single value, not a list", what);
		return NULL;
	}
	text = xstrdup("");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const char *s = scalar_value(p, what, node_at(p, *it));
		if (s == NULL || len + strlen(s) > OPTION_TEXT_MAX) {
			if (s != NULL)
				perr(p, node_line(v), "%s: the list is too long", what);
			free(text);
			return NULL;
		}
		text = xrealloc(text, len + strlen(s) + 3);
		len += (size_t)sprintf(text + len, "%s%s", len ? ", " : "", s);
	}
	return text;
}

static void add_option(struct parser *p, const char *section, const struct dhcp_optdef *def,
		       yaml_node_t *k, yaml_node_t *v, struct conf_options *set)
{
	uint8_t buf[CONF_MAX_OPTION_LEN];
	char what[160], why[DHCP_OPTDEF_WHY_MAX], *text;
	struct conf_option *o;
	int n;

	snprintf(what, sizeof(what), "%s.%.60s", section, (const char *)k->data.scalar.value);
	text = option_text(p, what, def, v);
	if (text == NULL)
		return;
	n = dhcp_optdef_parse(def, text, buf, sizeof(buf), why, sizeof(why));
	free(text);
	if (n < 0) {
		perr(p, node_line(v), "%s: %s", what, why);
		return;
	}
	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	o = &set->v[set->n++];
	o->code = def->code;
	o->len = (uint16_t)n;
	o->data = xrealloc(NULL, (size_t)n + 1);
	memcpy(o->data, buf, (size_t)n);
	o->line = node_line(k);
}

/* `options:` at any level: a mapping of option name or number to value. */
static void set_options(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_options *set = dst;
	yaml_node_pair_t *pair;
	char lb[DHCP_OPTDEF_LABEL_MAX];

	if (node_is_null(val) || !expect_type(p, what, val, YAML_MAPPING_NODE, " (name: value)"))
		return;
	for (pair = val->data.mapping.pairs.start; pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);
		const struct dhcp_optdef *def = option_def(p, what, k);
		const struct conf_option *dup = def ? options_find(set, def->code) : NULL;

		if (def == NULL)
			continue;
		if (dup != NULL) {
			perr(p, node_line(k),
			     "%s: option %s (%u) is given twice (first at line %d)", what,
			     dhcp_optdef_label(def, lb), def->code, dup->line);
			continue;
		}
		if (set->n == CONF_MAX_OPTIONS) {
			perr(p, node_line(k), "%s: too many options (at most %d)", what,
			     CONF_MAX_OPTIONS);
			return;
		}
		add_option(p, what, def, k, node_at(p, pair->value), set);
	}
}

/* ---------------------------------------------------------------------- */
/* The parser: top-level settings                                         */

static void set_interfaces(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	yaml_node_t *items[CONF_MAX_INTERFACES];
	size_t n = list_items(p, what, val, items, CONF_MAX_INTERFACES);

	c->lines.interfaces = node_line(val);
	for (size_t i = 0; i < n; i++) {
		const char *s = scalar_value(p, what, items[i]);
		bool dup = false;

		if (s == NULL)
			continue;
		if (!ifname_valid(s)) {
			perr(p, node_line(items[i]), "%s: '" ECHO "' is not an interface name",
			     what, s);
			continue;
		}
		for (size_t j = 0; j < c->n_interfaces; j++)
			dup = dup || strcmp(c->interfaces[j], s) == 0;
		if (dup) {
			perr(p, node_line(items[i]), "%s: '%s' is listed twice", what, s);
			continue;
		}
		c->interfaces[c->n_interfaces++] = xstrdup(s);
	}
}

static void set_default_profile(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	p->c->lines.default_profile = node_line(val);
	set_string(p, what, val, dst);
}

static void set_tftp_root(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	p->c->lines.tftp_root = node_line(val);
	set_path(p, what, val, dst);
}

static void set_tftp_upload_dir(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	p->c->lines.tftp_upload_dir = node_line(val);
	set_path(p, what, val, dst);
}

static void set_state_dir(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	p->c->lines.state_dir = node_line(val);
	set_path(p, what, val, dst);
}

/* "65536", "512K", "64M", "1G" (or KiB, MiB, GiB): bytes, the units binary. */
static int parse_bytes(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"K", 10}, {"M", 20}, {"G", 30}};
	size_t len = strlen(s), ulen;
	unsigned shift = 0;
	char *num = xstrdup(s);
	uint64_t v;
	int rc;

	for (size_t i = 0; i < PXED_ARRAY_LEN(units); i++) {
		ulen = strlen(units[i].unit);
		if (len > ulen && strcmp(s + len - ulen, units[i].unit) == 0) {
			shift = units[i].shift;
			num[len - ulen] = '\0';
			break;
		}
	}
	rc = parse_u64(num, 0, UINT64_MAX >> shift, &v);
	free(num);
	if (rc < 0)
		return rc;
	v <<= shift;
	if (v < 1 || v > CONF_UPLOAD_MAX_LIMIT)
		return -ERANGE;
	*out = v;
	return 0;
}

static void set_bytes(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	int rc;

	if (s == NULL)
		return;
	rc = parse_bytes(s, dst);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (1 byte to 1024G)", what,
		     s);
	else if (rc < 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a size (bytes, or a number with K, M or G)", what, s);
}

static void set_http_root(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	p->c->lines.http_root = node_line(val);
	set_path(p, what, val, dst);
}

/* TFTP and HTTP share one bind address; it may be given in either section. */
static void set_listen(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint32_t ip;
	size_t before = p->n_errors;

	set_ip(p, what, val, &ip);
	if (p->n_errors != before)
		return;
	if (p->listen_line != 0 && ip != *(uint32_t *)dst) {
		perr(p, node_line(val),
		     "%s differs from %s (line %d); TFTP and HTTP share one listen address", what,
		     p->listen_what, p->listen_line);
		return;
	}
	*(uint32_t *)dst = ip;
	p->listen_line = node_line(val);
	p->listen_what = strncmp(what, "tftp", 4) == 0 ? "tftp.listen" : "http.listen";
}

/* A rate limit in packets a second: 0 (off) to one a microsecond. */
static void set_rate(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 0, CONF_RATE_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

/* tftp.max_transfers and tftp.max_per_client: 1 to 65536. */
static void set_transfer_cap(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 1, CONF_TFTP_MAX_TRANSFERS_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

static const struct key_spec dhcp_keys[] = {
    {"mode", set_dhcp_mode, offsetof(struct conf, dhcp_mode), false},
    {"lease_time", set_duration, offsetof(struct conf, lease_time_s), false},
    {"authoritative", set_bool, offsetof(struct conf, authoritative), false},
    {"max_leases", set_u32, offsetof(struct conf, max_leases), false},
    {"known_only", set_bool, offsetof(struct conf, dhcp_known_only), false},
    {"rate_per_mac", set_rate, offsetof(struct conf, dhcp_rate_per_mac), false},
    {"rate_per_source", set_rate, offsetof(struct conf, dhcp_rate_per_source), false},
    {"new_client_rate", set_rate, offsetof(struct conf, dhcp_new_client_rate), false},
};

static const struct key_spec tftp_keys[] = {
    {"rate_per_address", set_rate, offsetof(struct conf, tftp_rate_per_address), false},
    {"max_transfers", set_transfer_cap, offsetof(struct conf, tftp_max_transfers), false},
    {"max_per_client", set_transfer_cap, offsetof(struct conf, tftp_max_per_client), false},
    {"root", set_tftp_root, offsetof(struct conf, tftp_root), false},
    {"port", set_port, offsetof(struct conf, tftp_port), false},
    {"listen", set_listen, offsetof(struct conf, listen_address), false},
    {"upload_dir", set_tftp_upload_dir, offsetof(struct conf, tftp_upload_dir), false},
    {"upload_max_bytes", set_bytes, offsetof(struct conf, tftp_upload_max_bytes), false},
};

/* http.max_connections and http.max_connections_per_client: 1 to 65536. */
static void set_http_conn_cap(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 1, CONF_HTTP_MAX_CONNECTIONS_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

/* http.header_timeout and http.idle_timeout: 1 s to 1 h. */
static void set_http_timeout(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	int rc;

	if (s == NULL)
		return;
	rc = parse_duration_in(s, 1, CONF_HTTP_TIMEOUT_MAX, dst);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (1s to 1h)", what, s);
	else if (rc < 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a duration (seconds, or a number with s, m, h or d)",
		     what, s);
}

/* http.tls_cert and http.tls_key: paths, checked by check_http_tls. */
static void set_http_tls_file(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	if (strcmp(what, "http.tls_cert") == 0)
		p->c->http_tls_cert_line = node_line(val);
	else
		p->c->http_tls_key_line = node_line(val);
	set_path(p, what, val, dst);
}

static const struct key_spec http_keys[] = {
    {"max_connections", set_http_conn_cap, offsetof(struct conf, http_max_connections), false},
    {"max_connections_per_client", set_http_conn_cap, offsetof(struct conf, http_max_per_client),
     false},
    {"header_timeout", set_http_timeout, offsetof(struct conf, http_header_timeout_s), false},
    {"idle_timeout", set_http_timeout, offsetof(struct conf, http_idle_timeout_s), false},
    {"rate_per_address", set_rate, offsetof(struct conf, http_rate_per_address), false},
    {"root", set_http_root, offsetof(struct conf, http_root), false},
    {"port", set_port, offsetof(struct conf, http_port), false},
    {"listen", set_listen, offsetof(struct conf, listen_address), false},
    {"tls_cert", set_http_tls_file, offsetof(struct conf, http_tls_cert), false},
    {"tls_key", set_http_tls_file, offsetof(struct conf, http_tls_key), false},
    {"tls_port", set_port, offsetof(struct conf, http_tls_port), false},
};

static const struct key_spec nbp_dir_keys[] = {
    {"ipxe", set_path, offsetof(struct conf, nbp_dir_ipxe), false},
    {"pxelinux", set_path, offsetof(struct conf, nbp_dir_pxelinux), false},
    {"syslinux", set_path, offsetof(struct conf, nbp_dir_syslinux), false},
};

/* A section is a mapping of its own keys; an empty one (`tftp:`) is allowed. */
static void walk_section(struct parser *p, const char *what, yaml_node_t *val,
			 const struct key_spec *keys, size_t n_keys, void *obj)
{
	if (node_is_null(val) || !expect_type(p, what, val, YAML_MAPPING_NODE, " (key: value)"))
		return;
	walk_mapping(p, val, what, keys, n_keys, obj, NULL);
}

static void set_dhcp(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, dhcp_keys, PXED_ARRAY_LEN(dhcp_keys), dst);
}

static void set_tftp(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, tftp_keys, PXED_ARRAY_LEN(tftp_keys), dst);
}

static void set_http(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, http_keys, PXED_ARRAY_LEN(http_keys), dst);
}

static void set_nbp_dirs(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, nbp_dir_keys, PXED_ARRAY_LEN(nbp_dir_keys), dst);
}

/* rogue.probe_interval: 0 turns the probe off; otherwise 5 s to 1 d. */
static void set_probe_interval(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	uint32_t v;
	int rc;

	if (s == NULL)
		return;
	rc = parse_duration_in(s, 0, CONF_ROGUE_PROBE_MAX_S, &v);
	if (rc == 0 && v != 0 && v < CONF_ROGUE_PROBE_MIN_S)
		rc = -ERANGE;
	if (rc == -ERANGE)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is out of range (0 to turn the probe off, or 5s to 1d)", what,
		     s);
	else if (rc < 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a duration (seconds, or a number with s, m, h or d)",
		     what, s);
	else
		*(uint32_t *)dst = v;
}

/*
 * security.user: a POSIX portable user name (letters, digits, '.', '_',
 * '-', not starting with '-'), at most 32 bytes as useradd allows. Whether
 * the account exists is checked when the daemon starts, not here: the
 * config may be checked on another machine.
 */
static void set_user(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	bool ok = n > 0 && n <= 32 && s[0] != '-';
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-';
	if (!ok) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a user name (letters, digits, '.', '_' and '-', "
		     "at most 32)",
		     what, s);
		return;
	}
	struct conf *c = dst;
	replace_str(&c->user, xstrdup(s));
	c->lines.user = node_line(val);
}

static const struct key_spec security_keys[] = {
    {"user", set_user, 0, false}, /* the conf itself: the line is kept too */
    {"landlock", set_bool, offsetof(struct conf, landlock), false},
    {"seccomp", set_bool, offsetof(struct conf, seccomp), false},
};

static void set_security(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, security_keys, PXED_ARRAY_LEN(security_keys), dst);
}

static void set_api_token_file(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	set_path(p, what, val, &p->c->api_token_file);
	p->c->lines.api_token_file = node_line(val);
}

static const struct key_spec api_keys[] = {
    {"listen", set_ip, offsetof(struct conf, api_address), false},
    {"port", set_port, offsetof(struct conf, api_port), false},
    {"token_file", set_api_token_file, 0, false},
};

static void set_api(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, api_keys, PXED_ARRAY_LEN(api_keys), dst);
}

static const struct key_spec rogue_keys[] = {
    {"detect", set_bool, offsetof(struct conf, rogue_detect), false},
    {"probe_interval", set_probe_interval, offsetof(struct conf, rogue_probe_interval_s), false},
};

static void set_rogue(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, rogue_keys, PXED_ARRAY_LEN(rogue_keys), dst);
}

/* events.retention: 1 h to 3650 d. */
static void set_events_retention(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);
	int rc;

	if (s == NULL)
		return;
	rc = parse_duration_in(s, CONF_EVENTS_RETENTION_MIN_S, CONF_EVENTS_RETENTION_MAX_S, dst);
	if (rc == -ERANGE)
		perr(p, node_line(val), "%s: '" ECHO "' is out of range (1h to 3650d)", what, s);
	else if (rc < 0)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not a duration (seconds, or a number with s, m, h or d)",
		     what, s);
}

static void set_events_per_machine(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, CONF_EVENTS_PER_MACHINE_MIN, CONF_EVENTS_PER_MACHINE_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

static void set_events_total(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, CONF_EVENTS_TOTAL_MIN, CONF_EVENTS_TOTAL_MAX, &v))
		*(uint32_t *)dst = (uint32_t)v;
}

static const struct key_spec events_keys[] = {
    {"retention", set_events_retention, offsetof(struct conf, events_retention_s), false},
    {"max_per_machine", set_events_per_machine, offsetof(struct conf, events_max_per_machine),
     false},
    {"max_total", set_events_total, offsetof(struct conf, events_max_total), false},
};

static void set_events(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	walk_section(p, what, val, events_keys, PXED_ARRAY_LEN(events_keys), dst);
}

/* ---------------------------------------------------------------------- */
/* The parser: subnets                                                    */

static void set_cidr(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_subnet *sn = dst;
	const char *s = scalar_value(p, what, val), *slash;
	char addr[16], net[16];
	uint32_t ip;
	uint64_t len;
	int rc;

	if (s == NULL)
		return;
	slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		goto syntax;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ip4_parse(addr, &ip) < 0)
		goto syntax;
	rc = parse_u64(slash + 1, 1, 32, &len);
	if (rc == -ERANGE) {
		perr(p, node_line(val), "%s: prefix length in '" ECHO "' is out of range (1-32)",
		     what, s);
		return;
	}
	if (rc < 0)
		goto syntax;
	if ((ip & ~prefix_mask((int)len)) != 0) {
		perr(p, node_line(val), "%s: '%s' has host bits set (did you mean %s/%d?)", what, s,
		     ip4_format(net, ip & prefix_mask((int)len)), (int)len);
		return;
	}
	sn->network = ip;
	sn->prefix_len = (int)len;
	return;
syntax:
	perr(p, node_line(val), "%s: '" ECHO "' is not a subnet (like 10.77.0.0/24)", what, s);
}

/* One end of a range, spaces around it allowed: "10.0.0.1 - 10.0.0.9". */
static int parse_range_end(const char *s, size_t len, uint32_t *ip)
{
	char buf[16];

	while (len > 0 && s[0] == ' ')
		s++, len--;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return ip4_parse(buf, ip);
}

static void set_pool(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_subnet *sn = dst;
	const char *s = scalar_value(p, what, val), *dash;
	uint32_t first, last;

	if (s == NULL)
		return;
	dash = strchr(s, '-');
	if (dash == NULL || parse_range_end(s, (size_t)(dash - s), &first) < 0 ||
	    parse_range_end(dash + 1, strlen(dash + 1), &last) < 0) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' is not an address range (like 10.77.0.100-10.77.0.199)", what,
		     s);
		return;
	}
	sn->pool_first = first;
	sn->pool_last = last;
}

static const char *const unknown_names[] = {
    [CONF_UNKNOWN_BOOT] = "boot",
    [CONF_UNKNOWN_IGNORE] = "ignore",
    [CONF_UNKNOWN_DISCOVER] = "discover",
};

const char *conf_unknown_name(enum conf_unknown u)
{
	return (size_t)u < PXED_ARRAY_LEN(unknown_names) ? unknown_names[u] : "?";
}

static void set_unknown(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	for (size_t i = 0; i < PXED_ARRAY_LEN(unknown_names); i++) {
		if (strcmp(s, unknown_names[i]) == 0) {
			*(enum conf_unknown *)dst = (enum conf_unknown)i;
			return;
		}
	}
	perr(p, node_line(val), "%s: '" ECHO "' is not one of boot, ignore, discover", what, s);
}

static void set_dns(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_subnet *sn = dst;
	yaml_node_t *items[CONF_MAX_DNS];
	size_t n = list_items(p, what, val, items, CONF_MAX_DNS);

	sn->n_dns = 0;
	for (size_t i = 0; i < n; i++) {
		size_t before = p->n_errors;
		set_ip(p, what, items[i], &sn->dns[sn->n_dns]);
		if (p->n_errors == before)
			sn->n_dns++;
	}
}

static const struct key_spec subnet_keys[] = {
    {"subnet", set_cidr, 0, true},
    {"pool", set_pool, 0, false},
    {"router", set_ip, offsetof(struct conf_subnet, router), false},
    {"dns", set_dns, 0, false},
    {"domain", set_hostname, offsetof(struct conf_subnet, domain), false},
    {"lease_time", set_duration, offsetof(struct conf_subnet, lease_time_s), false},
    {"max_leases", set_u32, offsetof(struct conf_subnet, max_leases), false},
    {"unknown", set_unknown, offsetof(struct conf_subnet, unknown), false},
    {"options", set_options, offsetof(struct conf_subnet, options), false},
};

static void subnet_clear(void *entry)
{
	struct conf_subnet *sn = entry;

	free(sn->domain);
	options_clear(&sn->options);
}

static const struct list_spec subnet_list = {
    .each = "each entry of subnets",
    .hint = " (subnet: ..., pool: ...)",
    .too_many = "too many subnets",
    .max = CONF_MAX_SUBNETS,
    LIST_ENTRIES("subnet", struct conf_subnet, subnet_keys),
    .clear = subnet_clear,
};

static void set_subnets(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	struct conf_subnet sn;

	walk_list(p, what, val, &subnet_list, &sn, c->subnets, &c->n_subnets, NULL);
}

/* ---------------------------------------------------------------------- */
/* The parser: profiles                                                   */

static void set_initrds(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_profile *pr = dst;
	yaml_node_t *items[CONF_MAX_INITRDS];
	size_t n = list_items(p, what, val, items, CONF_MAX_INITRDS);

	profile_clear_initrds(pr);
	for (size_t i = 0; i < n; i++) {
		const char *s = scalar_value(p, what, items[i]);
		if (s != NULL)
			pr->initrds[pr->n_initrds++] = resolve_path(p->base_dir, s);
	}
}

static void set_initrd(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_profile *pr = dst;
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	profile_clear_initrds(pr);
	pr->initrds[pr->n_initrds++] = resolve_path(p->base_dir, s);
}

/*
 * A boot program's name in the virtual tree. It goes into the BOOTP file
 * field (128 bytes) and into URLs unescaped, so only plain names: letters,
 * digits, '.', '_', '-' and '+', in components separated by '/', none of
 * them empty, "." or "..".
 */
static bool program_file_valid(const char *s)
{
	size_t len = strlen(s), comp = 0;

	if (len == 0 || len > CONF_MAX_PROGRAM_NAME)
		return false;
	for (const char *q = s;; q++) {
		if (*q == '/' || *q == '\0') {
			if (comp == 0 || (comp == 1 && q[-1] == '.') ||
			    (comp == 2 && q[-1] == '.' && q[-2] == '.'))
				return false;
			if (*q == '\0')
				return true;
			comp = 0;
		} else if (isalnum((unsigned char)*q) || strchr("._-+", *q) != NULL) {
			comp++;
		} else {
			return false;
		}
	}
}

/* The first code named name in policy.c's table, or -1 ("unknown" is no name). */
static int program_arch(const char *name)
{
	for (unsigned a = 0; strcmp(name, "unknown") != 0 && a < ARCH_NAME_SCAN; a++)
		if (strcmp(boot_arch_name((uint16_t)a), name) == 0)
			return (int)a;
	return -1;
}

/* One `arch: file` pair of programs; false when it is refused. */
static bool parse_program(struct parser *p, const char *what, yaml_node_t *k, yaml_node_t *v,
			  struct conf_program *out)
{
	const char *name = scalar_value(p, what, k), *file;
	int arch;

	if (name == NULL)
		return false;
	arch = program_arch(name);
	if (arch < 0) {
		perr(p, node_line(k),
		     "%s: '" ECHO "' is not an architecture name (bios, efi-ia32, efi-x64, "
		     "efi-arm64, efi-x64-http... as in docs/config.md)",
		     what, name);
		return false;
	}
	file = scalar_value(p, what, v);
	if (file == NULL)
		return false;
	if (!program_file_valid(file)) {
		perr(p, node_line(v),
		     "%s: %s: '" ECHO "' is not a file name pxed serves (letters, digits, '.', "
		     "'_', '-', '+' and '/' between names; at most %d bytes, no '..')",
		     what, name, file, CONF_MAX_PROGRAM_NAME);
		return false;
	}
	*out = (struct conf_program){
	    .arch = (uint16_t)arch, .file = xstrdup(file), .line = node_line(k)};
	return true;
}

/* programs: {bios: pxelinux.0, efi-x64: grubnetx64.efi}, one per architecture name. */
static void set_programs(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_profile *pr = dst;
	yaml_node_pair_t *pair;

	profile_clear_programs(pr);
	if (node_is_null(val) ||
	    !expect_type(p, what, val, YAML_MAPPING_NODE, " (bios: pxelinux.0, ...)"))
		return;
	for (pair = val->data.mapping.pairs.start; pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);
		struct conf_program prog;
		const struct conf_program *dup = NULL;

		if (!parse_program(p, what, k, node_at(p, pair->value), &prog))
			continue;
		for (size_t i = 0; i < pr->n_programs && dup == NULL; i++)
			if (pr->programs[i].arch == prog.arch)
				dup = &pr->programs[i];
		if (dup != NULL)
			perr(p, prog.line, "%s: %s is given twice (first at line %d)", what,
			     boot_arch_name(prog.arch), dup->line);
		else if (pr->n_programs == CONF_MAX_PROGRAMS)
			perr(p, prog.line, "%s: too many entries (at most %d)", what,
			     CONF_MAX_PROGRAMS);
		if (dup != NULL || pr->n_programs == CONF_MAX_PROGRAMS) {
			free(prog.file);
			continue;
		}
		pr->programs[pr->n_programs++] = prog;
	}
}

/* ---------------------------------------------------------------------- */
/* The parser: templates and their variables (boot/template.h)            */

/* One `name: value` of vars:; false when it is refused. */
static bool parse_var(struct parser *p, const char *what, yaml_node_t *k, yaml_node_t *v,
		      struct conf_var *out)
{
	const char *name = scalar_value(p, what, k), *value;

	if (name == NULL)
		return false;
	if (!tmpl_name_valid(name, strlen(name))) {
		perr(p, node_line(k),
		     "%s: '" ECHO "' is not a variable name (a-z, 0-9 and '_', not starting "
		     "with a digit; at most %d bytes)",
		     what, name, TMPL_MAX_NAME);
		return false;
	}
	if (boot_template_var_known(name, strlen(name))) {
		perr(p, node_line(k), "%s: '%s' is a built-in variable (docs/config.md, Templates)",
		     what, name);
		return false;
	}
	/* An empty value is a value: {{#if name}} tells it apart. */
	if (node_is_null(v) || (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0))
		value = "";
	else
		value = scalar_value(p, what, v);
	if (value == NULL)
		return false;
	if (strlen(value) > CONF_MAX_VAR_VALUE) {
		perr(p, node_line(v), "%s: %s is %zu bytes long (at most %d)", what, name,
		     strlen(value), CONF_MAX_VAR_VALUE);
		return false;
	}
	*out =
	    (struct conf_var){.name = xstrdup(name), .value = xstrdup(value), .line = node_line(k)};
	return true;
}

/* vars: {name: value, ...}, at most CONF_MAX_VARS, each name once. */
static void set_vars(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_vars *vars = dst;
	yaml_node_pair_t *pair;

	vars_clear(vars);
	if (node_is_null(val) ||
	    !expect_type(p, what, val, YAML_MAPPING_NODE, " (name: value, ...)"))
		return;
	/* Sized to the mapping: 65536 hosts may each have a few. */
	size_t n_pairs = (size_t)(val->data.mapping.pairs.top - val->data.mapping.pairs.start);
	if (n_pairs == 0)
		return;
	vars->v =
	    xrealloc(NULL, (n_pairs < CONF_MAX_VARS ? n_pairs : CONF_MAX_VARS) * sizeof(*vars->v));
	for (pair = val->data.mapping.pairs.start; pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);
		struct conf_var var;
		const struct conf_var *dup = NULL;

		if (!parse_var(p, what, k, node_at(p, pair->value), &var))
			continue;
		for (size_t i = 0; i < vars->n && dup == NULL; i++)
			if (strcmp(vars->v[i].name, var.name) == 0)
				dup = &vars->v[i];
		if (dup != NULL)
			perr(p, var.line, "%s: %s is given twice (first at line %d)", what,
			     var.name, dup->line);
		else if (vars->n == CONF_MAX_VARS)
			perr(p, var.line, "%s: too many entries (at most %d)", what, CONF_MAX_VARS);
		if (dup != NULL || vars->n == CONF_MAX_VARS) {
			free(var.name);
			free(var.value);
			continue;
		}
		vars->v[vars->n++] = var;
	}
}

/*
 * A templates: file name: it becomes the last component of
 * install/<mac>/<name>, so a plain name: letters, digits, '.', '_', '-',
 * not starting with '.'.
 */
static bool template_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONF_MAX_TEMPLATE_NAME || s[0] == '.')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	return true;
}

/* templates: {ks.cfg: /etc/pxed/ks.tmpl, ipxe: ...}; files are read at the end of the load. */
static void set_templates(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_profile *pr = dst;
	yaml_node_pair_t *pair;

	profile_clear_templates(pr);
	if (node_is_null(val) ||
	    !expect_type(p, what, val, YAML_MAPPING_NODE, " (ks.cfg: /etc/pxed/ks.tmpl, ...)"))
		return;
	pr->templates = xrealloc(NULL, CONF_MAX_TEMPLATES * sizeof(*pr->templates));
	for (pair = val->data.mapping.pairs.start; pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);
		const char *name = scalar_value(p, what, k), *path;
		bool dup = false;

		if (name == NULL)
			continue;
		if (!template_name_valid(name)) {
			perr(p, node_line(k),
			     "%s: '" ECHO "' is not a file name (letters, digits, '.', '_' and "
			     "'-', not starting with '.'; at most %d bytes)",
			     what, name, CONF_MAX_TEMPLATE_NAME);
			continue;
		}
		for (size_t i = 0; i < pr->n_templates && !dup; i++)
			dup = strcmp(pr->templates[i].name, name) == 0;
		if (dup)
			perr(p, node_line(k), "%s: %s is given twice", what, name);
		else if (pr->n_templates == CONF_MAX_TEMPLATES)
			perr(p, node_line(k), "%s: too many entries (at most %d)", what,
			     CONF_MAX_TEMPLATES);
		if (dup || pr->n_templates == CONF_MAX_TEMPLATES)
			continue;
		path = scalar_value(p, what, node_at(p, pair->value));
		if (path == NULL)
			continue;
		pr->templates[pr->n_templates++] =
		    (struct conf_template){.name = xstrdup(name),
					   .path = resolve_path(p->base_dir, path),
					   .line = node_line(k)};
	}
}

enum { PROFILE_KERNEL, PROFILE_INITRD, PROFILE_INITRDS, PROFILE_CMDLINE, PROFILE_PROGRAMS };

static const struct key_spec profile_keys[] = {
    [PROFILE_KERNEL] = {"kernel", set_path, offsetof(struct conf_profile, kernel), false},
    [PROFILE_INITRD] = {"initrd", set_initrd, 0, false},
    [PROFILE_INITRDS] = {"initrds", set_initrds, 0, false},
    [PROFILE_CMDLINE] = {"cmdline", set_cmdline, offsetof(struct conf_profile, cmdline), false},
    [PROFILE_PROGRAMS] = {"programs", set_programs, 0, false},
    {"vars", set_vars, offsetof(struct conf_profile, vars), false},
    {"templates", set_templates, 0, false},
};

/*
 * A profile is kept even when its keys are wrong, so that hosts naming it
 * are not reported as well; conf_validate() reports a missing kernel.
 */
static void parse_profile_named(struct parser *p, const char *name, int line, yaml_node_t *v)
{
	struct conf *c = p->c;
	struct conf_profile *pr = &c->profiles[c->n_profiles];
	int lines[PXED_ARRAY_LEN(profile_keys)];
	char what[96];

	if (!profile_name_valid(name)) {
		perr(p, line,
		     "profile name '" ECHO "' may only have letters, digits, '.', '_' and '-' "
		     "(at most 64, not starting with '.')",
		     name);
		return;
	}
	memset(pr, 0, sizeof(*pr));
	pr->name = xstrdup(name);
	pr->line = line;
	c->n_profiles++;
	snprintf(what, sizeof(what), "profile '%s'", name);
	if (node_is_null(v) ||
	    !expect_type(p, what, v, YAML_MAPPING_NODE, " (kernel: ..., initrd: ...)"))
		return;
	walk_mapping(p, v, "profile", profile_keys, PXED_ARRAY_LEN(profile_keys), pr, lines);
	if (lines[PROFILE_INITRD] != 0 && lines[PROFILE_INITRDS] != 0)
		perr(p,
		     lines[PROFILE_INITRD] > lines[PROFILE_INITRDS] ? lines[PROFILE_INITRD]
								    : lines[PROFILE_INITRDS],
		     "profile '%s': give either 'initrd' or 'initrds', not both", name);
}

static void parse_profile(struct parser *p, yaml_node_t *k, yaml_node_t *v)
{
	const char *name = scalar_value(p, "a profile name", k);

	if (name != NULL)
		parse_profile_named(p, name, node_line(k), v);
}

static void set_profiles(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	yaml_node_pair_t *pair;

	if (node_is_null(val) ||
	    !expect_type(p, what, val, YAML_MAPPING_NODE, " (name: {kernel: ...})"))
		return;
	for (pair = val->data.mapping.pairs.start; pair < val->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);

		if (c->n_profiles == CONF_MAX_PROFILES) {
			perr(p, node_line(k), "too many profiles (at most %d)", CONF_MAX_PROFILES);
			return;
		}
		parse_profile(p, k, node_at(p, pair->value));
	}
}

/* ---------------------------------------------------------------------- */
/* The parser: hosts                                                      */

static void set_host_mac(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_host *h = dst;
	size_t before = p->n_errors;

	set_mac(p, what, val, h->mac);
	h->has_mac = p->n_errors == before;
}

/* Option 61 as the client sends it: hex bytes, or text (RFC 2132 §9.14). */
static void set_client_id(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_host *h = dst;
	const char *s = scalar_value(p, what, val);
	char why[DHCP_OPTDEF_WHY_MAX];
	int n;

	if (s == NULL)
		return;
	n = dhcp_optdef_parse_opaque(s, h->client_id, sizeof(h->client_id), why, sizeof(why));
	if (n < 0)
		perr(p, node_line(val), "%s: %s", what, why);
	else if (n < 2)
		perr(p, node_line(val),
		     "%s: '" ECHO "' is 1 byte long; a client identifier has at least 2", what, s);
	else
		h->client_id_len = (size_t)n;
}

enum { HOST_MAC, HOST_CLIENT_ID };

static const struct key_spec host_keys[] = {
    [HOST_MAC] = {"mac", set_host_mac, 0, false},
    [HOST_CLIENT_ID] = {"client_id", set_client_id, 0, false},
    {"name", set_hostname, offsetof(struct conf_host, name), false},
    {"address", set_ip, offsetof(struct conf_host, address), false},
    {"profile", set_string, offsetof(struct conf_host, profile), false},
    {"cmdline", set_cmdline, offsetof(struct conf_host, cmdline), false},
    {"options", set_options, offsetof(struct conf_host, options), false},
    {"install", set_bool, offsetof(struct conf_host, install), false},
    {"vars", set_vars, offsetof(struct conf_host, vars), false},
};

/*
 * A host needs a MAC or a client identifier; one that gave either and got
 * it wrong is dropped (its error is already reported).
 */
static bool host_identified(struct parser *p, const struct conf_host *h, const int *lines)
{
	if (lines[HOST_MAC] == 0 && lines[HOST_CLIENT_ID] == 0) {
		perr(p, h->line, "host entry is missing 'mac' or 'client_id'");
		return false;
	}
	return (lines[HOST_MAC] == 0 || h->has_mac) &&
	       (lines[HOST_CLIENT_ID] == 0 || h->client_id_len > 0);
}

static void hosts_append(struct parser *p, const struct conf_host *h)
{
	struct conf *c = p->c;

	if (c->n_hosts == p->hosts_cap) {
		p->hosts_cap = p->hosts_cap == 0 ? 64 : p->hosts_cap * 2;
		c->hosts = xrealloc(c->hosts, p->hosts_cap * sizeof(*c->hosts));
	}
	c->hosts[c->n_hosts++] = *h;
}

static bool host_add(struct parser *p, void *entry, const int *lines, bool clean, void *ctx)
{
	if (!host_identified(p, entry, lines))
		return false;
	hosts_append(p, entry);
	return true;
}

static void host_drop(void *entry)
{
	host_clear(entry);
}

static const struct list_spec host_list = {
    .each = "each entry of hosts",
    .hint = " (mac: ..., profile: ...)",
    .too_many = "too many hosts",
    .max = CONF_MAX_HOSTS,
    LIST_ENTRIES("host", struct conf_host, host_keys),
    .add = host_add,
    .clear = host_drop,
};

static void set_hosts(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	struct conf_host h;

	walk_list(p, what, val, &host_list, &h, NULL, &c->n_hosts, NULL);
}

/* ---------------------------------------------------------------------- */
/* The parser: classes and architecture overrides                         */

static void set_match_arches(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_match *m = dst;
	yaml_node_t *items[CONF_MAX_CLASS_ARCHES];
	size_t n = list_items(p, what, val, items, CONF_MAX_CLASS_ARCHES);

	m->n_arches = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t codes[ARCH_NAME_CODES];
		size_t k = parse_arch(p, what, items[i], codes);
		for (size_t j = 0; j < k; j++) {
			bool dup = false;
			for (size_t x = 0; x < m->n_arches; x++)
				dup = dup || m->arches[x] == codes[j];
			if (dup) {
				perr(p, node_line(items[i]), "%s: architecture %u is listed twice",
				     what, codes[j]);
			} else if (m->n_arches == CONF_MAX_CLASS_ARCHES) {
				perr(p, node_line(items[i]), "%s: too many entries (at most %d)",
				     what, CONF_MAX_CLASS_ARCHES);
				return;
			} else {
				m->arches[m->n_arches++] = codes[j];
			}
		}
	}
}

static void set_match_mac_prefix(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_match *m = dst;

	if (!parse_mac_prefix(p, what, val, m->mac_prefix, &m->mac_prefix_len))
		m->mac_prefix_len = 0;
}

/* 0.0.0.0 means "any relay" inside the snapshot, so it cannot be written. */
static void set_relay(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	size_t before = p->n_errors;

	set_ip(p, what, val, dst);
	if (p->n_errors == before && *(uint32_t *)dst == 0)
		perr(p, node_line(val), "%s: 0.0.0.0 is not a relay address", what);
}

/*
 * RFC 4122 text, 8-4-4-4-12 hex digits in either case. The bytes are taken
 * in the order written, which is the order option 97 carries them and the
 * order pxed prints them (/api/v1/discovered): SMBIOS firmware sends the
 * first three fields little-endian, so dmidecode shows those reversed.
 */
static int uuid_parse(const char *s, uint8_t out[16])
{
	size_t n = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (size_t at = 0; at < 36;) {
		if (at == 8 || at == 13 || at == 18 || at == 23) {
			if (s[at++] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hex_digit(s[at]), lo = hi < 0 ? -1 : hex_digit(s[at + 1]);
		if (lo < 0 || n == 16)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		at += 2;
	}
	return n == 16 ? 0 : -EINVAL;
}

static void set_match_uuids(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_match *m = dst;
	yaml_node_t *items[CONF_MAX_CLASS_UUIDS];
	size_t n = list_items(p, what, val, items, CONF_MAX_CLASS_UUIDS);

	free(m->uuids);
	m->uuids = NULL;
	m->n_uuids = 0;
	if (n == 0)
		return;
	m->uuids = calloc(n, sizeof(*m->uuids));
	if (m->uuids == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = scalar_value(p, what, items[i]);
		uint8_t *u = m->uuids[m->n_uuids];
		bool dup = false;
		if (s == NULL)
			continue;
		if (uuid_parse(s, u) < 0) {
			perr(p, node_line(items[i]),
			     "%s: '" ECHO
			     "' is not a UUID (like 01234567-89ab-cdef-0123-456789abcdef)",
			     what, s);
			continue;
		}
		for (size_t x = 0; x < m->n_uuids; x++)
			dup = dup || memcmp(m->uuids[x], u, 16) == 0;
		if (dup)
			perr(p, node_line(items[i]), "%s: UUID %s is listed twice", what, s);
		else
			m->n_uuids++;
	}
}

static void set_match_subnets(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_match *m = dst;
	yaml_node_t *items[CONF_MAX_CLASS_SUBNETS];
	size_t n = list_items(p, what, val, items, CONF_MAX_CLASS_SUBNETS);

	m->n_subnets = 0;
	for (size_t i = 0; i < n; i++) {
		/* The subnets' own parser, so both read and refuse CIDRs alike. */
		struct conf_subnet sn = {0};
		size_t before = p->n_errors;
		set_cidr(p, what, items[i], &sn);
		if (p->n_errors != before)
			continue;
		m->subnets[m->n_subnets].network = sn.network;
		m->subnets[m->n_subnets].prefix_len = sn.prefix_len;
		m->n_subnets++;
	}
}

static const struct key_spec match_keys[] = {
    {"vendor_class", set_option_text, offsetof(struct conf_match, vendor_class_prefix), false},
    {"user_class", set_option_text, offsetof(struct conf_match, user_class), false},
    {"arch", set_match_arches, 0, false},
    {"mac_prefix", set_match_mac_prefix, 0, false},
    {"relay", set_relay, offsetof(struct conf_match, relay), false},
    {"interface", set_ifname, offsetof(struct conf_match, interface), false},
    {"uuid", set_match_uuids, 0, false},
    {"subnet", set_match_subnets, 0, false},
};

static void set_match(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_match *m = dst;
	size_t before = p->n_errors;

	if (!node_is_null(val)) {
		if (!expect_type(p, what, val, YAML_MAPPING_NODE,
				 " (vendor_class: ..., arch: ...)"))
			return;
		walk_mapping(p, val, what, match_keys, PXED_ARRAY_LEN(match_keys), m, NULL);
	}
	if (p->n_errors == before && match_is_empty(m))
		perr(p, node_line(val),
		     "%s needs at least one condition (vendor_class, user_class, arch, "
		     "mac_prefix, relay, interface, uuid or subnet)",
		     what);
}

/* Class names appear in logs and timelines: the same rule as profile names. */
static void set_class_name(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (!profile_name_valid(s)) {
		perr(p, node_line(val),
		     "%s: '" ECHO "' may only have letters, digits, '.', '_' and '-' (at most 64, "
		     "not starting with '.')",
		     what, s);
		return;
	}
	replace_str(dst, xstrdup(s));
}

static const struct key_spec class_keys[] = {
    {"name", set_class_name, offsetof(struct conf_class, name), true},
    {"match", set_match, offsetof(struct conf_class, match), true},
    {"options", set_options, offsetof(struct conf_class, options), false},
    {"profile", set_string, offsetof(struct conf_class, profile), false},
};

static void class_drop(void *entry)
{
	class_clear(entry);
}

static const struct list_spec class_list = {
    .each = "each entry of classes",
    .hint = " (name: ..., match: ...)",
    .too_many = "too many classes",
    .max = CONF_MAX_CLASSES,
    LIST_ENTRIES("class", struct conf_class, class_keys),
    .clear = class_drop,
};

static void set_classes(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	struct conf_class cl;

	walk_list(p, what, val, &class_list, &cl, c->classes, &c->n_classes, NULL);
}

static void set_override_mac_prefix(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf_arch_override *o = dst;

	if (!parse_mac_prefix(p, what, val, o->mac_prefix, &o->mac_prefix_len))
		o->mac_prefix_len = 0;
}

/* A name that stands for several codes ("efi-x64") means its first one. */
static void set_override_arch(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint16_t codes[ARCH_NAME_CODES];

	if (parse_arch(p, what, val, codes) > 0)
		*(uint16_t *)dst = codes[0];
}

static const struct key_spec override_keys[] = {
    {"mac_prefix", set_override_mac_prefix, 0, true},
    {"arch", set_override_arch, offsetof(struct conf_arch_override, arch), true},
};

static const struct list_spec override_list = {
    .each = "each entry of arch_overrides",
    .hint = " (mac_prefix: ..., arch: ...)",
    .too_many = "too many arch_overrides",
    .max = CONF_MAX_ARCH_OVERRIDES,
    LIST_ENTRIES("arch_override", struct conf_arch_override, override_keys),
};

static void set_arch_overrides(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	struct conf_arch_override o;

	walk_list(p, what, val, &override_list, &o, c->arch_overrides, &c->n_arch_overrides, NULL);
}

/* ---------------------------------------------------------------------- */
/* The parser: the PXE boot menu                                          */

/* Seconds the menu waits for a key when the file does not say. */
#define CONF_MENU_TIMEOUT_DEFAULT 10
/* PXE 2.1 §2.4.7.2: 0 is the local disk; the rest of this range is ours. */
#define CONF_MENU_TYPE_MAX 32767

/* An item while it is parsed: `local: true` is type 0 once it is kept. */
struct item_parse {
	struct conf_menu_item it;
	bool local;
};

static void set_menu_type(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 1, CONF_MENU_TYPE_MAX, &v))
		*(uint16_t *)dst = (uint16_t)v;
}

enum { ITEM_LABEL, ITEM_PROFILE, ITEM_LOCAL, ITEM_TYPE };

static const struct key_spec menu_item_keys[] = {
    [ITEM_LABEL] = {"label", set_option_text, offsetof(struct item_parse, it.label), true},
    [ITEM_PROFILE] = {"profile", set_string, offsetof(struct item_parse, it.profile), false},
    [ITEM_LOCAL] = {"local", set_bool, offsetof(struct item_parse, local), false},
    [ITEM_TYPE] = {"type", set_menu_type, offsetof(struct item_parse, it.type), false},
};

/* Either a profile or the local disk, and a local item has no type. */
static bool menu_item_complete(struct parser *p, const struct item_parse *ip, const int *lines)
{
	const char *label = ip->it.label;

	if (ip->local && lines[ITEM_PROFILE] != 0) {
		perr(p, lines[ITEM_PROFILE],
		     "pxe_menu item '%s': give either 'profile' or 'local: true', not both", label);
		return false;
	}
	if (!ip->local && lines[ITEM_PROFILE] == 0) {
		perr(p, ip->it.line, "pxe_menu item '%s' needs a 'profile' (or 'local: true')",
		     label);
		return false;
	}
	if (ip->local && lines[ITEM_TYPE] != 0) {
		perr(p, lines[ITEM_TYPE],
		     "pxe_menu item '%s': a local item is type 0; leave 'type' out", label);
		return false;
	}
	return true;
}

/* Items without a type get 1, 2, 3... in order, skipping types given explicitly. */
static void assign_menu_types(struct conf_pxe_menu *m, const bool *explicit_type)
{
	uint16_t next = 1;

	for (size_t i = 0; i < m->n_items; i++) {
		bool used = true;
		if (explicit_type[i] || m->items[i].profile == NULL)
			continue;
		while (used) {
			used = false;
			for (size_t j = 0; j < m->n_items; j++)
				used = used || (explicit_type[j] && m->items[j].type == next);
			next += used;
		}
		m->items[i].type = next++;
	}
}

/* What the items of one menu share while they are parsed. */
struct menu_items {
	struct conf_pxe_menu *m;
	bool explicit_type[CONF_MAX_MENU_ITEMS];
};

/* An item with any error is dropped, so the menu checks do not repeat it. */
static bool menu_item_add(struct parser *p, void *entry, const int *lines, bool clean, void *ctx)
{
	struct item_parse *ip = entry;
	struct menu_items *mi = ctx;

	if (!clean || !menu_item_complete(p, ip, lines))
		return false;
	mi->explicit_type[mi->m->n_items] = lines[ITEM_TYPE] != 0;
	mi->m->items[mi->m->n_items++] = ip->it;
	return true;
}

static void menu_item_drop(void *entry)
{
	struct item_parse *ip = entry;

	menu_item_clear(&ip->it);
}

static const struct list_spec menu_item_list = {
    .each = "each entry of pxe_menu.items",
    .hint = " (label: ..., profile: ...)",
    .too_many = "pxe_menu.items: too many entries",
    .max = CONF_MAX_MENU_ITEMS,
    .section = "pxe_menu.item",
    .keys = menu_item_keys,
    .n_keys = PXED_ARRAY_LEN(menu_item_keys),
    .size = sizeof(struct item_parse),
    .line_off = offsetof(struct item_parse, it.line),
    .add = menu_item_add,
    .clear = menu_item_drop,
};

static void set_menu_items(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct menu_items mi = {.m = dst};
	struct item_parse ip;

	walk_list(p, what, val, &menu_item_list, &ip, NULL, &mi.m->n_items, &mi);
	assign_menu_types(mi.m, mi.explicit_type);
}

/* Sub-option 10 holds the timeout and the prompt in at most 255 bytes. */
static void set_menu_prompt(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	const char *s = scalar_value(p, what, val);

	if (s == NULL)
		return;
	if (strlen(s) > 254) {
		perr(p, node_line(val), "%s is %zu bytes long (at most 254)", what, strlen(s));
		return;
	}
	replace_str(dst, xstrdup(s));
}

static void set_menu_timeout(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	uint64_t v;

	if (parse_uint(p, what, val, 0, 255, &v))
		*(uint8_t *)dst = (uint8_t)v;
}

static const struct key_spec menu_keys[] = {
    {"prompt", set_menu_prompt, offsetof(struct conf_pxe_menu, prompt), false},
    {"timeout", set_menu_timeout, offsetof(struct conf_pxe_menu, timeout_s), false},
    {"items", set_menu_items, 0, true},
};

static void set_pxe_menu(struct parser *p, const char *what, yaml_node_t *val, void *dst)
{
	struct conf *c = dst;
	struct conf_pxe_menu *m;
	size_t before = p->n_errors;

	if (node_is_null(val) ||
	    !expect_type(p, what, val, YAML_MAPPING_NODE, " (prompt: ..., items: [...])"))
		return;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		fatal("out of memory");
	m->line = node_line(val);
	m->timeout_s = CONF_MENU_TIMEOUT_DEFAULT;
	/* A menu with errors is dropped, so its checks do not repeat them. */
	if (walk_mapping(p, val, what, menu_keys, PXED_ARRAY_LEN(menu_keys), m, NULL) &&
	    p->n_errors == before)
		c->pxe_menu = m;
	else
		menu_free(m);
}

/* ---------------------------------------------------------------------- */
/* The parser: the file                                                   */

static const struct key_spec top_keys[] = {
    {"interfaces", set_interfaces, 0, false},
    {"dhcp", set_dhcp, 0, false},
    {"server_address", set_ip, offsetof(struct conf, server_address), false},
    {"state_dir", set_state_dir, offsetof(struct conf, state_dir), false},
    {"tftp", set_tftp, 0, false},
    {"http", set_http, 0, false},
    {"nbp_dirs", set_nbp_dirs, 0, false},
    {"subnets", set_subnets, 0, false},
    {"profiles", set_profiles, 0, false},
    {"default_profile", set_default_profile, offsetof(struct conf, default_profile), false},
    {"hosts", set_hosts, 0, false},
    {"options", set_options, offsetof(struct conf, options), false},
    {"classes", set_classes, 0, false},
    {"arch_overrides", set_arch_overrides, 0, false},
    {"pxe_menu", set_pxe_menu, 0, false},
    {"rogue", set_rogue, 0, false},
    {"security", set_security, 0, false},
    {"events", set_events, 0, false},
    {"api", set_api, 0, false},
};

/* Returns false if the file is not a configuration at all (not a mapping). */
static bool parse_root(struct parser *p)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);

	/* An empty file (or only comments) leaves every default in place. */
	if (root == NULL || node_is_null(root))
		return true;
	if (root->type != YAML_MAPPING_NODE) {
		perr(p, node_line(root),
		     "the top level must be a mapping of settings (key: value), not %s",
		     node_kind(root));
		return false;
	}
	walk_mapping(p, root, NULL, top_keys, PXED_ARRAY_LEN(top_keys), p->c, NULL);
	return true;
}

/* Reader errors come with a byte offset only: count the lines before it. */
static int line_at_offset(const char *buf, size_t len, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		line += buf[i] == '\n';
	return line;
}

static void report_yaml_error(struct parser *p, const yaml_parser_t *yp, const char *buf,
			      size_t len)
{
	const char *problem = yp->problem ? yp->problem : "unknown problem";

	switch (yp->error) {
	case YAML_READER_ERROR:
		perr(p, line_at_offset(buf, len, yp->problem_offset), "not valid YAML text: %s",
		     problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (yp->context != NULL)
			perr(p, (int)yp->problem_mark.line + 1,
			     "YAML syntax error: %s (%s at line %d)", problem, yp->context,
			     (int)yp->context_mark.line + 1);
		else
			perr(p, (int)yp->problem_mark.line + 1, "YAML syntax error: %s", problem);
		break;
	default:
		perr(p, 0, "cannot parse the YAML: %s", problem);
		break;
	}
}

/* A first pass over the events: syntax errors and CONF_MAX_DEPTH. */
static int check_syntax(struct parser *p, const char *buf, size_t len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	yaml_event_type_t type;
	int depth = 0, rc = 0;

	if (!yaml_parser_initialize(&yp))
		fatal("out of memory");
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	do {
		if (!yaml_parser_parse(&yp, &ev)) {
			report_yaml_error(p, &yp, buf, len);
			rc = -EINVAL;
			break;
		}
		type = ev.type;
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > CONF_MAX_DEPTH) {
			perr(p, (int)ev.start_mark.line + 1, "nested more than %d levels deep",
			     CONF_MAX_DEPTH);
			rc = -EINVAL;
		}
		yaml_event_delete(&ev);
	} while (rc == 0 && type != YAML_STREAM_END_EVENT);
	yaml_parser_delete(&yp);
	return rc;
}

/*
 * Loads the first document of the file into doc: 0 (the caller deletes doc)
 * or -EINVAL. Errors are reported, including a second document.
 */
static int load_document(struct parser *p, const char *buf, size_t len, yaml_document_t *doc)
{
	yaml_parser_t yp;
	yaml_document_t extra;

	if (check_syntax(p, buf, len) < 0)
		return -EINVAL;
	if (!yaml_parser_initialize(&yp))
		fatal("out of memory");
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&yp, doc)) {
		report_yaml_error(p, &yp, buf, len);
		yaml_parser_delete(&yp);
		return -EINVAL;
	}
	/* A document without a root node marks the end of the stream. */
	if (yaml_document_get_root_node(doc) != NULL) {
		if (!yaml_parser_load(&yp, &extra)) {
			report_yaml_error(p, &yp, buf, len);
		} else {
			if (yaml_document_get_root_node(&extra) != NULL)
				perr(p, (int)extra.start_mark.line + 1,
				     "a second YAML document starts here; only one is allowed");
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&yp);
	return 0;
}

int conf_read_file(const char *path, char **out, size_t *out_len, struct conf_errors *errs)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		rc = -errno;
		conf_errors_add(errs, path, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		conf_errors_add(errs, path, 0, "cannot stat: %s", strerror(-rc));
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		conf_errors_add(errs, path, 0, "not a regular file");
	} else if (st.st_size > CONF_MAX_FILE_SIZE) {
		rc = -EFBIG;
		conf_errors_add(errs, path, 0, "file is too large (at most %u MiB)",
				CONF_MAX_FILE_SIZE >> 20);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	buf = xrealloc(NULL, (size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : 0;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		conf_errors_add(errs, path, 0, "cannot read: %s", strerror(-rc));
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* The absolute directory of path, against which relative paths are taken. */
static char *config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *cwd, *abs;

	if (slash == path)
		return xstrdup("/");
	dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
	if (dir == NULL)
		fatal("out of memory");
	if (dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL) /* relative paths then stay relative to the working directory */
		return dir;
	abs = resolve_path(cwd, dir);
	free(cwd);
	free(dir);
	return abs;
}

int conf_load(const char *path, struct conf **out, struct conf_errors *errs)
{
	size_t len = 0;
	char *buf = NULL;
	int rc;

	*out = NULL;
	rc = conf_read_file(path, &buf, &len, errs);
	if (rc < 0)
		return rc;
	rc = conf_load_layered(path, buf, len, NULL, 0, out, errs);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* What the API put: hosts and profiles over the file's                   */

/* Takes the file's host(s) with this MAC out: an entry replaces them. */
static void hosts_remove_mac(struct conf *c, const uint8_t mac[6])
{
	size_t kept = 0;

	for (size_t i = 0; i < c->n_hosts; i++) {
		if (c->hosts[i].has_mac && memcmp(c->hosts[i].mac, mac, 6) == 0)
			host_clear(&c->hosts[i]);
		else
			c->hosts[kept++] = c->hosts[i];
	}
	c->n_hosts = kept;
}

static void profiles_remove(struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_profiles; i++) {
		if (strcmp(c->profiles[i].name, name) != 0)
			continue;
		profile_clear(&c->profiles[i]);
		memmove(&c->profiles[i], &c->profiles[i + 1],
			(c->n_profiles - i - 1) * sizeof(c->profiles[0]));
		c->n_profiles--;
		return;
	}
}

static void entry_host(struct parser *p, const struct conf_entry *e, yaml_node_t *map)
{
	struct conf_host h = {.line = CONF_LINE_API};
	int lines[PXED_ARRAY_LEN(host_keys)];
	uint8_t mac[6];

	if (mac_parse(e->name, mac) < 0) {
		perr(p, 0, "'" ECHO "' is not a MAC address", e->name);
		return;
	}
	if (!walk_mapping(p, map, "host", host_keys, PXED_ARRAY_LEN(host_keys), &h, lines)) {
		host_clear(&h);
		return;
	}
	if (lines[HOST_MAC] == 0) {
		memcpy(h.mac, mac, 6);
		h.has_mac = true;
	} else if (h.has_mac && memcmp(h.mac, mac, 6) != 0) {
		perr(p, lines[HOST_MAC], "mac differs from the host's MAC %s", e->name);
		host_clear(&h);
		return;
	}
	if (!h.has_mac) {
		host_clear(&h);
		return;
	}
	hosts_remove_mac(p->c, mac);
	if (p->c->n_hosts == CONF_MAX_HOSTS) {
		perr(p, 0, "too many hosts (at most %d)", CONF_MAX_HOSTS);
		host_clear(&h);
		return;
	}
	hosts_append(p, &h);
}

static void entry_profile(struct parser *p, const struct conf_entry *e, yaml_node_t *map)
{
	struct conf *c = p->c;

	profiles_remove(c, e->name);
	if (c->n_profiles == CONF_MAX_PROFILES) {
		perr(p, 0, "too many profiles (at most %d)", CONF_MAX_PROFILES);
		return;
	}
	parse_profile_named(p, e->name, 0, map);
	/* What conf_validate() says about it names the API, not a line. */
	if (c->n_profiles > 0 && strcmp(c->profiles[c->n_profiles - 1].name, e->name) == 0)
		c->profiles[c->n_profiles - 1].line = CONF_LINE_API;
}

static void parse_entry(struct parser *p, const struct conf_entry *e)
{
	yaml_document_t doc;
	size_t len = strlen(e->body);
	char label[128];

	snprintf(label, sizeof(label), "api %s %s", e->kind == CONF_ENTRY_HOST ? "host" : "profile",
		 e->name);
	p->file = label;
	p->doc = &doc;
	if (len > CONF_ENTRY_MAX) {
		perr(p, 0, "is %zu bytes long (at most %d)", len, CONF_ENTRY_MAX);
	} else if (load_document(p, e->body, len, &doc) == 0) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (root == NULL || root->type != YAML_MAPPING_NODE)
			perr(p, root != NULL ? node_line(root) : 0, "must be an object ({...})");
		else if (e->kind == CONF_ENTRY_HOST)
			entry_host(p, e, root);
		else
			entry_profile(p, e, root);
		yaml_document_delete(&doc);
	}
	p->file = NULL;
	p->doc = NULL;
}

/* ---------------------------------------------------------------------- */
/* Templates: read and compiled once the whole inventory is known          */

/* Who a template or command line belongs to: what it may name. */
struct tmpl_scope {
	const struct conf *c;
	const struct conf_profile *pr; /* NULL: a host without a profile */
	const struct conf_host *h;     /* NULL: a profile's, any host's vars are known */
};

static bool vars_have(const struct conf_vars *vars, const char *name, size_t len)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strncmp(vars->v[i].name, name, len) == 0 && vars->v[i].name[len] == '\0')
			return true;
	return false;
}

/*
 * The built-in variables, the profile's vars, and the host's; a profile's
 * template may name a variable that only some hosts set (empty for the
 * others), but not one that no host sets: that is a typo.
 */
static bool tmpl_scope_knows(const char *name, size_t len, void *ctx)
{
	const struct tmpl_scope *sc = ctx;

	if (boot_template_var_known(name, len) ||
	    (sc->pr != NULL && vars_have(&sc->pr->vars, name, len)))
		return true;
	if (sc->h != NULL)
		return vars_have(&sc->h->vars, name, len);
	for (size_t i = 0; i < sc->c->n_hosts; i++)
		if (vars_have(&sc->c->hosts[i].vars, name, len))
			return true;
	return false;
}

static void template_err(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void template_err(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	p->n_errors++;
	va_start(ap, fmt);
	conf_errors_vadd(p->errs, line == CONF_LINE_API ? "api" : p->c->path, line, fmt, ap);
	va_end(ap);
}

/* A template file, whole: a regular file of at most TMPL_MAX_SIZE bytes. */
static int template_read(const char *path, char **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)TMPL_MAX_SIZE) {
		int rc = fstat(fd, &st) < 0 ? -EIO : !S_ISREG(st.st_mode) ? -EISDIR : -EFBIG;
		close(fd);
		return rc;
	}
	*out = xrealloc(NULL, (size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size &&
	       (n = read(fd, *out + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n < 0) {
		free(*out);
		return -EIO;
	}
	return 0;
}

/* Reads and compiles one of a profile's templates; errors name the template's file:line. */
static void compile_template(struct parser *p, const struct conf_profile *pr,
			     struct conf_template *t)
{
	struct tmpl_scope sc = {.c = p->c, .pr = pr};
	struct tmpl_error err;
	char *text = NULL;
	size_t len = 0;
	int rc = template_read(t->path, &text, &len);

	if (rc < 0) {
		template_err(p, t->line, "profile '%s': template %s: %s: %s", pr->name, t->name,
			     t->path,
			     rc == -EFBIG    ? "longer than 256 KiB"
			     : rc == -EISDIR ? "not a regular file"
					     : strerror(-rc));
		return;
	}
	rc = tmpl_compile(text, len, tmpl_scope_knows, &sc, &t->tmpl, &err);
	free(text);
	if (rc == -ENOMEM)
		fatal("out of memory");
	if (rc < 0) {
		p->n_errors++;
		conf_errors_add(p->errs, t->path, err.line, "%s (template %s of profile '%s')",
				err.msg, t->name, pr->name);
	}
}

/* A command line is a template too: checked here, rendered per machine (boot/script.c). */
static void check_cmdline_template(struct parser *p, const char *cmdline,
				   const struct tmpl_scope *sc, int line, const char *who)
{
	struct tmpl_error err;
	struct tmpl *t = NULL;

	if (cmdline == NULL)
		return;
	int rc = tmpl_compile(cmdline, strlen(cmdline), tmpl_scope_knows, (void *)sc, &t, &err);
	if (rc == -ENOMEM)
		fatal("out of memory");
	if (rc < 0)
		template_err(p, line, "%s: cmdline: %s", who, err.msg);
	tmpl_free(t);
}

static void compile_templates(struct parser *p)
{
	struct conf *c = p->c;
	char who[128], mac[18];

	for (size_t i = 0; i < c->n_profiles; i++) {
		struct conf_profile *pr = &c->profiles[i];
		struct tmpl_scope sc = {.c = c, .pr = pr};
		for (size_t j = 0; j < pr->n_templates; j++)
			compile_template(p, pr, &pr->templates[j]);
		snprintf(who, sizeof(who), "profile '%s'", pr->name);
		check_cmdline_template(p, pr->cmdline, &sc, pr->line, who);
	}
	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct conf_host *h = &c->hosts[i];
		const char *pname = h->profile != NULL ? h->profile : c->default_profile;
		struct tmpl_scope sc = {
		    .c = c, .pr = pname != NULL ? conf_find_profile(c, pname) : NULL, .h = h};
		snprintf(who, sizeof(who), "host %s",
			 h->name != NULL ? h->name : mac_format(mac, h->mac));
		check_cmdline_template(p, h->cmdline, &sc, h->line, who);
	}
}

int conf_load_layered(const char *path, const char *text, size_t len,
		      const struct conf_entry *entries, size_t n, struct conf **out,
		      struct conf_errors *errs)
{
	return conf_load_over(NULL, path, text, len, entries, n, out, errs);
}

int conf_load_over(const struct conf *running, const char *path, const char *text, size_t len,
		   const struct conf_entry *entries, size_t n, struct conf **out,
		   struct conf_errors *errs)
{
	struct parser p = {.file = path, .errs = errs};
	yaml_document_t doc;
	int rc;

	*out = NULL;
	p.c = conf_new_defaults();
	p.c->path = xstrdup(path);
	p.base_dir = config_dir(path);
	p.doc = &doc;
	rc = load_document(&p, text, len, &doc);
	if (rc == 0) {
		if (!parse_root(&p))
			rc = -EINVAL;
		yaml_document_delete(&doc);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		parse_entry(&p, &entries[i]);
	if (rc == 0)
		compile_templates(&p);
	free(p.base_dir);
	conf_sort_hosts(p.c);
	/* Without a parsed document the snapshot is all defaults: nothing to check. */
	if (rc == 0 && conf_validate_over(p.c, running, errs) < 0)
		rc = -EINVAL;
	if (rc < 0 || p.n_errors > 0) {
		conf_free(p.c);
		return -EINVAL;
	}
	*out = p.c;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Validation: cross-references and whole-config rules                   */

static bool str_differs(const char *a, const char *b);

struct checker {
	const struct conf *c;
	struct conf_errors *errs;
	size_t n_errors;
	/*
	 * The configuration running now, when c is to replace it (a reload, an
	 * API change): files that only a start reads (the TLS key, the token)
	 * are not opened again — the sandbox may not let pxed, and a change to
	 * their paths is refused anyway (conf_restart_change).
	 */
	const struct conf *running;
};

static void verr(struct checker *v, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verr(struct checker *v, int line, const char *fmt, ...)
{
	va_list ap;

	v->n_errors++;
	va_start(ap, fmt);
	/* What the API put (conf_load_layered) has no line in the file. */
	conf_errors_vadd(v->errs, line == CONF_LINE_API ? "api" : v->c->path, line, fmt, ap);
	va_end(ap);
}

static void check_interfaces(struct checker *v)
{
	const struct conf *c = v->c;
	int line = c->lines.interfaces ? c->lines.interfaces : c->lines.dhcp_mode;

	if (c->dhcp_mode != CONF_DHCP_OFF && c->n_interfaces == 0)
		verr(v, line,
		     "dhcp mode '%s' needs at least one interface to listen on "
		     "(set 'interfaces', or 'dhcp: {mode: off}')",
		     dhcp_mode_names[c->dhcp_mode]);
	if (c->n_interfaces > CONF_MAX_INTERFACES) {
		verr(v, line, "too many interfaces (at most %d)", CONF_MAX_INTERFACES);
		return;
	}
	for (size_t i = 0; i < c->n_interfaces; i++) {
		if (!ifname_valid(c->interfaces[i]))
			verr(v, line, "'%s' is not an interface name", c->interfaces[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->interfaces[i], c->interfaces[j]) == 0)
				verr(v, line, "interface '%s' is listed twice", c->interfaces[i]);
	}
}

static void check_dir(struct checker *v, int line, const char *what, const char *path)
{
	struct stat st;

	if (path == NULL)
		return;
	if (path[0] != '/')
		verr(v, line, "%s '%s' must be an absolute path", what, path);
	else if (stat(path, &st) < 0)
		verr(v, line, "%s %s: %s", what, path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		verr(v, line, "%s %s is not a directory", what, path);
}

/* Path a is path b or lies beneath it (both canonical). */
static bool path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || strcmp(b, "/") == 0);
}

/*
 * File path lies in directory up (canonical): by its directory as named, or
 * by where it leads once links are followed (pxed opens a kernel through
 * its links). A directory that merely holds up gives uploads no way to it.
 */
static bool path_file_within(const char *path, const char *up)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return false;
	char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	char *d = dir != NULL ? realpath(dir, NULL) : NULL, *f = realpath(path, NULL);
	bool within = (d != NULL && path_within(d, up)) || (f != NULL && path_within(f, up));
	free(dir);
	free(d);
	free(f);
	return within;
}

/* No profile's kernel or initrd may lie in upload_dir (canonical up). */
static void check_upload_dir_profiles(struct checker *v, const char *up)
{
	const struct conf *c = v->c;

	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct conf_profile *pr = &c->profiles[i];
		for (size_t j = 0; j <= pr->n_initrds && j <= CONF_MAX_INITRDS; j++) {
			const char *f = j == 0 ? pr->kernel : pr->initrds[j - 1];
			if (f != NULL && path_file_within(f, up))
				verr(v, c->lines.tftp_upload_dir,
				     "tftp.upload_dir %s holds profile '%s' %s %s: clients could "
				     "replace it",
				     c->tftp_upload_dir, pr->name != NULL ? pr->name : "",
				     j == 0 ? "kernel" : "initrd", f);
		}
	}
}

/*
 * Uploads must land apart from what pxed serves and keeps: a client could
 * otherwise replace the files other machines boot (the roots, the boot
 * programs' directories, the profiles' kernels and initrds), or the lease
 * database.
 */
static void check_upload_dir(struct checker *v)
{
	const struct conf *c = v->c;
	const char *dirs[] = {c->tftp_root,    c->http_root,	    c->state_dir,
			      c->nbp_dir_ipxe, c->nbp_dir_pxelinux, c->nbp_dir_syslinux};
	const char *names[] = {"tftp.root",	"http.root",	     "state_dir",
			       "nbp_dirs.ipxe", "nbp_dirs.pxelinux", "nbp_dirs.syslinux"};
	size_t before = v->n_errors;
	char *up;

	check_dir(v, c->lines.tftp_upload_dir, "tftp.upload_dir", c->tftp_upload_dir);
	if (c->tftp_upload_dir == NULL || v->n_errors != before)
		return;
	up = realpath(c->tftp_upload_dir, NULL);
	if (up == NULL)
		return;
	for (size_t i = 0; i < PXED_ARRAY_LEN(dirs); i++) {
		char *d = dirs[i] != NULL ? realpath(dirs[i], NULL) : NULL;
		if (d != NULL && (path_within(up, d) || path_within(d, up)))
			verr(v, c->lines.tftp_upload_dir,
			     "tftp.upload_dir %s overlaps %s %s: clients could replace its files",
			     c->tftp_upload_dir, names[i], dirs[i]);
		free(d);
	}
	check_upload_dir_profiles(v, up);
	free(up);
}

/*
 * A path that may not exist yet, canonical as far as it exists: its own
 * realpath, or its parent's with the last name added. NULL when neither
 * resolves (the path is then checked as written).
 */
static char *path_canonical_maybe(const char *path)
{
	char *r = realpath(path, NULL), *parent, *pr;
	const char *slash = strrchr(path, '/');

	if (r != NULL || slash == NULL || slash[1] == '\0')
		return r;
	parent = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	pr = parent != NULL ? realpath(parent, NULL) : NULL;
	if (pr != NULL)
		r = xasprintf("%s%s%s", pr, strcmp(pr, "/") == 0 ? "" : "/", slash + 1);
	free(parent);
	free(pr);
	return r;
}

/*
 * Directories the state directory may not be: the system's own, which
 * pxed would give to its user; those marked * may not hold it either.
 */
static const char *const state_dir_system[] = {
    "/",       "/etc*",	   "/usr*",	 "/bin*",    "/sbin*",	 "/lib*",      "/lib32*",
    "/lib64*", "/libx32*", "/boot*",	 "/dev*",    "/proc*",	 "/sys*",      "/run",
    "/var",    "/var/lib", "/var/cache", "/var/log", "/var/tmp", "/var/spool", "/tmp",
    "/home",   "/root",	   "/srv",	 "/opt",     "/mnt",	 "/media",
};

/*
 * pxed gives the state directory to its user (core/priv.c) and Landlock
 * lets the daemon write in it: it must be apart from what pxed serves, like
 * tftp.upload_dir, and no directory of the system's (docs/security.md).
 */
static void check_state_dir(struct checker *v)
{
	const struct conf *c = v->c;
	const char *dirs[] = {c->tftp_root, c->http_root, c->nbp_dir_ipxe, c->nbp_dir_pxelinux,
			      c->nbp_dir_syslinux};
	const char *names[] = {"tftp.root", "http.root", "nbp_dirs.ipxe", "nbp_dirs.pxelinux",
			       "nbp_dirs.syslinux"};
	int line = c->lines.state_dir;

	if (c->state_dir == NULL || c->state_dir[0] == '\0')
		return;
	char *sd = path_canonical_maybe(c->state_dir);
	const char *s = sd != NULL ? sd : c->state_dir;
	for (size_t i = 0; i < PXED_ARRAY_LEN(state_dir_system); i++) {
		const char *sys = state_dir_system[i];
		size_t n = strcspn(sys, "*");
		bool beneath = sys[n] == '*';
		char name[16];
		snprintf(name, sizeof(name), "%.*s", (int)n, sys);
		if (strcmp(s, name) == 0 || (beneath && path_within(s, name)))
			verr(v, line,
			     "state_dir %s %s %s, a directory of the system: pxed gives the "
			     "state directory to its user; use one of its own (/var/lib/pxed)",
			     c->state_dir, strcmp(s, name) == 0 ? "is" : "lies beneath", name);
	}
	for (size_t i = 0; i < PXED_ARRAY_LEN(dirs); i++) {
		char *d = dirs[i] != NULL ? realpath(dirs[i], NULL) : NULL;
		if (d != NULL && (path_within(s, d) || path_within(d, s)))
			verr(v, line,
			     "state_dir %s overlaps %s %s: the daemon may write the state "
			     "directory, and must not be able to change what it serves",
			     c->state_dir, names[i], dirs[i]);
		free(d);
	}
	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct conf_profile *pr = &c->profiles[i];
		for (size_t j = 0; j <= pr->n_initrds && j <= CONF_MAX_INITRDS; j++) {
			const char *f = j == 0 ? pr->kernel : pr->initrds[j - 1];
			if (f != NULL && path_file_within(f, s))
				verr(v, line,
				     "state_dir %s holds profile '%s' %s %s: the daemon could "
				     "replace it",
				     c->state_dir, pr->name != NULL ? pr->name : "",
				     j == 0 ? "kernel" : "initrd", f);
		}
	}
	free(sd);
}

/*
 * The token file holds a secret that changes the inventory: like ssh's
 * keys, one that others can read (or replace) is refused.
 */
static void check_api(struct checker *v)
{
	const struct conf *c = v->c;
	int line = c->lines.api_token_file;
	struct stat st;

	if (c->api_token_file == NULL ||
	    (v->running != NULL && !str_differs(v->running->api_token_file, c->api_token_file)))
		return;
	if (c->api_port == c->http_port &&
	    (c->api_address == c->listen_address || c->listen_address == 0))
		verr(v, line, "api.port %u is http.port's too", c->api_port);
	if (stat(c->api_token_file, &st) < 0)
		verr(v, line, "api.token_file %s: %s", c->api_token_file, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		verr(v, line, "api.token_file %s is not a regular file", c->api_token_file);
	else if ((st.st_mode & 077) != 0)
		verr(v, line,
		     "api.token_file %s can be read or written by others (mode %03o): "
		     "chmod 600 it",
		     c->api_token_file, (unsigned)(st.st_mode & 0777));
	else if (st.st_size < 16 || st.st_size > 4096)
		verr(v, line, "api.token_file %s: the token must be 16 to 4096 bytes long",
		     c->api_token_file);
}

static const char *tls_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "no PEM data";
}

/* http.tls_cert's first certificate (the server's), or NULL with the error said. */
static X509 *check_tls_cert(struct checker *v, const char *path, int line)
{
	/* O_NONBLOCK: a FIFO at the path is refused at once, not waited on. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	FILE *f = NULL;
	X509 *x;

	if (fd < 0 || fstat(fd, &st) < 0)
		verr(v, line, "http.tls_cert %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		verr(v, line, "http.tls_cert %s: not a regular file", path);
	else if ((f = fdopen(fd, "r")) == NULL)
		verr(v, line, "http.tls_cert %s: %s", path, strerror(errno));
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, conf_tls_no_passphrase, NULL);
	fclose(f);
	if (x == NULL)
		verr(v, line, "http.tls_cert %s holds no PEM certificate (%s)", path, tls_reason());
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warn("conf", "%s:%d: http.tls_cert %s has expired: clients will refuse it",
			 v->c->path != NULL ? v->c->path : "config", line, path);
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warn("conf", "%s:%d: http.tls_cert %s is not valid yet: clients will refuse it",
			 v->c->path != NULL ? v->c->path : "config", line, path);
	ERR_clear_error();
	return x;
}

/*
 * http.tls_key, or NULL with the error said: the server's own loader
 * (http/tls.h), so `pxed check` refuses exactly what the start would.
 */
static EVP_PKEY *check_tls_key(struct checker *v, const char *path, int line)
{
	EVP_PKEY *k = NULL;
	char why[1024];

	if (conf_tls_key_load(path, &k, why, sizeof(why)) < 0)
		verr(v, line, "%s", why);
	return k;
}

/* HTTPS: both files or neither, each readable and sound, and the key the certificate's. */
static void check_http_tls(struct checker *v)
{
	const struct conf *c = v->c;
	int cl = c->http_tls_cert_line, kl = c->http_tls_key_line;

	if (c->http_tls_cert == NULL && c->http_tls_key == NULL)
		return;
	/* Read at start only; a change of either path is refused (conf_restart_change). */
	if (v->running != NULL && !str_differs(v->running->http_tls_cert, c->http_tls_cert) &&
	    !str_differs(v->running->http_tls_key, c->http_tls_key))
		return;
	if (c->http_tls_key == NULL || c->http_tls_cert == NULL) {
		verr(v, c->http_tls_key == NULL ? cl : kl,
		     "%s is set without %s: HTTPS needs both a certificate and its key",
		     c->http_tls_key == NULL ? "http.tls_cert" : "http.tls_key",
		     c->http_tls_key == NULL ? "http.tls_key" : "http.tls_cert");
		return;
	}
	if (c->http_tls_port == 0 || c->http_tls_port == c->http_port)
		verr(v, cl, "http.tls_port %u must be a port of its own (http.port is %u)",
		     c->http_tls_port, c->http_port);
	X509 *x = check_tls_cert(v, c->http_tls_cert, cl);
	EVP_PKEY *k = check_tls_key(v, c->http_tls_key, kl);
	if (x != NULL && k != NULL && X509_check_private_key(x, k) != 1)
		verr(v, kl, "http.tls_key %s is not the key of the certificate in %s",
		     c->http_tls_key, c->http_tls_cert);
	X509_free(x);
	EVP_PKEY_free(k);
	ERR_clear_error();
}

static void check_globals(struct checker *v)
{
	const struct conf *c = v->c;
	const char *dirs[] = {c->state_dir, c->nbp_dir_ipxe, c->nbp_dir_pxelinux,
			      c->nbp_dir_syslinux};
	const char *names[] = {"state_dir", "nbp_dirs.ipxe", "nbp_dirs.pxelinux",
			       "nbp_dirs.syslinux"};

	check_interfaces(v);
	if (c->lease_time_s < CONF_LEASE_MIN_S || c->lease_time_s > CONF_LEASE_MAX_S)
		verr(v, 0, "dhcp.lease_time %us is out of range (60s to 365d)", c->lease_time_s);
	if (c->tftp_port == 0 || c->http_port == 0)
		verr(v, 0, "tftp.port and http.port must not be 0");
	for (size_t i = 0; i < PXED_ARRAY_LEN(dirs); i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			verr(v, 0, "%s is not set", names[i]);
	}
	check_dir(v, c->lines.tftp_root, "tftp.root", c->tftp_root);
	check_dir(v, c->lines.http_root, "http.root", c->http_root);
	check_http_tls(v);
	check_upload_dir(v);
	check_state_dir(v);
	if (c->default_profile != NULL && conf_find_profile(c, c->default_profile) == NULL)
		verr(v, c->lines.default_profile, "default_profile '%s' is not a defined profile",
		     c->default_profile);
	if (c->n_hosts > CONF_MAX_HOSTS)
		verr(v, 0, "too many hosts (at most %d)", CONF_MAX_HOSTS);
	check_api(v);
}

static uint32_t subnet_broadcast(const struct conf_subnet *s)
{
	return s->network | ~prefix_mask(s->prefix_len);
}

/*
 * The network and broadcast addresses cannot be given to a machine (RFC 919);
 * /31 and /32 have neither (RFC 3021).
 */
static bool subnet_is_reserved(const struct conf_subnet *s, uint32_t ip)
{
	return s->prefix_len <= 30 && (ip == s->network || ip == subnet_broadcast(s));
}

static bool pool_contains(const struct conf_subnet *s, uint32_t ip)
{
	return (s->pool_first || s->pool_last) && ip >= s->pool_first && ip <= s->pool_last;
}

static void check_pool(struct checker *v, const struct conf_subnet *s, const char *net)
{
	char a[16], b[16];

	if (s->pool_first == 0 && s->pool_last == 0)
		return;
	ip4_format(a, s->pool_first);
	ip4_format(b, s->pool_last);
	if (s->pool_first > s->pool_last)
		verr(v, s->line, "pool %s-%s: the first address is after the last", a, b);
	else if (!subnet_contains(s, s->pool_first) || !subnet_contains(s, s->pool_last))
		verr(v, s->line, "pool %s-%s is not inside subnet %s/%d", a, b, net, s->prefix_len);
	else if (subnet_is_reserved(s, s->pool_first) || subnet_is_reserved(s, s->pool_last))
		verr(v, s->line, "pool %s-%s includes the network or broadcast address of %s/%d", a,
		     b, net, s->prefix_len);
}

/*
 * The parser refuses bad options; this catches them in snapshots built by
 * hand and keeps the invariants the reply builder relies on.
 */
static void check_option_set(struct checker *v, const struct conf_options *set, const char *who)
{
	char lb[DHCP_OPTDEF_LABEL_MAX];

	if (set->n > CONF_MAX_OPTIONS)
		verr(v, set->v[0].line, "%s: too many options (at most %d)", who, CONF_MAX_OPTIONS);
	for (size_t i = 0; i < set->n; i++) {
		const struct conf_option *o = &set->v[i];
		const struct dhcp_optdef *def = dhcp_optdef_by_code(o->code);
		const char *name = dhcp_optdef_label(def, lb);

		if (o->code == 0 || o->code == 255)
			verr(v, o->line, "%s: %u is not an option code (1-254)", who, o->code);
		else if (def->flags & DHCP_OPTF_MANAGED)
			verr(v, o->line, "%s: option %s (%u) is set by pxed itself", who, name,
			     o->code);
		else if (!dhcp_optdef_len_ok(def, o->len) || o->len > CONF_MAX_OPTION_LEN ||
			 (o->len > 0 && o->data == NULL))
			verr(v, o->line, "%s: option %s (%u) has an invalid length (%u bytes)", who,
			     name, o->code, o->len);
		for (size_t j = 0; j < i; j++) {
			if (set->v[j].code == o->code) {
				verr(v, o->line, "%s: option %s (%u) is given twice", who, name,
				     o->code);
				break;
			}
		}
	}
}

/* The subnet's own keys are options too: each may be given only one way. */
static void check_subnet_options(struct checker *v, const struct conf_subnet *s, const char *net)
{
	static const struct {
		uint8_t code;
		const char *key;
	} keys[] = {{3, "router"}, {6, "dns"}, {15, "domain"}};
	char who[40], lb[DHCP_OPTDEF_LABEL_MAX];

	snprintf(who, sizeof(who), "subnet %s/%d", net, s->prefix_len);
	check_option_set(v, &s->options, who);
	for (size_t i = 0; i < PXED_ARRAY_LEN(keys); i++) {
		const struct conf_option *o = options_find(&s->options, keys[i].code);
		bool set = keys[i].code == 3   ? s->router != 0
			   : keys[i].code == 6 ? s->n_dns > 0
					       : s->domain != NULL;
		if (o != NULL && set)
			verr(v, o->line, "%s: options.%s and '%s' both set option %u; give one",
			     who, dhcp_optdef_label(dhcp_optdef_by_code(o->code), lb), keys[i].key,
			     o->code);
	}
}

static void check_subnet(struct checker *v, const struct conf_subnet *s)
{
	const struct conf *c = v->c;
	char net[16], a[16];

	ip4_format(net, s->network);
	if (s->prefix_len < 1 || s->prefix_len > 32) {
		verr(v, s->line, "subnet %s/%d: prefix length out of range (1-32)", net,
		     s->prefix_len);
		return;
	}
	if ((s->network & ~prefix_mask(s->prefix_len)) != 0)
		verr(v, s->line, "subnet %s/%d has host bits set", net, s->prefix_len);
	check_pool(v, s, net);
	if (s->router != 0 && !subnet_contains(s, s->router))
		verr(v, s->line, "router %s is not inside subnet %s/%d", ip4_format(a, s->router),
		     net, s->prefix_len);
	else if (s->router != 0 && pool_contains(s, s->router))
		verr(v, s->line, "router %s is inside the pool, which would lease it out",
		     ip4_format(a, s->router));
	if (c->server_address != 0 && pool_contains(s, c->server_address))
		verr(v, s->line, "server_address %s is inside the pool, which would lease it out",
		     ip4_format(a, c->server_address));
	if (s->n_dns > CONF_MAX_DNS)
		verr(v, s->line, "too many dns servers (at most %d)", CONF_MAX_DNS);
	if (s->lease_time_s != 0 &&
	    (s->lease_time_s < CONF_LEASE_MIN_S || s->lease_time_s > CONF_LEASE_MAX_S))
		verr(v, s->line, "lease_time %us is out of range (60s to 365d)", s->lease_time_s);
	check_subnet_options(v, s, net);
}

static void check_subnets(struct checker *v)
{
	const struct conf *c = v->c;
	char a[16], b[16];

	for (size_t i = 0; i < c->n_subnets; i++) {
		const struct conf_subnet *s = &c->subnets[i];

		check_subnet(v, s);
		for (size_t j = 0; j < i; j++) {
			const struct conf_subnet *o = &c->subnets[j];
			int len = s->prefix_len < o->prefix_len ? s->prefix_len : o->prefix_len;
			if (((s->network ^ o->network) & prefix_mask(len)) == 0)
				verr(v, s->line, "subnet %s/%d overlaps subnet %s/%d (line %d)",
				     ip4_format(a, s->network), s->prefix_len,
				     ip4_format(b, o->network), o->prefix_len, o->line);
		}
	}
}

static void check_file(struct checker *v, const struct conf_profile *pr, const char *role,
		       const char *path)
{
	struct stat st;

	if (path[0] != '/')
		verr(v, pr->line, "profile '%s': %s path '%s' must be absolute", pr->name, role,
		     path);
	else if (stat(path, &st) < 0)
		verr(v, pr->line, "profile '%s': %s %s: %s", pr->name, role, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		verr(v, pr->line, "profile '%s': %s %s is not a regular file", pr->name, role,
		     path);
}

static void check_profile(struct checker *v, size_t idx)
{
	const struct conf_profile *pr = &v->c->profiles[idx];

	if (pr->name == NULL || !profile_name_valid(pr->name)) {
		verr(v, pr->line, "profile name '%s' is not valid", pr->name ? pr->name : "");
		return;
	}
	for (size_t j = 0; j < idx; j++) {
		const struct conf_profile *o = &v->c->profiles[j];
		if (o->name != NULL && strcmp(o->name, pr->name) == 0) {
			verr(v, pr->line, "duplicate profile '%s' (first at line %d)", pr->name,
			     o->line);
			break;
		}
	}
	if (pr->kernel == NULL)
		verr(v, pr->line, "profile '%s' has no kernel", pr->name);
	else
		check_file(v, pr, "kernel", pr->kernel);
	if (pr->n_initrds > CONF_MAX_INITRDS) {
		verr(v, pr->line, "profile '%s': too many initrds (at most %d)", pr->name,
		     CONF_MAX_INITRDS);
		return;
	}
	for (size_t i = 0; i < pr->n_initrds; i++)
		check_file(v, pr, "initrd", pr->initrds[i]);
	if (pr->cmdline != NULL && strlen(pr->cmdline) >= CONF_MAX_CMDLINE)
		verr(v, pr->line, "profile '%s': cmdline is longer than %d bytes", pr->name,
		     CONF_MAX_CMDLINE - 1);
	/*
	 * The YAML parser refuses control characters in every value; a profile
	 * built from `pxed boot` flags is checked here. A newline would add a
	 * directive to the pxelinux, GRUB and iPXE files rendered from it.
	 */
	for (const char *q = pr->cmdline; q != NULL && *q != '\0'; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			verr(v, pr->line, "profile '%s': cmdline contains a control character",
			     pr->name);
			break;
		}
	}
	if (pr->n_programs > CONF_MAX_PROGRAMS)
		verr(v, pr->line, "profile '%s': too many programs (at most %d)", pr->name,
		     CONF_MAX_PROGRAMS);
}

/* Room for a host's name, MAC or client identifier in a message. */
#define HOST_LABEL_LEN 80

/* Hex bytes, cut to fit a message. */
static const char *client_id_text(const struct conf_host *h, char *buf, size_t cap)
{
	dhcp_optdef_format(dhcp_optdef_by_code(61), h->client_id, h->client_id_len, buf, cap);
	return buf;
}

/* A host by its name if it has one, else by its MAC or client identifier. */
static const char *host_label(const struct conf_host *h, char buf[HOST_LABEL_LEN])
{
	char id[HOST_LABEL_LEN - 10];

	if (h->name != NULL)
		return h->name;
	if (host_keyed_by_mac(h))
		return mac_format(buf, h->mac);
	snprintf(buf, HOST_LABEL_LEN, "client_id %s", client_id_text(h, id, sizeof(id)));
	return buf;
}

static void check_host_address(struct checker *v, const struct conf_host *h)
{
	const struct conf_subnet *s = conf_find_subnet(v->c, h->address);
	char lb[HOST_LABEL_LEN], a[16], net[16];

	ip4_format(a, h->address);
	if (s == NULL)
		verr(v, h->line, "host %s: address %s is not inside any subnet", host_label(h, lb),
		     a);
	else if (subnet_is_reserved(s, h->address))
		verr(v, h->line, "host %s: address %s is the network or broadcast address of %s/%d",
		     host_label(h, lb), a, ip4_format(net, s->network), s->prefix_len);
	else if (h->address == s->router)
		verr(v, h->line, "host %s: address %s is the subnet's router", host_label(h, lb),
		     a);
	else if (h->address == v->c->server_address)
		verr(v, h->line, "host %s: address %s is pxed's own server_address",
		     host_label(h, lb), a);
}

static void check_host(struct checker *v, const struct conf_host *h)
{
	const char *pname = h->profile ? h->profile : v->c->default_profile;
	const struct conf_profile *pr = conf_find_profile(v->c, pname);
	size_t len;
	char lb[HOST_LABEL_LEN];

	if (h->profile != NULL && pr == NULL)
		verr(v, h->line, "host %s: profile '%s' is not defined", host_label(h, lb),
		     h->profile);
	if (h->address != 0)
		check_host_address(v, h);
	/* The life cycle is kept by MAC: the callback URL names it. */
	if (h->install && !h->has_mac)
		verr(v, h->line, "host %s: install needs the host's mac", host_label(h, lb));
	if (h->install && pr == NULL)
		verr(v, h->line,
		     "host %s: install needs a profile to install with (its own or "
		     "default_profile)",
		     host_label(h, lb));
	check_option_set(v, &h->options, host_label(h, lb));
	if (h->cmdline == NULL)
		return;
	/* The host's words are appended to the profile's, with one space. */
	len = strlen(h->cmdline);
	if (pr != NULL && pr->cmdline != NULL)
		len += strlen(pr->cmdline) + 1;
	if (len >= CONF_MAX_CMDLINE)
		verr(v, h->line,
		     "host %s: cmdline with that of profile '%s' is %zu bytes long "
		     "(at most %d)",
		     host_label(h, lb), pr ? pr->name : "(none)", len, CONF_MAX_CMDLINE - 1);
}

static int host_ptr_cmp_mac(const void *a, const void *b)
{
	return host_cmp_mac(*(const struct conf_host *const *)a,
			    *(const struct conf_host *const *)b);
}

static int host_ptr_cmp_address(const void *a, const void *b)
{
	const struct conf_host *x = *(const struct conf_host *const *)a;
	const struct conf_host *y = *(const struct conf_host *const *)b;

	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* Where the other of two entries is: "line 12", or "the API" (conf_load_layered). */
static const char *line_ref(char out[24], int line)
{
	if (line == CONF_LINE_API)
		snprintf(out, 24, "the API");
	else
		snprintf(out, 24, "line %d", line);
	return out;
}

static void check_client_id_duplicates(struct checker *v, const struct conf_host **by, size_t n)
{
	char id[HOST_LABEL_LEN], ref[24];

	qsort(by, n, sizeof(*by), host_ptr_cmp_client_id);
	for (size_t i = 1; i < n; i++)
		if (by[i]->client_id_len > 0 &&
		    client_id_cmp(by[i]->client_id, by[i]->client_id_len, by[i - 1]->client_id,
				  by[i - 1]->client_id_len) == 0)
			verr(v, by[i]->line, "duplicate host client_id %s (first at %s)",
			     client_id_text(by[i], id, sizeof(id)), line_ref(ref, by[i - 1]->line));
}

/* Sorts pointers to the hosts so that duplicates are neighbours; O(n log n). */
static void check_host_duplicates(struct checker *v)
{
	const struct conf *c = v->c;
	const struct conf_host **by = xrealloc(NULL, c->n_hosts * sizeof(*by) + 1);
	char lb[18], a[16], ref[24];

	for (size_t i = 0; i < c->n_hosts; i++)
		by[i] = &c->hosts[i];
	qsort(by, c->n_hosts, sizeof(*by), host_ptr_cmp_mac);
	for (size_t i = 1; i < c->n_hosts; i++)
		if (host_keyed_by_mac(by[i]) && host_order(by[i], by[i - 1]) == 0)
			verr(v, by[i]->line, "duplicate host MAC %s (first at %s)",
			     mac_format(lb, by[i]->mac), line_ref(ref, by[i - 1]->line));
	qsort(by, c->n_hosts, sizeof(*by), host_ptr_cmp_address);
	for (size_t i = 1; i < c->n_hosts; i++)
		if (by[i]->address != 0 && by[i]->address == by[i - 1]->address) {
			/* What the API put is what a PUT is told about (it sorts first). */
			bool api = by[i - 1]->line == CONF_LINE_API;
			verr(v, api ? CONF_LINE_API : by[i]->line,
			     "address %s is reserved for two hosts (first at %s)",
			     ip4_format(a, by[i]->address),
			     line_ref(ref, api ? by[i]->line : by[i - 1]->line));
		}
	check_client_id_duplicates(v, by, c->n_hosts);
	free(by);
}

static void check_hosts(struct checker *v)
{
	const struct conf *c = v->c;
	size_t with_id = 0;

	for (size_t i = 0; i < c->n_hosts; i++) {
		check_host(v, &c->hosts[i]);
		if (i > 0 && host_order(&c->hosts[i - 1], &c->hosts[i]) > 0) {
			verr(v, 0, "internal error: hosts are not sorted (call conf_sort_hosts)");
			break;
		}
	}
	for (size_t i = 0; i < c->n_hosts; i++)
		with_id += c->hosts[i].client_id_len > 0;
	if (with_id != c->n_hosts_by_client_id)
		verr(v, 0, "internal error: the client_id index is stale (call conf_sort_hosts)");
	check_host_duplicates(v);
}

static bool interface_listed(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_interfaces && i < CONF_MAX_INTERFACES; i++)
		if (strcmp(c->interfaces[i], name) == 0)
			return true;
	return false;
}

static void check_class_match(struct checker *v, const struct conf_class *cl, const char *who)
{
	const struct conf_match *m = &cl->match;

	if (match_is_empty(m))
		verr(v, cl->line, "%s: match needs at least one condition", who);
	if (m->n_arches > CONF_MAX_CLASS_ARCHES)
		verr(v, cl->line, "%s: too many architectures (at most %d)", who,
		     CONF_MAX_CLASS_ARCHES);
	if (m->mac_prefix_len > 6)
		verr(v, cl->line, "%s: mac_prefix is longer than 6 bytes", who);
	if (m->n_uuids > CONF_MAX_CLASS_UUIDS)
		verr(v, cl->line, "%s: too many UUIDs (at most %d)", who, CONF_MAX_CLASS_UUIDS);
	if (m->n_subnets > CONF_MAX_CLASS_SUBNETS)
		verr(v, cl->line, "%s: too many subnets (at most %d)", who, CONF_MAX_CLASS_SUBNETS);
	for (size_t i = 0; i < m->n_subnets && i < CONF_MAX_CLASS_SUBNETS; i++) {
		const struct conf_cidr *n = &m->subnets[i];
		char net[16];
		if (n->prefix_len < 1 || n->prefix_len > 32 ||
		    (n->network & ~prefix_mask(n->prefix_len)) != 0)
			verr(v, cl->line, "%s: subnet %s/%d is not a network", who,
			     ip4_format(net, n->network), n->prefix_len);
	}
	if (m->interface != NULL && !interface_listed(v->c, m->interface))
		verr(v, cl->line, "%s: interface '%s' is not one of the interfaces DHCP listens on",
		     who, m->interface);
}

static void check_class(struct checker *v, size_t idx)
{
	const struct conf *c = v->c;
	const struct conf_class *cl = &c->classes[idx];
	char who[96];

	if (cl->name == NULL || !profile_name_valid(cl->name)) {
		verr(v, cl->line, "class name '%s' is not valid", cl->name ? cl->name : "");
		return;
	}
	snprintf(who, sizeof(who), "class '%s'", cl->name);
	for (size_t j = 0; j < idx; j++) {
		if (c->classes[j].name != NULL && strcmp(c->classes[j].name, cl->name) == 0) {
			verr(v, cl->line, "duplicate class '%s' (first at line %d)", cl->name,
			     c->classes[j].line);
			break;
		}
	}
	check_class_match(v, cl, who);
	if (cl->profile != NULL && conf_find_profile(c, cl->profile) == NULL)
		verr(v, cl->line, "%s: profile '%s' is not defined", who, cl->profile);
	check_option_set(v, &cl->options, who);
}

static void check_arch_overrides(struct checker *v)
{
	const struct conf *c = v->c;
	char pb[18];

	for (size_t i = 0; i < c->n_arch_overrides; i++) {
		const struct conf_arch_override *o = &c->arch_overrides[i];

		if (o->mac_prefix_len < 1 || o->mac_prefix_len > 6) {
			verr(v, o->line, "arch override: mac_prefix must be 1 to 6 bytes");
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct conf_arch_override *f = &c->arch_overrides[j];
			if (f->mac_prefix_len == o->mac_prefix_len &&
			    memcmp(f->mac_prefix, o->mac_prefix, o->mac_prefix_len) == 0) {
				verr(v, o->line,
				     "arch override for %s is given twice (first at line %d)",
				     mac_prefix_format(pb, o->mac_prefix, o->mac_prefix_len),
				     f->line);
				break;
			}
		}
	}
}

static void check_menu_item(struct checker *v, const struct conf_pxe_menu *m, size_t i)
{
	const struct conf_menu_item *it = &m->items[i];
	const char *label = it->label ? it->label : "";

	if (label[0] == '\0' || strlen(label) > 255)
		verr(v, it->line, "pxe_menu item %zu: the label must be 1 to 255 bytes", i + 1);
	if (it->type == 0 && it->profile != NULL)
		verr(v, it->line, "pxe_menu item '%s': type 0 boots the local disk, not a profile",
		     label);
	else if (it->type != 0 && it->profile == NULL)
		verr(v, it->line, "pxe_menu item '%s' needs a profile", label);
	else if (it->profile != NULL && conf_find_profile(v->c, it->profile) == NULL)
		verr(v, it->line, "pxe_menu item '%s': profile '%s' is not defined", label,
		     it->profile);
	if (it->type > CONF_MENU_TYPE_MAX)
		verr(v, it->line, "pxe_menu item '%s': type %u is out of range (1-%d)", label,
		     it->type, CONF_MENU_TYPE_MAX);
	for (size_t j = 0; j < i; j++) {
		if (m->items[j].type != it->type)
			continue;
		if (it->type == 0)
			verr(v, it->line,
			     "pxe_menu: only one item may boot the local disk (first "
			     "at line %d)",
			     m->items[j].line);
		else
			verr(v, it->line,
			     "pxe_menu: type %u is given to two items (first at line %d)", it->type,
			     m->items[j].line);
		break;
	}
}

/*
 * The menu travels in one option 43 of at most 255 bytes: PXE ROMs do not
 * join split options (RFC 3396). pxe_menu_check() lays it out as the
 * replies will, default prompt included.
 */
static void check_menu(struct checker *v)
{
	const struct conf_pxe_menu *m = v->c->pxe_menu;

	if (m == NULL)
		return;
	if (m->n_items == 0 || m->n_items > CONF_MAX_MENU_ITEMS) {
		verr(v, m->line, "pxe_menu needs 1 to %d items", CONF_MAX_MENU_ITEMS);
		return;
	}
	if (m->prompt != NULL && strlen(m->prompt) > 254)
		verr(v, m->line, "pxe_menu.prompt is longer than 254 bytes");
	for (size_t i = 0; i < m->n_items; i++)
		check_menu_item(v, m, i);
	if (pxe_menu_check(m) < 0)
		verr(v, m->line,
		     "pxe_menu does not fit in the 255 bytes of option 43 (an item takes 10 bytes "
		     "and its label, the prompt 3 and its text); shorten the labels or the prompt, "
		     "or drop items");
}

int conf_validate(const struct conf *c, struct conf_errors *errs)
{
	return conf_validate_over(c, NULL, errs);
}

int conf_validate_over(const struct conf *c, const struct conf *running, struct conf_errors *errs)
{
	struct checker v = {.c = c, .errs = errs, .running = running};

	check_globals(&v);
	check_subnets(&v);
	for (size_t i = 0; i < c->n_profiles; i++)
		check_profile(&v, i);
	check_hosts(&v);
	check_option_set(&v, &c->options, "options");
	for (size_t i = 0; i < c->n_classes; i++)
		check_class(&v, i);
	check_arch_overrides(&v);
	check_menu(&v);
	return v.n_errors > 0 ? -EINVAL : 0;
}

/* ---------------------------------------------------------------------- */
/* Reload: what only a restart applies                                    */

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

const char *conf_restart_change(const struct conf *a, const struct conf *b)
{
	/* Sockets, the sandbox's paths and the tables sized at start. */
	const struct {
		const char *name;
		bool differs;
	} keys[] = {
	    {"interfaces", a->n_interfaces != b->n_interfaces},
	    {"dhcp.mode", a->dhcp_mode != b->dhcp_mode},
	    {"tftp.root", str_differs(a->tftp_root, b->tftp_root)},
	    {"tftp.port", a->tftp_port != b->tftp_port},
	    {"tftp.upload_dir", str_differs(a->tftp_upload_dir, b->tftp_upload_dir)},
	    {"tftp.upload_max_bytes", a->tftp_upload_max_bytes != b->tftp_upload_max_bytes},
	    {"tftp.rate_per_address", a->tftp_rate_per_address != b->tftp_rate_per_address},
	    {"tftp.max_transfers", a->tftp_max_transfers != b->tftp_max_transfers},
	    {"tftp.max_per_client", a->tftp_max_per_client != b->tftp_max_per_client},
	    {"http.root", str_differs(a->http_root, b->http_root)},
	    {"http.port", a->http_port != b->http_port},
	    {"http.max_connections", a->http_max_connections != b->http_max_connections},
	    {"http.max_connections_per_client", a->http_max_per_client != b->http_max_per_client},
	    {"http.header_timeout", a->http_header_timeout_s != b->http_header_timeout_s},
	    {"http.idle_timeout", a->http_idle_timeout_s != b->http_idle_timeout_s},
	    {"http.rate_per_address", a->http_rate_per_address != b->http_rate_per_address},
	    {"http.tls_cert", str_differs(a->http_tls_cert, b->http_tls_cert)},
	    {"http.tls_key", str_differs(a->http_tls_key, b->http_tls_key)},
	    {"http.tls_port", a->http_tls_port != b->http_tls_port},
	    {"tftp.listen or http.listen", a->listen_address != b->listen_address},
	    {"state_dir", str_differs(a->state_dir, b->state_dir)},
	    {"nbp_dirs.ipxe", str_differs(a->nbp_dir_ipxe, b->nbp_dir_ipxe)},
	    {"nbp_dirs.pxelinux", str_differs(a->nbp_dir_pxelinux, b->nbp_dir_pxelinux)},
	    {"nbp_dirs.syslinux", str_differs(a->nbp_dir_syslinux, b->nbp_dir_syslinux)},
	    {"dhcp.rate_per_mac", a->dhcp_rate_per_mac != b->dhcp_rate_per_mac},
	    {"dhcp.rate_per_source", a->dhcp_rate_per_source != b->dhcp_rate_per_source},
	    {"dhcp.new_client_rate", a->dhcp_new_client_rate != b->dhcp_new_client_rate},
	    {"rogue.detect", a->rogue_detect != b->rogue_detect},
	    {"rogue.probe_interval", a->rogue_probe_interval_s != b->rogue_probe_interval_s},
	    {"events.retention", a->events_retention_s != b->events_retention_s},
	    {"events.max_per_machine", a->events_max_per_machine != b->events_max_per_machine},
	    {"events.max_total", a->events_max_total != b->events_max_total},
	    {"security.user", str_differs(a->user, b->user)},
	    {"security.landlock", a->landlock != b->landlock},
	    {"security.seccomp", a->seccomp != b->seccomp},
	    {"api.listen", a->api_address != b->api_address},
	    {"api.port", a->api_port != b->api_port},
	    {"api.token_file", str_differs(a->api_token_file, b->api_token_file)},
	};

	for (size_t i = 0; i < PXED_ARRAY_LEN(keys); i++)
		if (keys[i].differs)
			return keys[i].name;
	for (size_t i = 0; i < a->n_interfaces; i++)
		if (strcmp(a->interfaces[i], b->interfaces[i]) != 0)
			return "interfaces";
	return NULL;
}
