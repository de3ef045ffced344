/*
 * Logging: human-readable text (default) or one JSON object per line.
 * Every string that came from a peer must pass through log_escape() first.
 */
#ifndef PXED_CORE_LOG_H
#define PXED_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_TEXT, LOG_JSON };

void log_setup(enum log_format format, enum log_level level);
int log_parse_level(const char *s, enum log_level *out);
/* Is level logged? Lets a hot path skip formatting what nobody will read. */
bool log_enabled(enum log_level level);
int log_parse_format(const char *s, enum log_format *out);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/*
 * Copies at most n bytes of peer data into out (of size cap) with every byte
 * outside printable ASCII, and the quote and backslash, written as \xHH.
 * Always NUL-terminates; returns out.
 */
char *log_escape(char *out, size_t cap, const void *in, size_t n);

/* Prints "pxed: message" to stderr and exits 1. Only at start-up. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
