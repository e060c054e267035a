/*
 * test_cidr.c: addresses, CIDR ranges and the client behind trusted
 * proxies (http/cidr.c).
 */
#include "t.h"

#include "http/cidr.h"

static bool parses(const char *s)
{
	struct cidr c;
	return cidr_parse(s, &c) == 0;
}

TEST(cidr_parse_good_and_bad)
{
	struct cidr c;
	CHECK(cidr_parse("10.0.0.0/8", &c) == 0 && c.family == 4 && c.bits == 8 && c.addr[0] == 10);
	CHECK(cidr_parse("192.0.2.7", &c) == 0 && c.family == 4 && c.bits == 32);
	CHECK(cidr_parse("0.0.0.0/0", &c) == 0 && c.bits == 0);
	CHECK(cidr_parse("2001:db8::/32", &c) == 0 && c.family == 6 && c.bits == 32);
	CHECK(cidr_parse("::1", &c) == 0 && c.family == 6 && c.bits == 128);
	CHECK(cidr_parse("::/0", &c) == 0 && c.family == 6 && c.bits == 0);
	CHECK(cidr_parse("::ffff:10.0.0.0/104", &c) == 0 && c.family == 4 && c.bits == 8);
	CHECK(cidr_parse("::ffff:192.0.2.1", &c) == 0 && c.family == 4 && c.bits == 32);
	CHECK(parses("172.16.0.0/12"));
	CHECK(parses("fe80::/10"));

	const char *bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/8/8", "10.0.0.1/8",
			      "10.0.0.0/+8", "10.0.0.0/-1", "10.0.0.0/ 8", " 10.0.0.0", "10.0.0",
			      "010.0.0.1", "10.0.0.256", "2001:db8::/129", "2001:db8::1/32",
			      "fe80::1%eth0", "example.com", "::ffff:10.0.0.0/8", "1.2.3.4/0008",
			      "10.0.0.0/8 ", "gggg::" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parses(bad[i]))
			fprintf(stderr, "accepted '%s'\n", bad[i]);
		CHECK(!parses(bad[i]));
	}
}

TEST(cidr_lists_match)
{
	struct cidr_list l;
	char why[200];
	CHECK(cidr_list_parse("10.0.0.0/8, 192.168.1.1 ,2001:db8::/32,::1", &l, why,
			      sizeof(why)) == 0);
	CHECK(l.n == 4);
	CHECK(cidr_list_match(&l, "10.255.3.4"));
	CHECK(cidr_list_match(&l, "10.0.0.0"));
	CHECK(!cidr_list_match(&l, "11.0.0.1"));
	CHECK(!cidr_list_match(&l, "9.255.255.255"));
	CHECK(cidr_list_match(&l, "192.168.1.1"));
	CHECK(!cidr_list_match(&l, "192.168.1.2"));
	CHECK(cidr_list_match(&l, "2001:db8:ffff::1"));
	CHECK(!cidr_list_match(&l, "2001:db9::1"));
	CHECK(cidr_list_match(&l, "::1"));
	CHECK(!cidr_list_match(&l, "::2"));
	CHECK(cidr_list_match(&l, "::ffff:10.1.2.3")); /* a dual-stack socket's IPv4 peer */
	CHECK(!cidr_list_match(&l, "not an address"));
	CHECK(!cidr_list_match(&l, ""));
	cidr_list_release(&l);

	/* Prefixes that do not fall on a byte. */
	CHECK(cidr_list_parse("172.16.0.0/12,fe80::/10", &l, why, sizeof(why)) == 0);
	CHECK(cidr_list_match(&l, "172.31.255.255"));
	CHECK(!cidr_list_match(&l, "172.32.0.0"));
	CHECK(!cidr_list_match(&l, "172.15.255.255"));
	CHECK(cidr_list_match(&l, "febf::1"));
	CHECK(!cidr_list_match(&l, "fec0::1"));
	cidr_list_release(&l);

	CHECK(cidr_list_parse("", &l, why, sizeof(why)) == 0 && l.n == 0);
	CHECK(!cidr_list_match(&l, "10.0.0.1"));
	CHECK(cidr_list_parse(NULL, &l, why, sizeof(why)) == 0 && l.n == 0);
	CHECK(cidr_list_parse("0.0.0.0/0", &l, why, sizeof(why)) == 0);
	CHECK(cidr_list_match(&l, "203.0.113.9"));
	CHECK(!cidr_list_match(&l, "2001:db8::1"));
	cidr_list_release(&l);

	CHECK(cidr_list_parse("10.0.0.0/8,10.0.0.1/8", &l, why, sizeof(why)) == -1);
	CHECK(strstr(why, "'10.0.0.1/8'") != NULL);
	CHECK(l.n == 0 && l.items == NULL);
	CHECK(cidr_list_parse("10.0.0.0/8,,::1", &l, why, sizeof(why)) == -1);
	CHECK(cidr_list_parse("proxy.internal", &l, why, sizeof(why)) == -1);
	CHECK(strstr(why, "'proxy.internal' is not an IP address or CIDR range") != NULL);
}

