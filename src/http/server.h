/* HTTP: files and per-machine scripts from the virtual tree, and /metrics. */
#ifndef PXED_HTTP_SERVER_H
#define PXED_HTTP_SERVER_H

#include <stdint.h>

struct pxed;
struct http_server;

/* Listens on ip:port (host order; ip 0 = any). 0 or -errno. */
int http_server_start(struct pxed *d, uint32_t ip, uint16_t port, struct http_server **out);
void http_server_stop(struct http_server *s);

#endif
