/*
 * GET /api/v1/discovered (docs/api.md): the unknown machines registered on
 * subnets with `unknown: discover`, while they are still unknown (a machine
 * given a host entry leaves the list), the most recently seen first.
 */
#ifndef PXED_HTTP_DISCOVERED_H
#define PXED_HTTP_DISCOVERED_H

struct pxed;
struct evhttp_request;
struct http_api;

/* Machines in one reply at most. */
#define DISCOVERED_API_MAX 1000

/*
 * Answers a GET or HEAD of path when it is the discovered list: 1 when
 * handled (a reply was sent), 0 when path is another endpoint's.
 */
int discovered_api_handle(struct http_api *a, struct evhttp_request *req, const char *path);

#endif
