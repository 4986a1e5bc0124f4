/* Small pieces the test tools (ringcap-gen, ringcap-gencap) share: errors, a PRNG step, big-endian
 * stores and the Internet checksum. */
#ifndef RINGCAP_TOOLKIT_H
#define RINGCAP_TOOLKIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "PROG: message" and the --help hint on stderr, then exit(2) (a bad command line). */
void __attribute__((noreturn, format(printf, 2, 3)))
tk_die_usage(const char *prog, const char *fmt, ...);

/* "PROG: message" on stderr, then exit(1). */
void __attribute__((noreturn, format(printf, 2, 3))) tk_die(const char *prog, const char *fmt, ...);

/*
 * The value of option `name`: a whole number (decimal, 0x hex or 0 octal) in [min, max], or a
 * usage error (exit 2) that names the option.
 */
uint64_t tk_parse_u64(const char *prog, const char *name, const char *s, uint64_t min,
		      uint64_t max);

/* One step of splitmix64: a good 64-bit mix, and the usual way to seed a larger generator. */
static inline uint64_t tk_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* xoshiro256** seeded by splitmix64: the tools' deterministic random numbers. */
struct tk_rng {
	uint64_t s[4];
};

static inline void tk_rng_seed(struct tk_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = tk_splitmix64(&seed);
}

static inline uint64_t tk_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t tk_rng_next(struct tk_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = tk_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = tk_rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n) (n > 0); the multiply-shift bias is far below anything we measure. */
static inline uint64_t tk_rng_below(struct tk_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)tk_rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static inline uint64_t tk_rng_range(struct tk_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + tk_rng_below(r, hi - lo + 1);
}

/*
 * Host numbering of the capture generators: x -> (a*x + b) mod 65534 is a bijection when
 * gcd(a, 65534 = 2*7*31*151) = 1, so session ids map to distinct hosts in a seeded order.
 */
static inline void tk_host_map(struct tk_rng *r, uint32_t *a, uint32_t *b)
{
	do {
		*a = (uint32_t)tk_rng_range(r, 1, 65533) | 1;
	} while (*a % 7 == 0 || *a % 31 == 0 || *a % 151 == 0);
	*b = (uint32_t)tk_rng_below(r, 65534);
}

/*
 * Time stamp steps of a capture at pps packets/s: uniform in [lo, hi] around the mean; a
 * microsecond file keeps whole microseconds, so the written time stamps still strictly increase.
 */
static inline void tk_ts_steps(uint64_t pps, int nsec, uint64_t *lo, uint64_t *hi)
{
	uint64_t mean = 1000000000ULL / pps;
	if (!nsec) {
		mean = (mean + 500) / 1000 * 1000;
		if (mean < 1000)
			mean = 1000;
	} else if (mean < 1) {
		mean = 1;
	}
	*lo = mean / 2 ? mean / 2 : 1;
	*hi = mean + (mean - *lo);
	if (!nsec) {
		*lo = (*lo + 999) / 1000 * 1000;
		*hi = *hi / 1000 * 1000;
	}
}

static inline void tk_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tk_put32(uint8_t *p, uint32_t v)
{
	tk_put16(p, (uint16_t)(v >> 16));
	tk_put16(p + 2, (uint16_t)v);
}

static inline void tk_put64(uint8_t *p, uint64_t v)
{
	tk_put32(p, (uint32_t)(v >> 32));
	tk_put32(p + 4, (uint32_t)v);
}

/* Ones'-complement sum of len bytes read as big-endian 16-bit words (an odd tail padded with a
 * zero byte), added to sum and not yet folded. */
static inline uint64_t tk_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w = __builtin_bswap64(w);
		sum += w >> 32;
		sum += w & 0xffffffffu;
		p += 8;
		len -= 8;
	}
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Fold a sum to 16 bits (not inverted: the checksum field is its complement). */
static inline uint16_t tk_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif
