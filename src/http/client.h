/*
 * `pxed status` and `pxed events`: the running daemon's live view, read
 * from its JSON API (docs/api.md) over HTTP/1.1 with a small blocking
 * client (timeouts on every read, capped lines, headers and bodies).
 */
#ifndef PXED_HTTP_CLIENT_H
#define PXED_HTTP_CLIENT_H

/* The subcommands; argv[0] is the command's name. Return the exit status. */
int http_cli_status(int argc, char **argv);
int http_cli_events(int argc, char **argv);
/* `pxed hosts`, `pxed profiles`: the inventory, from the inventory API (http/admin.h). */
int http_cli_hosts(int argc, char **argv);
int http_cli_profiles(int argc, char **argv);

#endif
