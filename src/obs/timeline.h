/* `pxed timeline MAC`: a machine's boot as recorded in the store. */
#ifndef PXED_OBS_TIMELINE_H
#define PXED_OBS_TIMELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_event;

/*
 * Prints MAC's last boot session (obs.h: a firmware DISCOVER after the
 * machine got past DHCP, or a pause over two minutes, starts one) as steps:
 * consecutive DHCP exchanges folded into one step, each transfer a step,
 * and files that were not there ("refused" events) in a row folded into one
 * "refused" line that names them, newest first. Refusals the machine got
 * past (a successful transfer follows them in the session: pxelinux's
 * probes of a dozen configuration names) are left out; only those after
 * its last fetch, where a boot can have stopped, are shown.
 * all=true prints every recorded session, each under its own heading, with
 * every refusal. json=true prints the events themselves (the last session,
 * or all) as a JSON array of timeline_event_json() objects. Returns the
 * process exit status.
 */
int timeline_print(const char *state_dir, const uint8_t mac[6], bool json, bool all);

/*
 * One event as JSON: ts_us, session, mac, ip, proto, kind, detail, bytes,
 * duration_us, ok, and those of expected, arch (+ arch_name), vendor_class,
 * user_class, relay, interface, boot_item, decision, source, profile, file,
 * block, retries that are set. The caller owns the result.
 */
json_t *timeline_event_json(const struct store_event *e);

#endif
