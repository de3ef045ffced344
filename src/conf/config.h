/*
 * The configuration: one immutable snapshot built either from a YAML file
 * (conf_load) or from `pxed boot` flags (main.c), then only read.
 * Everything in it is owned by the snapshot and freed by conf_free().
 */
#ifndef PXED_CONF_CONFIG_H
#define PXED_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_INTERFACES 16
#define CONF_MAX_SUBNETS 64
#define CONF_MAX_PROFILES 256
#define CONF_MAX_HOSTS 65536
#define CONF_MAX_INITRDS 8
#define CONF_MAX_DNS 4
#define CONF_MAX_CMDLINE 2048
#define CONF_MAX_OPTIONS 64	 /* per option set (global, subnet, class, host) */
#define CONF_MAX_OPTION_LEN 1024 /* longer than 255: split on the wire (RFC 3396) */
#define CONF_MAX_CLASSES 64
#define CONF_MAX_CLASS_ARCHES 16
#define CONF_MAX_CLASS_UUIDS 64
#define CONF_MAX_CLASS_SUBNETS 16
#define CONF_MAX_ARCH_OVERRIDES 64
#define CONF_MAX_MENU_ITEMS 16
#define CONF_MAX_CLIENT_ID 255
#define CONF_MAX_PROGRAMS 16 /* per profile: one per architecture name */
#define CONF_MAX_PROGRAM_NAME 127 /* the BOOTP file field holds 128 bytes */
#define CONF_MAX_VARS 32	      /* vars: per profile, per host */
#define CONF_MAX_VAR_VALUE 1024	      /* bytes of one vars: value */
#define CONF_MAX_TEMPLATES 16	      /* templates: per profile */
#define CONF_MAX_TEMPLATE_NAME 64     /* bytes of a templates: file name */

/* Limits (issue 7): defaults and ranges; a rate of 0 turns that limit off. */
#define CONF_DHCP_RATE_PER_MAC_DEFAULT 20u
#define CONF_DHCP_RATE_PER_SOURCE_DEFAULT 2000u
#define CONF_DHCP_NEW_CLIENT_RATE_DEFAULT 50u
#define CONF_TFTP_RATE_PER_ADDRESS_DEFAULT 100u
#define CONF_RATE_MAX 1000000u
#define CONF_TFTP_MAX_TRANSFERS_DEFAULT 1024u
#define CONF_TFTP_MAX_PER_CLIENT_DEFAULT 32u
#define CONF_TFTP_MAX_TRANSFERS_MAX 65536u

/* HTTP connection limits (http.*, docs/config.md). */
#define CONF_HTTP_MAX_CONNECTIONS_DEFAULT 1024u
#define CONF_HTTP_MAX_PER_CLIENT_DEFAULT 32u
#define CONF_HTTP_MAX_CONNECTIONS_MAX 65536u
#define CONF_HTTP_HEADER_TIMEOUT_DEFAULT 10u /* seconds */
#define CONF_HTTP_IDLE_TIMEOUT_DEFAULT 30u   /* seconds */
#define CONF_HTTP_TIMEOUT_MAX 3600u	     /* seconds */
#define CONF_HTTP_RATE_PER_ADDRESS_DEFAULT 100u

#define CONF_UPLOAD_MAX_DEFAULT (64ull << 20) /* tftp.upload_max_bytes: 64 MiB */
#define CONF_UPLOAD_MAX_LIMIT (1ull << 40)    /* 1 TiB: more is surely a typo */

/* events: retention of the boot timelines (defaults and ranges). */
#define CONF_EVENTS_RETENTION_DEFAULT_S (14u * 86400u)
#define CONF_EVENTS_RETENTION_MIN_S 3600u
#define CONF_EVENTS_RETENTION_MAX_S (3650u * 86400u)
#define CONF_EVENTS_PER_MACHINE_DEFAULT 2000u
#define CONF_EVENTS_PER_MACHINE_MIN 100u
#define CONF_EVENTS_PER_MACHINE_MAX 1000000u
#define CONF_EVENTS_TOTAL_DEFAULT 1000000u
#define CONF_EVENTS_TOTAL_MIN 1000u
#define CONF_EVENTS_TOTAL_MAX 1000000000u

