/* Error exits shared by the test tools. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "toolkit.h"

void tk_die_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	exit(2);
}

void tk_die(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

uint64_t tk_parse_u64(const char *prog, const char *name, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		tk_die_usage(prog, "%s: not a number: '%s'", name, s);
	v = strtoull(s, &end, 0);
	if (errno || *end != '\0')
		tk_die_usage(prog, "%s: not a number: '%s'", name, s);
	if (v < min || v > max)
		tk_die_usage(prog, "%s: %llu is out of range [%" PRIu64 ", %" PRIu64 "]", name, v,
			     min, max);
	return v;
}
