/*
 * TFTP uploads (WRQ) on libevent, off unless tftp.upload_dir is set. Each
 * upload gets its own UDP socket bound to the address the WRQ reached (RFC
 * 1350: its port is the server's transfer ID), one read event, one timer,
 * and an unnamed temporary file in the target's directory that becomes the
 * named file only once the last block is in (so a failed upload leaves
 * nothing behind and an existing file is replaced atomically). The protocol
 * lives in wxfer.c; server.c hands every WRQ to tftp_upload_request().
 */
#ifndef PXED_TFTP_UPLOAD_H
#define PXED_TFTP_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

struct pxed;
struct udp_meta;

/* Uploads in progress at once, in all and per client address (ERROR 0 past them). */
#define TFTP_UPLOAD_MAX 16
#define TFTP_UPLOAD_MAX_PER_CLIENT 4
/* Finished uploads still answering a retransmitted last DATA; the oldest goes first. */
#define TFTP_UPLOAD_DALLY_MAX 64

/*
 * Handles one WRQ datagram (pkt, len) that reached the listener socket
 * listen_fd from m->peer. Refusals are ERROR packets sent from listen_fd
 * with source address src_ip (0 = any): ERROR 2 when uploads are off or the
 * path is not allowed, 1 for a missing directory, 3 for an announced size
 * over tftp.upload_max_bytes, 0 for too many uploads, 4/8 for a malformed
 * request. A WRQ repeated by a client whose upload is under way is ignored.
 */
void tftp_upload_request(struct pxed *d, int listen_fd, const uint8_t *pkt, size_t len,
			 const struct udp_meta *m, uint32_t src_ip);

/*
 * Ends every upload (the unfinished ones get ERROR 0 and leave no file) and
 * frees d->uploads. Safe when no upload ever started.
 */
void tftp_upload_stop(struct pxed *d);

#endif