TEST(cidr_addr_text_canonical)
{
	char out[CIDR_ADDR_TEXT];
	CHECK(cidr_addr_text("192.0.2.1", out) == 0);
	CHECK_STR(out, "192.0.2.1");
	CHECK(cidr_addr_text("2001:DB8:0:0::1", out) == 0);
	CHECK_STR(out, "2001:db8::1");
	CHECK(cidr_addr_text("::ffff:192.0.2.1", out) == 0);
	CHECK_STR(out, "192.0.2.1");
	CHECK(cidr_addr_text("[2001:db8::1]:443", out) == 0);
	CHECK_STR(out, "2001:db8::1");
	CHECK(cidr_addr_text("[2001:db8::1]", out) == 0);
	CHECK_STR(out, "2001:db8::1");
	CHECK(cidr_addr_text("192.0.2.1:8080", out) == 0);
	CHECK_STR(out, "192.0.2.1");
	const char *bad[] = { "", "unknown", "[192.0.2.1]", "192.0.2.1:", "192.0.2.1:x",
			      "[::1]:", "[::1", "[::1]x", "2001:db8::1:", "_hidden" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(cidr_addr_text(bad[i], out) == -1);
}

static const char *client(const char *trusted, const char *peer, const char *xff)
{
	static char out[CIDR_ADDR_TEXT];
	struct cidr_list l;
	char why[200];
	if (cidr_list_parse(trusted, &l, why, sizeof(why)))
		return "bad list";
	cidr_client_addr(&l, peer, xff, out);
	cidr_list_release(&l);
	return out;
}

TEST(cidr_client_behind_proxies)
{
	/* No trusted proxy: the peer, whatever the header says. */
	CHECK_STR(client("", "203.0.113.5", "1.2.3.4"), "203.0.113.5");
	CHECK_STR(client("", "203.0.113.5", NULL), "203.0.113.5");
	/* A peer that is not trusted cannot speak for anyone. */
	CHECK_STR(client("10.0.0.0/8", "203.0.113.5", "1.2.3.4"), "203.0.113.5");
	/* A trusted peer: the right-most member that is not trusted. */
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "198.51.100.7"), "198.51.100.7");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 198.51.100.7"), "198.51.100.7");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1"),
		  "198.51.100.7");
	CHECK_STR(client("10.0.0.0/8,2001:db8::/32", "2001:db8::10",
			 "6.6.6.6,2001:DB8:1::9 , 198.51.100.7 ,10.9.9.9 ,2001:db8::3"),
		  "198.51.100.7");
	/* Every member trusted: the left-most. */
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "10.3.3.3, 10.1.1.1"), "10.3.3.3");
	/* A trusted peer without the header: the peer. */
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", NULL), "10.0.0.2");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", ""), "10.0.0.2");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", " , "), "10.0.0.2");
	/* Garbage stops the walk at the last address a trusted hop gave. */
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "unknown"), "10.0.0.2");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "6.6.6.6, unknown, 10.1.1.1"), "10.1.1.1");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "unknown, 198.51.100.7"), "198.51.100.7");
	/* Ports and brackets, as some proxies write them. */
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "198.51.100.7:5555"), "198.51.100.7");
	CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "[2001:db8::5]:5555"), "2001:db8::5");
	/* A dual-stack socket's peer is written, and matched, as IPv4. */
	CHECK_STR(client("10.0.0.0/8", "::ffff:10.0.0.2", "198.51.100.7"), "198.51.100.7");
	CHECK_STR(client("", "::ffff:203.0.113.5", "1.2.3.4"), "203.0.113.5");
	CHECK_STR(client("", "2001:0db8::0001", NULL), "2001:db8::1");
	/* Not an IP peer (a Unix socket): as it is. */
	CHECK_STR(client("10.0.0.0/8", "unix", "1.2.3.4"), "unix");
}
