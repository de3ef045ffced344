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

enum conf_dhcp_mode {
	CONF_DHCP_SERVER, /* assigns addresses from the pools */
	CONF_DHCP_PROXY,  /* proxyDHCP: boot information only */
	CONF_DHCP_OFF,	  /* TFTP and HTTP only */
};

struct conf_profile {
	char *name;
	char *kernel;			 /* absolute path of the kernel image */
	char *initrds[CONF_MAX_INITRDS]; /* absolute paths */
	size_t n_initrds;
	char *cmdline; /* may be NULL */
	int line;      /* where it was declared, for messages (0 if from flags) */
};

struct conf_host {
	uint8_t mac[6];
	char *name;	  /* may be NULL */
	uint32_t address; /* reserved address, host order; 0 if none */
	char *profile;	  /* profile name; NULL = the default profile */
	char *cmdline;	  /* appended to the profile's command line; may be NULL */
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
	uint32_t listen_address; /* TFTP/HTTP bind address, host order; 0 = any */

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
	char *default_profile; /* NULL = unknown machines get no boot plan */

	/*
	 * Where some whole-file settings were given, so conf_validate() can
	 * point at them (0 = not from a file, or not given).
	 */
	struct {
		int interfaces, dhcp_mode, default_profile, tftp_root, http_root;
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

/* Checks cross-references (profiles named by hosts exist, pools inside
 * subnets...). Used by conf_load and by main.c for flag-built configs. */
int conf_validate(const struct conf *c, struct conf_errors *errs);

void conf_errors_add(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void conf_errors_free(struct conf_errors *errs);

/* Sorts c->hosts by MAC (then by line), as conf_find_host() requires. */
void conf_sort_hosts(struct conf *c);

const struct conf_profile *conf_find_profile(const struct conf *c, const char *name);
const struct conf_host *conf_find_host(const struct conf *c, const uint8_t mac[6]);
/* The subnet that contains ip, or NULL. */
const struct conf_subnet *conf_find_subnet(const struct conf *c, uint32_t ip);

void conf_free(struct conf *c);

#endif
