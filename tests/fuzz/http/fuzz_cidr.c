/*
 * fuzz_cidr.c: trusted proxies and X-Forwarded-For (http/cidr.c).
 *
 * The input is three lines: a list of trusted ranges, the peer's address,
 * and an X-Forwarded-For value (any bytes up to a NUL). Checked:
 *  - a list that parses holds only ranges whose host bits are zero, and
 *    each one written back as an address parses again;
 *  - the client's address is always an address that reads back as itself
 *    (canonical text) when the peer is one;
 *  - a peer that is not trusted is the client, whatever the header says;
 *  - without the header, the client is the peer;
 *  - the client is the peer or one of the header's members, never text
 *    made up from pieces of them.
 */
#include "fuzz.h"

#include <arpa/inet.h>

#include "http/cidr.h"
#include "lib/banned.h"

static bool is_member(const char *xff, const char *client)
{
	/* Some member of the list reads as the client's address. */
	const char *p = xff;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		char item[128];
		size_t a = 0, b = n;
		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (b - a < sizeof(item)) {
			memcpy(item, p + a, b - a);
			item[b - a] = '\0';
			char canon[CIDR_ADDR_TEXT];
			if (!cidr_addr_text(item, canon) && !strcmp(canon, client))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char *peer = strchr(in, '\n');
	char *xff = NULL;
	if (peer) {
		*peer++ = '\0';
		xff = strchr(peer, '\n');
		if (xff)
			*xff++ = '\0';
	} else {
		peer = (char *)"127.0.0.1";
	}
	struct cidr_list l;
	char why[256];
	if (cidr_list_parse(in, &l, why, sizeof(why))) {
		FUZZ_CHECK(l.n == 0 && l.items == NULL && why[0]);
		free(in);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct cidr *c = &l.items[i];
		FUZZ_CHECK(c->family == 4 || c->family == 6);
		unsigned max = c->family == 4 ? 32 : 128;
		FUZZ_CHECK(c->bits <= max);
		for (unsigned b = c->bits; b < max; b++)
			FUZZ_CHECK(!(c->addr[b / 8] & (0x80u >> (b % 8))));
		char text[CIDR_ADDR_TEXT];
		FUZZ_CHECK(inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, text, sizeof(text)));
		FUZZ_CHECK(cidr_list_match(&l, text));
	}
	char peer_canon[CIDR_ADDR_TEXT], out[CIDR_ADDR_TEXT], again[CIDR_ADDR_TEXT];
	/* A bare address (no range, no port, no brackets), as a socket's peer is. */
	struct cidr pc;
	bool peer_ip = !strchr(peer, '/') && !cidr_parse(peer, &pc) &&
		       !cidr_addr_text(peer, peer_canon);
	cidr_client_addr(&l, peer, xff, out);
	if (peer_ip) {
		FUZZ_CHECK(!cidr_addr_text(out, again) && !strcmp(again, out));
		if (!xff || !cidr_list_match(&l, peer))
			FUZZ_CHECK(!strcmp(out, peer_canon));
		else
			FUZZ_CHECK(!strcmp(out, peer_canon) || is_member(xff, out));
	}
	cidr_list_release(&l);
	free(in);
	return 0;
}