enum conf_dhcp_mode {
	CONF_DHCP_SERVER, /* assigns addresses from the pools */
	CONF_DHCP_PROXY,  /* proxyDHCP: boot information only */
	CONF_DHCP_OFF,	  /* TFTP and HTTP only */
};

/* What a subnet does for machines not in hosts (its `unknown:` key). */
enum conf_unknown {
	CONF_UNKNOWN_BOOT,     /* default_profile, as for every machine (the default) */
	CONF_UNKNOWN_IGNORE,   /* no reply at all */
	CONF_UNKNOWN_DISCOVER, /* an address (full DHCP) and no boot program; listed as discovered */
};

/* "boot", "ignore", "discover". */
const char *conf_unknown_name(enum conf_unknown u);

/* One DHCP option value, already encoded as it goes on the wire. */
struct conf_option {
	uint8_t code;
	uint16_t len; /* up to CONF_MAX_OPTION_LEN */
	uint8_t *data;
	int line;
};

/* Options set at one level; later levels override earlier ones by code. */
struct conf_options {
	struct conf_option *v; /* array of n */
	size_t n;
};

/* What a class matches: every condition that is set must hold. */
struct conf_match {
	char *vendor_class_prefix;		/* option 60 starts with this; NULL = any */
	char *user_class;			/* option 77 equals this; NULL = any */
	uint16_t arches[CONF_MAX_CLASS_ARCHES]; /* option 93 is one of these */
	size_t n_arches;			/* 0 = any */
	uint8_t mac_prefix[6];
	size_t mac_prefix_len; /* bytes of mac_prefix that must match; 0 = any */
	uint32_t relay;	       /* giaddr equals this (host order); 0 = any */
	char *interface;       /* received on this interface; NULL = any */
	/* Option 97's 16 bytes, in the order sent, are one of these (n_uuids of them). */
	uint8_t (*uuids)[16];
	size_t n_uuids; /* 0 = any */
	/* The address that picks the client's subnet lies in one of these networks. */
	struct conf_cidr {
		uint32_t network; /* host order, no host bits */
		int prefix_len;	  /* 1-32 */
	} subnets[CONF_MAX_CLASS_SUBNETS];
	size_t n_subnets; /* 0 = any */
};

/* Classes apply in file order after the subnet's options, before the host's. */
struct conf_class {
	char *name;
	struct conf_match match;
	struct conf_options options;
	char *profile; /* machines in the class boot this profile; NULL = unchanged */
	int line;
};

/* Firmware that lies about its architecture (Raspberry Pi sends 0). */
struct conf_arch_override {
	uint8_t mac_prefix[6];
	size_t mac_prefix_len;
	uint16_t arch;
	int line;
};

/*
 * A PXE boot menu (PXE 2.1 §2.4.7, option 43 sub-options 8, 9, 10). The
 * first item is the default, booted when the prompt times out.
 */
struct conf_menu_item {
	uint16_t type; /* boot server type sent back in sub-option 71; 0 = local disk */
	char *label;   /* at most 255 bytes */
	char *profile; /* profile booted by this item; NULL with type 0 */
	int line;
};

struct conf_pxe_menu {
	char *prompt;	   /* sub-option 10 text; NULL = no prompt */
	uint8_t timeout_s; /* 0 = boot the default at once; 255 = wait for a key */
	struct conf_menu_item items[CONF_MAX_MENU_ITEMS];
	size_t n_items;
	int line;
};

/*
 * A boot program a profile chooses for one architecture, instead of the
 * default iPXE build (policy.c's table).
 */
struct conf_program {
	uint16_t arch; /* the first code of its name: efi-x64 is 7 and stands for 9 too */
	char *file;    /* a name in the virtual tree: "pxelinux.0", "grubnetx64.efi" */
	int line;
};

/* One of the `vars:` of a profile or a host (boot/template.h variables). */
struct conf_var {
	char *name;  /* [a-z_][a-z0-9_]*, not one of the built-in variables */
	char *value; /* at most CONF_MAX_VAR_VALUE bytes, no control character */
	int line;
};

