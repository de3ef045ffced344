/* The TFTP listener: one socket on port 69, one transfer object per RRQ. */
#ifndef PXED_TFTP_SERVER_H
#define PXED_TFTP_SERVER_H

#include <stdint.h>

struct pxed;
struct tftp_server;

/* Binds ip:port (host order; ip 0 = any). 0 or -errno. */
int tftp_server_start(struct pxed *d, uint32_t ip, uint16_t port, struct tftp_server **out);
/* Stops listening and ends every transfer; frees everything. */
void tftp_server_stop(struct tftp_server *s);

#endif
