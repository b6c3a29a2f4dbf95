/*
 * spf: SPF terms and records; see spf.h.  A term is its optional
 * qualifier, a mechanism name looked up in spf_mechs[], and what that
 * mechanism's row checks after the name.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/spf.h"

/* A domain-spec without macros: LDH labels (and '_', as in _spf), two
 * labels at least, the last not all digits. */
static int
spf_domain(const char *s, size_t len)
{
	size_t	 i, lab = 0, labels = 1, digits = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			labels++;
			lab = digits = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
		if ((s[i] == '-' && lab == 0) || ++lab > 63)
			return 0;
		if (isdigit((unsigned char)s[i]))
			digits++;
	}
	return lab > 0 && s[len - 1] != '-' && labels >= 2 && digits < lab;
}

/* "/N", 0 <= N <= max, no leading zero (RFC 7208 5.6).  Returns the octets
 * taken, 0 when s does not start with a valid one. */
static size_t
spf_cidr(const char *s, size_t len, int max)
{
	size_t	 i;
	int	 n = 0;

	if (len < 2 || s[0] != '/' || !isdigit((unsigned char)s[1]) ||
	    (s[1] == '0' && len > 2 && isdigit((unsigned char)s[2])))
		return 0;
	for (i = 1; i < len && i < 5 && isdigit((unsigned char)s[i]); i++)
		n = n * 10 + (s[i] - '0');
	return n <= max ? i : 0;
}

/*
 * What follows a mechanism's name, [p, end), for each kind; NULL or why
 * the term is refused.  *lookups counts the terms that cost a DNS query
 * (RFC 7208 4.6.4).
 */

/* ip4:ADDR[/N], ip6:ADDR[/N] */
static const char *
spf_ip(const char *p, const char *end, int v6, int *lookups)
{
	char		 addr[INET6_ADDRSTRLEN];
	unsigned char	 bin[16];
	const char	*q;

	(void)lookups;
	if (p == end || *p != ':')
		return "ip4:/ip6: needs an address";
	p++;
	for (q = p; q < end && *q != '/'; q++)
		;
	if ((size_t)(q - p) >= sizeof(addr))
		return "not an IP address";
	memcpy(addr, p, (size_t)(q - p));
	addr[q - p] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return "not an IP address";
	if (q < end && spf_cidr(q, (size_t)(end - q), v6 ? 128 : 32) !=
	    (size_t)(end - q))
		return "bad prefix length";
	return NULL;
}

/* include:DOMAIN, exists:DOMAIN */
static const char *
spf_named(const char *p, const char *end, int v6, int *lookups)
{
	(void)v6;
	if (p == end || *p != ':' || !spf_domain(p + 1, (size_t)(end - p - 1)))
		return "needs :domain (a domain name of two labels or more)";
	(*lookups)++;
	return NULL;
}

/* a[:DOMAIN][/N][//N], mx[:DOMAIN][/N][//N] */
static const char *
spf_host(const char *p, const char *end, int v6, int *lookups)
{
	const char	*q;
	size_t		 c;

	(void)v6;
	if (p < end && *p == ':') {
		for (q = ++p; q < end && *q != '/'; q++)
			;
		if (!spf_domain(p, (size_t)(q - p)))
			return "not a domain name";
		p = q;
	}
	/* [ "/" ip4-cidr ] [ "//" ip6-cidr ] */
	if (p < end && p + 1 < end && p[1] != '/') {
		if ((c = spf_cidr(p, (size_t)(end - p), 32)) == 0)
			return "bad prefix length";
		p += c;
	}
	if (p < end) {
		if (*p != '/' || (c = spf_cidr(p + 1, (size_t)(end - p - 1),
		    128)) == 0)
			return "bad prefix length";
		p += c + 1;
	}
	if (p != end)
		return "bad prefix length";
	(*lookups)++;
	return NULL;
}

/* The mechanisms (RFC 7208 5), by name (any case): refused outright, or
 * checked by a function of the kind above. */
static const struct {
	const char	*name;
	const char	*refused;
	const char	*(*check)(const char *, const char *, int, int *);
	int		 v6;
} spf_mechs[] = {
	{ "all", "no \"all\": the record form2mail prints ends in -all",
	    NULL, 0 },
	{ "ptr", "ptr is not to be used (RFC 7208 5.5)", NULL, 0 },
	{ "ip4", NULL, spf_ip, 0 },
	{ "ip6", NULL, spf_ip, 1 },
	{ "include", NULL, spf_named, 0 },
	{ "exists", NULL, spf_named, 0 },
	{ "a", NULL, spf_host, 0 },
	{ "mx", NULL, spf_host, 0 },
};

/* One term of n octets; returns NULL or why it is refused. */
static const char *
spf_term(const char *t, size_t n, int *lookups)
{
	const char	*p = t, *end = t + n;
	size_t		 k, i;

	if (*p == '+' || *p == '-' || *p == '~' || *p == '?')
		p++;
	for (k = 0; p + k < end && p[k] != ':' && p[k] != '/' &&
	    p[k] != '='; k++)
		;
	if (memchr(t, '%', n) != NULL)
		return "macros (%{...}) are not taken";
	if (p + k < end && p[k] == '=')
		return "modifiers (redirect=, exp=) are not taken: name the "
		    "mechanisms";
	for (i = 0; i < sizeof(spf_mechs) / sizeof(spf_mechs[0]); i++) {
		if (strlen(spf_mechs[i].name) != k ||
		    strncasecmp(p, spf_mechs[i].name, k) != 0)
			continue;
		if (spf_mechs[i].refused != NULL)
			return spf_mechs[i].refused;
		return spf_mechs[i].check(p + k, end, spf_mechs[i].v6,
		    lookups);
	}
	return "not an SPF mechanism (ip4:, ip6:, include:, a, mx, exists:)";
}

int
spf_terms_check(const char *terms, char *err, size_t errsize)
{
	const char	*t, *why;
	char		 esc[128];
	size_t		 n, len = strlen(terms), count = 0;
	int		 lookups = 0;

	if (len > SPF_MAX) {
		snprintf(err, errsize, "longer than %d octets", SPF_MAX);
		return -1;
	}
	for (t = terms; *t != '\0'; t++)
		if (*t < 0x21 || *t > 0x7e || *t == '"' || *t == '\\' ||
		    *t == ';') {
			if (*t == ' ')
				continue;
			snprintf(err, errsize, "holds a character an SPF term "
			    "cannot: give terms like \"include:_spf.example.net "
			    "ip4:192.0.2.1\"");
			return -1;
		}
	for (t = terms; *t != '\0'; t += n) {
		t += strspn(t, " ");
		if ((n = strcspn(t, " ")) == 0)
			continue;
		count++;
		if (n >= 2 && strncasecmp(t, "v=", 2) == 0)
			why = "no \"v=spf1\": give the terms only";
		else
			why = spf_term(t, n, &lookups);
		if (why != NULL) {
			snprintf(err, errsize, "\"%s\": %s", log_escape(esc,
			    sizeof(esc), t, n), why);
			return -1;
		}
	}
	if (count == 0) {
		snprintf(err, errsize, "no SPF terms: give the relay's "
		    "mechanisms (include:..., ip4:...)");
		return -1;
	}
	if (lookups > SPF_LOOKUPS) {
		snprintf(err, errsize, "%d terms that need a DNS lookup; SPF "
		    "allows %d (RFC 7208 4.6.4)", lookups, SPF_LOOKUPS);
		return -1;
	}
	return 0;
}

int
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}
