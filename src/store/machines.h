/*
 * Which machines the store has events of, newest activity first: for the
 * JSON API's machine lists. A read-only SQLite connection of its own, so
 * that the store's prepared statements and transactions stay the daemon's.
 */
#ifndef PXED_STORE_MACHINES_H
#define PXED_STORE_MACHINES_H

#include <stddef.h>
#include <stdint.h>

struct store_machines;

/* Opens state_dir/pxed.db read-only (the daemon has created it). 0 or -EIO. */
int store_machines_open(const char *state_dir, struct store_machines **out);
void store_machines_close(struct store_machines *m);

/*
 * Fills out with up to cap distinct MACs, the one with the newest event
 * first. scan > 0 looks only through the newest `scan` events (cheap: for a
 * view polled every second); scan 0 looks through all of them. Returns how
 * many, or -EIO.
 */
int store_machines_recent(struct store_machines *m, size_t scan, uint8_t (*out)[6], size_t cap);

#endif
