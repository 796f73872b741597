/* The few libc string routines the freestanding guest uses, plus option parsing. */
#include "types.h"

/* Bulk copies and fills go 8 bytes per iteration: under TCG every
 * iteration of a rep string instruction costs about the same, whatever its
 * width, and kexec fills a megabyte of .bss per generation. */
void *
memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q)::"memory");
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(r)::"memory");
	return ret;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *
memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	u64 pattern = 0x0101010101010101ULL * (u8)c;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep stosq"
	                 : "+D"(dst), "+c"(q)
	                 : "a"(pattern)
	                 : "memory");
	__asm__ volatile("rep stosb"
	                 : "+D"(dst), "+c"(r)
	                 : "a"(pattern)
	                 : "memory");
	return ret;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int
strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

char *
strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return c ? NULL : (char *)s;
}

size_t
parse_u64(const char *s, u64 *out)
{
	const char *p = s;
	unsigned base = 10;
	u64 v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	if (p == s || (base == 16 && p == s + 2))
		return 0;
	*out = v;
	return p - s;
}

bool
opt_get(const char *opts, const char *key, char *val, size_t valsz)
{
	size_t klen = strlen(key);
	const char *p = opts;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && n + 1 < valsz) {
				val[n] = p[n];
				n++;
			}
			val[n] = 0;
			return true;
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}
