/*
 * cidr.h: IP addresses and CIDR ranges (IPv4 and IPv6), lists of them, and
 * the client's address behind trusted proxies (X-Forwarded-For).
 *
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.1, what a dual-stack socket
 * reports for an IPv4 peer) is taken as the IPv4 address it maps, both
 * when matched against ranges and when written as text, so that one client
 * has one text whichever socket it came through.
 */
#ifndef INSIGHTS_CIDR_H
#define INSIGHTS_CIDR_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any address as text (INET6_ADDRSTRLEN) and its NUL. */
#define CIDR_ADDR_TEXT 48

struct cidr {
	unsigned char addr[16]; /* the network, host bits zero; IPv4 in the first 4 */
	unsigned char family;   /* 4 or 6 */
	unsigned char bits;     /* prefix length: 0-32 or 0-128 */
};

struct cidr_list {
	struct cidr *items;
	size_t n;
};

/*
 * Parses "192.0.2.1", "10.0.0.0/8", "2001:db8::/32" or "::1" (a lone
 * address is a range of one). Returns 0, or -1 when `s` is not one of
 * those or has host bits set beyond its prefix ("10.0.0.1/8").
 */
int cidr_parse(const char *s, struct cidr *out);

/*
 * Parses a comma-separated list of cidr_parse() items (spaces around items
 * allowed; "" or NULL: an empty list). Returns 0, or -1 with a sentence in
 * `why` quoting the bad item. Release the list with cidr_list_release().
 */
int cidr_list_parse(const char *s, struct cidr_list *out, char *why, size_t whylen);
void cidr_list_release(struct cidr_list *l);

/* True when the address `ip` (text, as cidr_parse() reads one) is in a range of `l`. */
bool cidr_list_match(const struct cidr_list *l, const char *ip);

/*
 * Writes the address `ip` in its canonical text into `out` and returns 0,
 * or returns -1 when `ip` is not an address. Accepts what X-Forwarded-For
 * members may hold besides a bare address: "[2001:db8::1]",
 * "[2001:db8::1]:443", "192.0.2.1:443".
 */
int cidr_addr_text(const char *ip, char out[CIDR_ADDR_TEXT]);

/*
 * The client's address for a request from `peer` (the socket's peer, as
 * text) carrying the X-Forwarded-For value `xff` (all its fields joined with
 * commas, or NULL), written into `out`:
 *  - a peer that is not in `trusted`: the peer itself, whatever xff says;
 *  - a trusted peer: the members of xff read from the right; the first
 *    that is not itself trusted is the client. When every member is
 *    trusted, the left-most one. A member that is not an address stops the
 *    walk: the client is then the member to its right (the last one a
 *    trusted proxy vouched for), or the peer when it is the right-most.
 */
void cidr_client_addr(const struct cidr_list *trusted, const char *peer, const char *xff,
		      char out[CIDR_ADDR_TEXT]);

#endif
