/*
 * HTTP file serving: GET and HEAD of the virtual tree (boot/vfs.h) with
 * byte ranges, validators and conditional requests (http/range.h).
 */
#ifndef PXED_HTTP_FILES_H
#define PXED_HTTP_FILES_H

struct pxed;
struct evhttp_request;

/* Answers a GET or HEAD for path (percent-decoded, starting with '/'). */
void http_files_serve(struct pxed *d, struct evhttp_request *req, const char *path);

/* A plain-text error reply ("404 Not Found"), counted in the metrics. */
void http_reply_error(struct pxed *d, struct evhttp_request *req, int code, const char *reason);

#endif
