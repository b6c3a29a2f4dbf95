/*
 * url: the syntax of the URLs the config names (docs/DESIGN.md "Config"):
 * origins (allowed_origins), redirect targets and their prefixes
 * (success_url, error_url, site_url, redirect_allowlist) and the services
 * the workers call (rspamd_url, captcha verify_url).
 *
 * Allowlists of characters, never a parse that guesses: a URL that could
 * carry a header break, a space, a quote, userinfo (an '@' that hides
 * the real host) or a scheme-relative "//host" is refused.  Nothing here
 * allocates or looks a name up.
 */
#ifndef F2M_URL_H
#define F2M_URL_H

/*
 * 1 when every octet of s is printable ASCII other than space and
 * " < > \ ^ ` { | } (no control octet, CR and LF included, no DEL, no
 * UTF-8); 0 otherwise.  "" passes.
 */
int	 url_chars_ok(const char *s);

/*
 * 1 when s is an origin as browsers send it: "https://HOST[:PORT]" or
 * "http://HOST[:PORT]", HOST non-empty, url_chars_ok, and nothing after
 * (no '/', '?', '#' or '@'); 0 otherwise.
 */
int	 url_origin_ok(const char *s);

/*
 * 1 when s may be where a visitor is sent (a redirect target) or where
 * such targets must start (an allowlist prefix): a path on the same site
 * ("/thanks.html", but not "//host" or "/\host"), or an https URL with a
 * host ("https://h...", no '/' right after "//", no '@' anywhere after
 * it), url_chars_ok in both cases; 0 otherwise.
 */
int	 url_prefix_ok(const char *s);

/*
 * 1 when s may name a service the workers call (rspamd, a captcha
 * verifier): url_chars_ok, no '@' anywhere, and either "https://" and a
 * host (no '/' right after "//"), or "http://" to a loopback address
 * literal (addr_is_loopback: 127.0.0.0/8 or ::1, never a name, not even
 * "localhost"): a local peer such as rspamd; 0 otherwise.
 */
int	 url_service_ok(const char *s);

#endif
