/* JSON text for the app-layer records: numbers, times, and strings escaped whatever their bytes. */
#include "ringcap/utf8.h"
#include "json_out.h"

void jout_secs(struct jout *o, uint64_t ns, unsigned digits)
{
	if (digits > 9)
		digits = 9;
	jout_u64(o, ns / 1000000000u);
	if (digits == 0)
		return;
	char frac[9];
	uint64_t f = ns % 1000000000u;
	for (int i = 8; i >= 0; i--) {
		frac[i] = (char)('0' + f % 10);
		f /= 10;
	}
	o->p[o->pos++] = '.';
	jout_raw(o, frac, digits);
}

void jout_str(struct jout *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	o->p[o->pos++] = '"';
	while (i < n) {
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		jout_raw(o, s + i, run - i);
		i = run;
		if (i == n)
			break;
		uint8_t b = p[i];
		if (b == '"' || b == '\\') {
			o->p[o->pos++] = '\\';
			o->p[o->pos++] = (char)b;
			i++;
			continue;
		}
		size_t u = b >= 0x80 ? rc_utf8_len(p + i, n - i) : 0;
		if (u) {
			jout_raw(o, s + i, u);
			i += u;
			continue;
		}
		char esc[6] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 15]};
		jout_raw(o, esc, sizeof(esc));
		i++;
	}
	o->p[o->pos++] = '"';
}