struct conf_vars {
	struct conf_var *v; /* array of n, at most CONF_MAX_VARS */
	size_t n;
};

struct tmpl;

/*
 * One of a profile's `templates:`: served as install/<mac>/<name>, or
 * replacing the built-in iPXE, pxelinux or GRUB file when name is "ipxe",
 * "pxelinux" or "grub". Compiled when the config is loaded.
 */
struct conf_template {
	char *name;
	char *path;	   /* absolute */
	struct tmpl *tmpl; /* owned; NULL until compiled (conf_load) */
	int line;
};

struct conf_profile {
	char *name;
	char *kernel;			 /* absolute path of the kernel image */
	char *initrds[CONF_MAX_INITRDS]; /* absolute paths */
	size_t n_initrds;
	char *cmdline; /* may be NULL */
	struct conf_program programs[CONF_MAX_PROGRAMS];
	size_t n_programs;
	struct conf_vars vars;
	struct conf_template *templates; /* array of n_templates */
	size_t n_templates;
	int line; /* where it was declared, for messages (0 if from flags) */
};

/*
 * A host is found by MAC, by client identifier, or by either when it has
 * both. A host with has_mac false and no client identifier (one filled in
 * by hand, from `pxed boot` flags) counts as known by its MAC.
 */
struct conf_host {
	uint8_t mac[6];
	bool has_mac; /* false: the host is known by its client identifier only */
	uint8_t client_id[CONF_MAX_CLIENT_ID]; /* option 61, as sent */
	size_t client_id_len;		       /* 0 = none */
	struct conf_options options;
	char *name;	  /* may be NULL */
	uint32_t address; /* reserved address, host order; 0 if none */
	char *profile;	  /* profile name; NULL = the default profile */
	char *cmdline;	  /* appended to the profile's command line; may be NULL */
	struct conf_vars vars; /* over the profile's of the same name */
	/*
	 * install: true: the host has a provisioning life cycle (boot/states.h)
	 * and starts marked for install; a state in the store wins over this.
	 */
	bool install;
	int line;
};

struct conf_subnet {
	uint32_t network; /* host order */
	int prefix_len;
	uint32_t pool_first, pool_last; /* host order, inclusive; 0,0 = no pool */
	uint32_t router;		/* 0 = none */
	uint32_t dns[CONF_MAX_DNS];
	size_t n_dns;
	char *domain;	       /* may be NULL */
	uint32_t lease_time_s; /* 0 = the global default */
	uint32_t max_leases;   /* leases at once from this subnet's pool; 0 = no limit */
	enum conf_unknown unknown; /* machines not in hosts */
	struct conf_options options;
	int line;
};

struct conf {
	char *path; /* file it was loaded from, or NULL */

	char *interfaces[CONF_MAX_INTERFACES];
	size_t n_interfaces;
	enum conf_dhcp_mode dhcp_mode;
	uint32_t lease_time_s; /* default 3600 */

	/*
	 * The address pxed gives clients for its own TFTP and HTTP servers.
	 * 0 = the address of the interface the request arrived on.
	 */
	uint32_t server_address;

	char *tftp_root;	 /* may be NULL: only built-in and rendered files */
	uint16_t tftp_port;	 /* default 69 */
	char *http_root;	 /* may be NULL */
	uint16_t http_port;	 /* default 80 */
	/*
	 * HTTP connections at once, and from one client address; the time a
	 * client has for a request's headers, and a kept-alive connection may
	 * sit idle (http/server.c).
	 */
	uint32_t http_max_connections, http_max_per_client;
	uint32_t http_header_timeout_s, http_idle_timeout_s;
	uint32_t http_rate_per_address; /* HTTP requests a second per client address */
	/*
	 * HTTPS (http/tls.h): a PEM certificate chain and its key, both or
	 * neither; served on http_tls_port (default 443) beside http_port.
	 */
	char *http_tls_cert, *http_tls_key; /* NULL: no HTTPS */
	uint16_t http_tls_port;
	int http_tls_cert_line, http_tls_key_line; /* where they were set; 0: not in a file */
	uint32_t listen_address; /* TFTP/HTTP bind address, host order; 0 = any */
	/*
	 * TFTP uploads (WRQ) are refused while tftp_upload_dir is NULL (the
	 * default); each may be at most tftp_upload_max_bytes long.
	 */
	char *tftp_upload_dir;
	uint64_t tftp_upload_max_bytes;

