/*
 * cidr.c: addresses, ranges and the client behind trusted proxies (cidr.h).
 *
 * Addresses are read by inet_pton(), which takes IPv4 in dotted decimal
 * only (no "010.1", no "10.1") and IPv6 without a zone ("fe80::1%eth0" is
 * refused): what a proxy writes and nothing cleverer.
 */
#include "http/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Reads an address of `len` bytes; an IPv4-mapped IPv6 address becomes IPv4. */
static int read_addr(const char *s, size_t len, unsigned char addr[16], unsigned char *family)
{
	char text[CIDR_ADDR_TEXT];
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		if (!memcmp(addr, v4_mapped, sizeof(v4_mapped))) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			*family = 4;
		}
		return 0;
	}
	return -1;
}

int cidr_parse(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	struct cidr c = { 0 };
	if (read_addr(s, len, c.addr, &c.family))
		return -1;
	bool mapped = c.family == 4 && memchr(s, ':', len); /* ::ffff:a.b.c.d */
	unsigned max = c.family == 4 ? 32 : 128;
	unsigned bits = max;
	if (slash) {
		const char *p = slash + 1;
		size_t nd = strspn(p, "0123456789");
		if (nd == 0 || nd > 3 || p[nd])
			return -1;
		bits = (unsigned)atoi(p);
		if (mapped) {
			/* ::ffff:10.0.0.0/104 is 10.0.0.0/8. */
			if (bits < 96 || bits > 128)
				return -1;
			bits -= 96;
		}
		if (bits > max)
			return -1;
	}
	c.bits = (unsigned char)bits;
	/* Host bits set: a typo more likely than a meaning ("10.0.0.1/8"). */
	for (unsigned i = bits; i < max; i++)
		if (c.addr[i / 8] & (0x80u >> (i % 8)))
			return -1;
	*out = c;
	return 0;
}

int cidr_list_parse(const char *s, struct cidr_list *out, char *why, size_t whylen)
{
	*out = (struct cidr_list){ 0 };
	const char *p = s ? s : "";
	while (*p) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, ",");
		size_t trim = n;
		while (trim && (p[trim - 1] == ' ' || p[trim - 1] == '\t'))
			trim--;
		char item[64];
		struct cidr c;
		if (!trim || trim >= sizeof(item) ||
		    (memcpy(item, p, trim), item[trim] = '\0', cidr_parse(item, &c))) {
			snprintf(why, whylen, "'%.*s' is not an IP address or CIDR range (such as "
					      "10.0.0.0/8 or 2001:db8::/32, host bits zero)",
				 (int)(trim > 60 ? 60 : trim), p);
			cidr_list_release(out);
			return -1;
		}
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
		out->items[out->n++] = c;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

void cidr_list_release(struct cidr_list *l)
{
	free(l->items);
	*l = (struct cidr_list){ 0 };
}

static bool contains(const struct cidr *c, const unsigned char addr[16], unsigned char family)
{
	if (c->family != family)
		return false;
	unsigned whole = c->bits / 8, rest = c->bits % 8;
	if (memcmp(c->addr, addr, whole))
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (addr[whole] & mask) == c->addr[whole];
}

static bool match(const struct cidr_list *l, const unsigned char addr[16], unsigned char family)
{
	for (size_t i = 0; i < l->n; i++)
		if (contains(&l->items[i], addr, family))
			return true;
	return false;
}

bool cidr_list_match(const struct cidr_list *l, const char *ip)
{
	unsigned char addr[16], family;
	return !read_addr(ip, strlen(ip), addr, &family) && match(l, addr, family);
}

/*
 * Reads one X-Forwarded-For member of `len` bytes: an address, "[v6]",
 * "[v6]:port" or "v4:port".
 */
static int read_member(const char *s, size_t len, unsigned char addr[16], unsigned char *family)
{
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return -1;
		size_t after = len - (size_t)(close - s) - 1;
		const char *port = close + 1;
		if (after && (port[0] != ':' || after == 1 ||
			      strspn(port + 1, "0123456789") < after - 1))
			return -1;
		if (read_addr(s + 1, (size_t)(close - s) - 1, addr, family) || *family != 6)
			return -1;
		return 0;
	}
	const char *colon = memchr(s, ':', len);
	if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
		/* One colon: IPv4 and a port. */
		size_t plen = len - (size_t)(colon - s) - 1;
		if (!plen || strspn(colon + 1, "0123456789") < plen)
			return -1;
		if (read_addr(s, (size_t)(colon - s), addr, family) || *family != 4)
			return -1;
		return 0;
	}
	return read_addr(s, len, addr, family);
}

static void write_addr(const unsigned char addr[16], unsigned char family, char out[CIDR_ADDR_TEXT])
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, CIDR_ADDR_TEXT))
		out[0] = '\0';
}

int cidr_addr_text(const char *ip, char out[CIDR_ADDR_TEXT])
{
	unsigned char addr[16], family;
	if (read_member(ip, strlen(ip), addr, &family))
		return -1;
	write_addr(addr, family, out);
	return 0;
}

void cidr_client_addr(const struct cidr_list *trusted, const char *peer, const char *xff,
		      char out[CIDR_ADDR_TEXT])
{
	unsigned char addr[16], family;
	if (read_addr(peer, strlen(peer), addr, &family)) {
		snprintf(out, CIDR_ADDR_TEXT, "%s", peer); /* not an IP socket: as it is */
		return;
	}
	write_addr(addr, family, out);
	if (!xff || !match(trusted, addr, family))
		return;
	/* From the right: each member was written by the hop to its right. */
	size_t end = strlen(xff);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		end = start ? start - 1 : 0;
		if (a == b)
			continue; /* an empty member ("a,,b"): nothing to read */
		if (read_member(xff + a, b - a, addr, &family))
			return; /* garbage: keep the last address a trusted hop gave */
		write_addr(addr, family, out);
		if (!match(trusted, addr, family))
			return;
	}
}
