/* `pxed timeline MAC`: a machine's boot as recorded in the store. */
#ifndef PXED_OBS_TIMELINE_H
#define PXED_OBS_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Prints MAC's last boot session as steps (consecutive DHCP exchanges folded
 * into one step, each transfer a step), or every event with all=true, or the
 * events as a JSON array. Returns the process exit status.
 */
int timeline_print(const char *state_dir, const uint8_t mac[6], bool json, bool all);

#endif
