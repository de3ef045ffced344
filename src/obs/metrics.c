#include "obs/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct metric_def {
	const char *name, *labels, *help;
};

static const struct metric_def metric_defs[METRIC_COUNT] = {
#define METRIC_DEF(id, name, labels, help) [METRIC_##id] = {name, labels, help},
    METRICS_TABLE(METRIC_DEF)
#undef METRIC_DEF
};

int metrics_render(const struct metrics *m, char *out, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < METRIC_COUNT; i++) {
		const struct metric_def *d = &metric_defs[i];
		int n;
		/* HELP and TYPE once per family: families are adjacent in the table. */
		if (i == 0 || strcmp(metric_defs[i - 1].name, d->name) != 0) {
			n = snprintf(out + len, cap - len, "# HELP %s %s\n# TYPE %s counter\n",
				     d->name, d->help, d->name);
			if (n < 0 || (size_t)n >= cap - len)
				return -ENOSPC;
			len += (size_t)n;
		}
		if (d->labels[0] != '\0')
			n = snprintf(out + len, cap - len, "%s{%s} %llu\n", d->name, d->labels,
				     (unsigned long long)m->c[i]);
		else
			n = snprintf(out + len, cap - len, "%s %llu\n", d->name,
				     (unsigned long long)m->c[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	return (int)len;
}
