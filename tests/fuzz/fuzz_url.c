/*
 * fuzz_url: lib/url.c's checks on arbitrary octets (cut at the first NUL,
 * as C strings are).  Invariants (abort() on violation):
 *  - each check returns 0 or 1;
 *  - url_chars_ok is 1 exactly when no octet is a control, space, DEL,
 *    non-ASCII or one of " < > \ ^ ` { | } (a reference reading);
 *  - an accepted origin or prefix has only such characters, so never a
 *    CR, LF or space;
 *  - url_origin_ok is 1 exactly when s is "http://" or "https://" and a
 *    non-empty rest with none of / ? # @;
 *  - url_prefix_ok is 1 exactly when s is a path not starting "//" or
 *    "/\", or "https://" and a rest that neither starts with '/' nor
 *    holds an '@'; so never "javascript:", "//evil" or userinfo;
 *  - url_service_ok is 1 only for a url_chars_ok string without '@' that
 *    is "https://" and a rest not starting with '/', or "http://" and a
 *    host (up to ':', '/', '?', '#'; bracketed for IPv6) that inet_pton
 *    reads as 127.0.0.0/8 or ::1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_char(unsigned char c)
{
	static const char	 bad[] = "\"<>\\^`{|}";
	size_t			 i;

	if (c < 0x21 || c > 0x7e)
		return 0;
	for (i = 0; i < sizeof(bad) - 1; i++)
		if (c == (unsigned char)bad[i])
			return 0;
	return 1;
}

static int
fz_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!fz_char((unsigned char)*s))
			return 0;
	return 1;
}

static int
fz_has(const char *s, const char *set)
{
	for (; *s != '\0'; s++)
		if (strchr(set, *s) != NULL)
			return 1;
	return 0;
}

static int
fz_starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void
fz_url(const char *s)
{
	int	 chars = url_chars_ok(s), origin = url_origin_ok(s);
	int	 prefix = url_prefix_ok(s), ref;
	const char *rest;

	if ((chars != 0 && chars != 1) || (origin != 0 && origin != 1) ||
	    (prefix != 0 && prefix != 1))
		abort();
	if (chars != fz_chars(s))
		abort();
	if ((origin || prefix) && (!chars || fz_has(s, "\r\n ")))
		abort();
	rest = fz_starts(s, "https://") ? s + 8 : fz_starts(s, "http://") ?
	    s + 7 : NULL;
	ref = chars && rest != NULL && *rest != '\0' && !fz_has(rest, "/?#@");
	if (origin != ref)
		abort();
	if (s[0] == '/')
		ref = chars && s[1] != '/' && s[1] != '\\';
	else
		ref = chars && fz_starts(s, "https://") && s[8] != '\0' &&
		    s[8] != '/' && !fz_has(s + 8, "@");
	if (prefix != ref)
		abort();
	if (prefix && (fz_starts(s, "javascript:") || fz_starts(s, "//") ||
	    (s[0] != '/' && fz_has(s + 8, "@"))))
		abort();
}

/* The reference reading of an http:// service URL's host. */
static int
fz_loopback(const char *h)
{
	char		 host[64];
	size_t		 n;
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (h[0] == '[') {
		n = strcspn(h + 1, "]");
		if (h[1 + n] != ']' || n >= sizeof(host))
			return 0;
		memcpy(host, h + 1, n);
	} else {
		n = strcspn(h, ":/?#");
		if (n >= sizeof(host))
			return 0;
		memcpy(host, h, n);
	}
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6);
}

static void
fz_service(const char *s)
{
	int	 ok = url_service_ok(s), ref;

	if (ok != 0 && ok != 1)
		abort();
	if (!fz_chars(s) || fz_has(s, "@"))
		ref = 0;
	else if (fz_starts(s, "https://"))
		ref = s[8] != '\0' && s[8] != '/';
	else
		ref = fz_starts(s, "http://") && fz_loopback(s + 7);
	if (ok != ref)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size > 4096 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fz_url(s);
	fz_service(s);
	free(s);
	return 0;
}