	char *state_dir;	/* default /var/lib/pxed */
	char *nbp_dir_ipxe;	/* where ipxe's programs are: /usr/lib/ipxe */
	char *nbp_dir_pxelinux; /* /usr/lib/PXELINUX */
	char *nbp_dir_syslinux; /* /usr/lib/syslinux/modules/bios */

	struct conf_subnet subnets[CONF_MAX_SUBNETS];
	size_t n_subnets;
	struct conf_profile profiles[CONF_MAX_PROFILES];
	size_t n_profiles;
	/*
	 * Array of n_hosts, sorted by MAC so conf_find_host() can bsearch:
	 * conf_load() sorts it; code that fills it by hand calls conf_sort_hosts().
	 */
	struct conf_host *hosts;
	size_t n_hosts;
	/*
	 * The hosts that have a client identifier, sorted by it for
	 * conf_find_host_by_client_id(); built by conf_sort_hosts().
	 */
	const struct conf_host **hosts_by_client_id;
	size_t n_hosts_by_client_id;
	char *default_profile; /* NULL = unknown machines get no boot plan */

	/* DHCP beyond the basics (issue 3). */
	bool authoritative;  /* NAK requests for addresses we do not know (default true) */
	uint32_t max_leases; /* 0 = no limit beyond the pools */
	/*
	 * Limits (issue 7, docs/config.md "Limits"): rates are packets a second
	 * with bursts of twice that (core/ratelimit.h); 0 turns one off.
	 */
	bool dhcp_known_only;	       /* answer only the machines listed in hosts */
	uint32_t dhcp_rate_per_mac;    /* DHCP packets a second per client MAC */
	uint32_t dhcp_rate_per_source; /* per relay (giaddr) or unicast source address */
	uint32_t dhcp_new_client_rate; /* offers a second to new clients before offers turn brief */
	uint32_t tftp_rate_per_address; /* TFTP requests a second per client address */
	uint32_t tftp_max_transfers;	/* TFTP downloads at once */
	uint32_t tftp_max_per_client;	/* TFTP downloads at once from one address */
	struct conf_options options;	/* global options, the lowest precedence */
	struct conf_class classes[CONF_MAX_CLASSES];
	size_t n_classes;
	struct conf_arch_override arch_overrides[CONF_MAX_ARCH_OVERRIDES];
	size_t n_arch_overrides;
	struct conf_pxe_menu *pxe_menu; /* NULL = no menu: discovery control 8 */

	/* Rogue DHCP detection (dhcp/rogue.h): other DHCP servers on our interfaces. */
	bool rogue_detect;		 /* default true; nothing is watched with dhcp.mode off */
	uint32_t rogue_probe_interval_s; /* a DISCOVER of pxed's own this often; 0 = never */

	/* Boot event retention (`events:`; obs/events.c prunes the store every minute). */
	uint32_t events_retention_s;	 /* events older than this go; default 14 d */
	uint32_t events_max_per_machine; /* newest kept per MAC; default 2000 */
	uint32_t events_max_total;	 /* newest kept in all; default 1,000,000 */

	/*
	 * The inventory API (`api:`, http/admin.c): served on api_address:
	 * api_port, only when api_token_file names the file holding its bearer
	 * token (read when pxed starts).
	 */
	uint32_t api_address; /* host order; default 127.0.0.1 */
	uint16_t api_port;    /* default 8780 */
	char *api_token_file; /* NULL: no API that changes anything */

	/* Least privilege after start (`security:`, core/priv.h, docs/security.md). */
	char *user;	   /* the account to become when started as root; default "pxed" */
	bool landlock;	   /* confine file access and TCP (default true) */
	bool seccomp;	   /* the system call allowlist (default true) */

