/*
 * test_curlx: the hardened handle of lib/curlx.h against a real local TLS
 * server (tests/unit/captcha_peer.py: a test CA, a certificate for the
 * address 127.0.0.1 only, a second unrelated CA, http and https ports, a
 * "slow" answer after 3 s).  The pinned CA verifies (file and blob); the
 * other CA, a host name the certificate does not name, a protocol not
 * allowed and a proxy in the environment do not get through; the timeout
 * holds.  Then the URL helpers.  Run from the repository root.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/curlx.h"
#include "lib/file.h"
#include "captcha_peer.h"
#include "t.h"

#define BODY		"secret=s&response=ok"

static char	 dir[] = "/tmp/test_curlx.XXXXXX";

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * One POST of body through a curlx handle; the libcurl result, *ms the
 * time it took, *status the HTTP status.
 */
static CURLcode
post_body(struct curlx *x, const char *body, long *ms, long *status)
{
	struct timespec	 a, b;
	CURLcode	 rc = CURLE_FAILED_INIT;
	CURL		*h;

	*status = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((h = curlx_open(x)) == NULL)
		return rc;
	if (curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink) == CURLE_OK)
		rc = curl_easy_perform(h);
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curlx_close(h);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	return rc;
}

static CURLcode
post(struct curlx *x, long *ms, long *status)
{
	return post_body(x, BODY, ms, status);
}

static void
test_tls(void)
{
	char		 url[200], lurl[200], hurl[200], ca[300];
	char		 other[300], errbuf[CURL_ERROR_SIZE], *pem = NULL;
	size_t		 len = 0;
	struct curlx	 x;
	long		 ms, status;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/turnstile",
	    port_https);
	snprintf(lurl, sizeof(lurl), "https://localhost:%d/turnstile",
	    port_https);
	snprintf(hurl, sizeof(hurl), "http://127.0.0.1:%d/turnstile",
	    port_http);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(other, sizeof(other), "%s/other-ca.pem", dir);

	x = (struct curlx){ .url = url, .protocols = "https", .ca_file = ca,
	    .connect_ms = 5000, .total_ms = 10000, .errbuf = errbuf };
	T_INT(post(&x, &ms, &status), CURLE_OK, "the pinned CA verifies");
	T_INT(status, 200, "status");

	x.ca_file = other;
	T_INT(post(&x, &ms, &status), CURLE_PEER_FAILED_VERIFICATION,
	    "a peer of another CA is refused");
	T_OK(errbuf[0] != '\0', "errbuf is filled");

	x.ca_file = NULL;
	T_INT(post(&x, &ms, &status), CURLE_PEER_FAILED_VERIFICATION,
	    "the test CA is not in the system store: refused");

	T_INT(file_slurp(AT_FDCWD, ca, 65536, 0, &pem, &len), FILE_OK,
	    "read ca.pem");
	x.ca_blob = pem;
	x.ca_len = len;
	T_INT(post(&x, &ms, &status), CURLE_OK, "the pinned CA as a blob");
	x.ca_file = other;
	T_INT(post(&x, &ms, &status), CURLE_PEER_FAILED_VERIFICATION,
	    "ca_file wins over ca_blob");
	free(pem);

	x = (struct curlx){ .url = lurl, .protocols = "https", .ca_file = ca,
	    .connect_ms = 5000, .total_ms = 10000 };
	T_INT(post(&x, &ms, &status), CURLE_PEER_FAILED_VERIFICATION,
	    "a host name the certificate does not name is refused");

	x = (struct curlx){ .url = hurl, .protocols = "https",
	    .connect_ms = 5000, .total_ms = 10000 };
	T_INT(post(&x, &ms, &status), CURLE_UNSUPPORTED_PROTOCOL,
	    "http where only https is allowed");
	x.protocols = "http,https";
	T_INT(post(&x, &ms, &status), CURLE_OK, "http when allowed");

	/* A proxy that does not exist would fail every request. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	T_INT(post(&x, &ms, &status), CURLE_OK, "http_proxy is ignored");
	x = (struct curlx){ .url = url, .protocols = "https", .ca_file = ca,
	    .connect_ms = 5000, .total_ms = 10000 };
	T_INT(post(&x, &ms, &status), CURLE_OK, "https_proxy is ignored");
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("ALL_PROXY");

	/* The peer answers a "slow" token after 3 s. */
	x = (struct curlx){ .url = url, .protocols = "https", .ca_file = ca,
	    .connect_ms = 1000, .total_ms = 1000 };
	T_INT(post_body(&x, "secret=s&response=slow", &ms, &status),
	    CURLE_OPERATION_TIMEDOUT, "a slow peer times out");
	T_OK(ms >= 900 && ms < 2500, "after about 1 s: %ld ms", ms);
}

static void
test_refused_args(void)
{
	struct curlx	 x = { .url = "https://127.0.0.1/", .protocols = "https",
	    .connect_ms = 1000, .total_ms = 1000 };
	CURL		*h;

	T_OK((h = curlx_open(&x)) != NULL, "a good handle");
	curlx_close(h);
	curlx_close(NULL);
	x.url = NULL;
	T_OK(curlx_open(&x) == NULL, "no url");
	x.url = "https://127.0.0.1/";
	x.protocols = NULL;
	T_OK(curlx_open(&x) == NULL, "no protocols");
	x.protocols = "https";
	x.connect_ms = 0;
	T_OK(curlx_open(&x) == NULL, "no connect timeout");
	x.connect_ms = 1000;
	x.total_ms = 0;
	T_OK(curlx_open(&x) == NULL, "no total timeout");
	x.total_ms = 1000;
	x.protocols = "gopher-not-a-protocol";
	T_OK(curlx_open(&x) == NULL, "an unknown protocol name");
}

static void
test_url(void)
{
	struct curlx_url	 u;
	char			*s;

	T_INT(curlx_url_parse(&u, "SMTPS://Relay.Example.COM:465"), 0, "parse");
	T_STR(u.scheme, "smtps", "scheme lower-cased");
	T_STR(u.host, "Relay.Example.COM", "host as written");
	s = curlx_url_with_path(&u, "/mail.example.test");
	T_STR(s, "smtps://Relay.Example.COM:465/mail.example.test", "path");
	curl_free(s);
	curlx_url_free(&u);

	T_INT(curlx_url_parse(&u, "http://[::1]:11333/x/"), 0, "IPv6");
	T_STR(u.host, "[::1]", "brackets kept");
	curlx_url_free(&u);

	T_INT(curlx_url_parse(&u, "not a url"), -1, "not a URL");
	curlx_url_free(&u);
	T_INT(curlx_url_parse(&u, "https://"), -1, "no host");
	curlx_url_free(&u);
	T_INT(curlx_url_parse(&u, "file:///etc/passwd"), -1, "no host (file)");
	curlx_url_free(&u);
	memset(&u, 0, sizeof(u));
	curlx_url_free(&u);
}

int
main(void)
{
	char	 cmd[300];

	signal(SIGPIPE, SIG_IGN);
	test_refused_args();
	test_url();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	peer_dir = dir;
	if (peer_start() == -1)
		T_OK(0, "the local TLS peer did not start");
	else
		test_tls();
	peer_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	T_DONE();
}
