/*
 * probe.c: the health check's GET (probe.h), with libcurl: the HTTP
 * parsing is curl's, never ours. Only the http and https schemes are
 * allowed, redirects are not followed, the body is read and dropped.
 */
#include "http/probe.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/banned.h"

/* The body is not needed: count it as written so that curl carries on. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* Whether `url` parses and names http or https (curl's parser decides). */
static int check_url(const char *url, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	if (!u) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	char *scheme = NULL;
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	int ok = rc == CURLUE_OK && scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
	if (rc != CURLUE_OK)
		snprintf(why, whylen, "'%s' is not a URL: %s", url, curl_url_strerror(rc));
	else if (!ok)
		snprintf(why, whylen, "'%s' is not an http:// or https:// URL", url);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

enum probe_result probe_get(const char *url, unsigned timeout_ms, long *status, char *why,
			    size_t whylen)
{
	*status = 0;
	if (why && whylen)
		why[0] = '\0';
	if (check_url(url, why, whylen))
		return PROBE_BAD_URL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(why, whylen, "cannot initialise libcurl");
		return PROBE_FAILED;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(why, whylen, "cannot initialise libcurl");
		curl_global_cleanup();
		return PROBE_FAILED;
	}
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "insights-healthcheck");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	/* Proxies from the environment (http_proxy) would be asked instead of the service. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	CURLcode rc = curl_easy_perform(c);
	enum probe_result res = PROBE_ANSWERED;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	} else {
		snprintf(why, whylen, "%s", err[0] ? err : curl_easy_strerror(rc));
		res = PROBE_FAILED;
	}
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return res;
}
