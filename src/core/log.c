#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Logging settings are process-wide and set once at start-up before the loop
 * runs; nothing mutates them afterwards.
 */
static enum log_format log_fmt = LOG_TEXT;
static enum log_level log_lvl = LOG_INFO;

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

void log_setup(enum log_format format, enum log_level level)
{
	log_fmt = format;
	log_lvl = level;
}

bool log_enabled(enum log_level level)
{
	return level <= log_lvl;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_JSON;
	else
		return -1;
	return 0;
}

char *log_escape(char *out, size_t cap, const void *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = in;
	size_t o = 0;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void log_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char msg[1024];
	char ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > log_lvl)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t l = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + l, sizeof(ts) - l, ".%03ldZ", now.tv_nsec / 1000000);

	if (log_fmt == LOG_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":", ts,
			log_level_names[level]);
		log_json_string(stderr, module);
		fputs(",\"msg\":", stderr);
		log_json_string(stderr, msg);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s %-5s %-5s %s\n", ts, log_level_names[level], module, msg);
	}
	fflush(stderr);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	fputs("pxed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
