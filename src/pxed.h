/*
 * The daemon object: the only long-lived mutable state. It is created in
 * main.c and passed explicitly to every module; nothing else is global.
 */
#ifndef PXED_PXED_H
#define PXED_PXED_H

#include "obs/facts.h"
#include "obs/metrics.h"

struct event_base;
struct conf;
struct store;
struct obs;
struct dhcp_server;
struct tftp_server;
struct tftp_uploads;
struct http_server;
struct http_admin;
struct obs_live;
struct rogue_watch;
struct snapshot;
struct boot_states;

struct pxed {
	struct event_base *base;
	const struct conf *conf; /* immutable snapshot; daemon/snapshot.c replaces it */
	struct snapshot *snap;	 /* what conf is built from (daemon/snapshot.h) */
	struct store *store;
	struct obs *obs;
	struct metrics metrics;
	struct dhcp_server *dhcp;
	struct tftp_server *tftp;
	struct tftp_uploads *uploads; /* tftp/upload.c: made by the first WRQ, NULL before */
	struct http_server *http;
	struct http_admin *admin;   /* http/admin.h: the inventory API; NULL without a token */
	struct obs_live *live;	    /* obs/live.h: transfers in progress, recent events */
	struct rogue_watch *rogue;  /* dhcp/rogue.h: other DHCP servers seen; may be NULL */
	struct boot_states *states; /* boot/states.h: provisioning life cycles (http/provision.c) */
	struct obs_facts facts; /* obs/facts.h: what each machine last told DHCP, for templates */
};

#endif