	/*
	 * Where some whole-file settings were given, so conf_validate() can
	 * point at them (0 = not from a file, or not given).
	 */
	struct {
		int interfaces, dhcp_mode, default_profile, tftp_root, http_root;
		int tftp_upload_dir, state_dir;
		int user, api_token_file;
	} lines;
};

/* Error reporting: every error is one "file:line: message" line. */
struct conf_errors {
	char **msgs;
	size_t n;
};

/* Returns a snapshot with the built-in defaults filled in (never NULL). */
struct conf *conf_new_defaults(void);

/*
 * Loads and validates a YAML config. On success returns 0 and *out; on
 * failure returns -EINVAL (or -errno for I/O) and fills errs with every
 * problem found, each as "file:line: message".
 */
int conf_load(const char *path, struct conf **out, struct conf_errors *errs);

/*
 * Hosts and profiles put through the API (http/admin.c), kept in the store
 * as text in the config file's own format (JSON being YAML): a host entry's
 * keys, or a profile's. Each replaces the file's host with that MAC, or its
 * profile of that name, or adds one. Entries carry CONF_LINE_API as their
 * line: messages about them name "api" instead of the file.
 */
enum conf_entry_kind { CONF_ENTRY_HOST, CONF_ENTRY_PROFILE };

struct conf_entry {
	enum conf_entry_kind kind;
	const char *name; /* host: its MAC, "52:54:00:12:34:56"; profile: its name */
	const char *body; /* NUL-terminated */
};

#define CONF_LINE_API (-1)
/* Bytes of one entry's body, at most. */
#define CONF_ENTRY_MAX 65536

/*
 * conf_load() from the file's text already read (path names it in
 * messages and anchors its relative paths), then every entry in order.
 * Errors in an entry's body read "api host 52:54:00:12:34:56:LINE: ...".
 */
int conf_load_layered(const char *path, const char *text, size_t len,
		      const struct conf_entry *entries, size_t n, struct conf **out,
		      struct conf_errors *errs);

/*
 * conf_load_layered() for a configuration that is to replace running (a
 * reload, an API change): what only a start reads (the TLS key, the API's
 * token) is not opened again, and is the same or the change is refused
 * (conf_restart_change). conf_validate_over() is the same for conf_validate().
 */
int conf_load_over(const struct conf *running, const char *path, const char *text, size_t len,
		   const struct conf_entry *entries, size_t n, struct conf **out,
		   struct conf_errors *errs);
int conf_validate_over(const struct conf *c, const struct conf *running,
		       struct conf_errors *errs);

/* Reads path whole (at most CONF_MAX_FILE_SIZE) into a new NUL-terminated buffer. */
int conf_read_file(const char *path, char **out, size_t *len, struct conf_errors *errs);

/*
 * The first setting that differs between a and b and takes effect only
 * when pxed starts (ports, roots, interfaces, limits, the sandbox...), as
 * the config file spells it; NULL when a reload can apply b.
 */
const char *conf_restart_change(const struct conf *a, const struct conf *b);

/* Checks cross-references (profiles named by hosts exist, pools inside
 * subnets...). Used by conf_load and by main.c for flag-built configs. */
int conf_validate(const struct conf *c, struct conf_errors *errs);

void conf_errors_add(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void conf_errors_free(struct conf_errors *errs);

/*
 * Sorts c->hosts by MAC (then by line; hosts known only by client identifier
 * last), as conf_find_host() requires, and rebuilds c->hosts_by_client_id.
 */
void conf_sort_hosts(struct conf *c);

const struct conf_profile *conf_find_profile(const struct conf *c, const char *name);
const struct conf_host *conf_find_host(const struct conf *c, const uint8_t mac[6]);
/* The host reserved by client identifier (option 61), or NULL. */
const struct conf_host *conf_find_host_by_client_id(const struct conf *c, const uint8_t *id,
						    size_t len);
/* The subnet that contains ip, or NULL. */
const struct conf_subnet *conf_find_subnet(const struct conf *c, uint32_t ip);

void conf_free(struct conf *c);

#endif
