/* Always-on invariant checks (Varnish's AN/AZ spirit): a broken invariant stops the process. */
#ifndef RINGCAP_ASSERT_H
#define RINGCAP_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define RC_ASSERT(cond)                                                                   \
	do {                                                                              \
		if (__builtin_expect(!(cond), 0)) {                                       \
			fprintf(stderr, "ringcap: assertion failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                      \
			abort();                                                          \
		}                                                                         \
	} while (0)

#define RC_WRONG(msg) RC_ASSERT(!(msg))

#define RC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
