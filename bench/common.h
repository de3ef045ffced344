/*
 * What the load generators of bench/ (dhcp, tftp, http) report alike:
 * latency percentiles and the client's own CPU time. Header-only: each
 * loadgen is one program of its own.
 */
#ifndef PXED_BENCH_COMMON_H
#define PXED_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "core/util.h"

/* qsort's comparison of uint32_t values (latencies, addresses). */
static inline int bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..1) of n sorted latencies in µs, in milliseconds. */
static inline double bench_pct_ms(const uint32_t *v, uint64_t n, double p)
{
	if (n == 0)
		return 0;
	uint64_t rank = (uint64_t)(p * (double)n + 0.999999);
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	return v[rank - 1] / 1000.0;
}

/* The load generator's own CPU seconds: near the run's, the client may have been the bottleneck. */
static inline double bench_self_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* An option's whole number in min..max into *out; -EINVAL, said on stderr, otherwise. */
static inline int bench_num(const char *prog, const char *name, const char *s, uint64_t min,
			    uint64_t max, uint32_t *out)
{
	uint64_t v;
	if (parse_u64(s, min, max, &v) < 0) {
		fprintf(stderr, "%s: --%s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
			prog, name, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

#endif
