/*
 * test_probe.c: the health check's GET (http/probe.c) where no server is
 * needed: URLs it refuses before connecting, and a port nothing listens
 * on. Answers (200, 503, redirects, time-outs) are tested black-box in
 * tests/api/test_healthcheck.py.
 */
#include "t.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/probe.h"

static enum probe_result get(const char *url, long *status, char *why, size_t n)
{
	*status = -1;
	return probe_get(url, 2000, status, why, n);
}

TEST(probe_refuses_what_is_not_http)
{
	const char *bad[] = { "ftp://127.0.0.1/health", "file:///etc/passwd", "http://[::1/health",
			      "", "gopher://127.0.0.1:70/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long status;
		char why[200];
		CHECK(get(bad[i], &status, why, sizeof(why)) == PROBE_BAD_URL);
		CHECK(status == 0);
		CHECK(why[0] != '\0');
	}
}

TEST(probe_fails_when_nothing_listens)
{
	/* A port bound but not listening refuses connections, and stays ours. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/health", (unsigned)ntohs(a.sin_port));
	long status;
	char why[200] = "";
	CHECK(get(url, &status, why, sizeof(why)) == PROBE_FAILED);
	CHECK(status == 0);
	CHECK(why[0] != '\0');
	close(fd);
}
