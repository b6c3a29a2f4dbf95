/*
 * curlx: one hardened libcurl easy handle, the same for every client of
 * the service (SMTP submission, captcha siteverify, rspamd, the doctor's
 * SMTP probe and MTA-STS fetch; docs/DESIGN.md "libcurl").
 *
 * Every handle from curlx_open() has, whatever the caller adds:
 *   - only the protocols named (CURLOPT_PROTOCOLS_STR, and the same for
 *     redirects, which are not followed anyway);
 *   - TLS 1.2 or later, the peer's certificate and host name verified;
 *     with ca_file or ca_blob only that CA is trusted (the built-in CA
 *     directory is dropped too);
 *   - no proxy, whatever the environment says (no proxy sees credentials,
 *     a secret or a visitor's message);
 *   - no signals (SIGALRM for name lookups would break the worker's
 *     handlers), a connect and a whole-transfer timeout;
 *   - at most one cached connection.
 * A caller that would turn verification off must not use this module.
 */
#ifndef F2M_CURLX_H
#define F2M_CURLX_H

#include <stddef.h>

#include <curl/curl.h>

#include "lib/buf.h"

struct curlx {
	const char	*url;		/* CURLOPT_URL, required */
	const char	*protocols;	/* "https", "http,https", "smtps", ...:
					   required */
	const char	*ca_file;	/* PEM file; NULL: the system store */
	const void	*ca_blob;	/* PEM in memory (libcurl copies it);
					   used when ca_file is NULL */
	size_t		 ca_len;
	long		 connect_ms;	/* connect (TCP and TLS), > 0 */
	long		 total_ms;	/* whole transfer, > 0 */
	char		*errbuf;	/* CURL_ERROR_SIZE octets, or NULL */
};

/*
 * curl_global_init() (counted: one curlx_close() each) and a new easy
 * handle with the options above.  Returns the handle, or NULL when
 * libcurl cannot start or refuses an option (logged by the caller: no
 * option here is wrong for a libcurl built with TLS).
 */
CURL	*curlx_open(const struct curlx *) F2M_WUR;

/* curl_easy_cleanup() and the matching curl_global_cleanup(); NULL is
 * accepted. */
void	 curlx_close(CURL *);

/*
 * A URL taken apart by libcurl's parser: scheme and host as libcurl
 * normalised them (lower-case scheme, "[::1]" with brackets).
 */
struct curlx_url {
	CURLU	*u;
	char	*scheme;
	char	*host;
};

/* Parses in (CURLU_NON_SUPPORT_SCHEME not set: schemes libcurl knows).
 * Returns 0, or -1 (ENOMEM, not a URL, no host); u freed either way by
 * curlx_url_free(). */
int	 curlx_url_parse(struct curlx_url *u, const char *in) F2M_WUR;

/* The URL with its path replaced by path; curl_free() it.  NULL on
 * ENOMEM or a path libcurl refuses. */
char	*curlx_url_with_path(struct curlx_url *u, const char *path) F2M_WUR;

/* Frees what curlx_url_parse() set; a zeroed struct is accepted. */
void	 curlx_url_free(struct curlx_url *u);

#endif
