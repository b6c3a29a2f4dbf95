/* addr: address and host name syntax; see addr.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/text.h"

/*
 * All of atext: '%', '!', '/', '|' and the like stay allowed because the
 * RFC allows them: none can end an SMTP command, a header or the angle
 * brackets around an address.  The percent hack and bang paths are routing
 * policy of a receiving MTA for its own domains; a visitor's address only
 * reaches Reply-To, and envelope addresses come from the config.
 */
int
addr_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
addr_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
addr_local_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > ADDR_MAX_LOCAL || s[0] == '.' ||
	    s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!addr_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int
addr_ldh_ok(const char *s, size_t len, size_t max)
{
	size_t	 i, start = 0;

	if (s == NULL || len == 0 || len > max)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (i == start || i - start > ADDR_MAX_LABEL ||
			    s[start] == '-' || s[i - 1] == '-')
				return 0;
			start = i + 1;
		} else if (!addr_ldh((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * The domain of an addr-spec (RFC 5321 section 4.1.2 Domain): a host name
 * of two or more labels, the last not all digits, so that it cannot be
 * read as an IPv4 address.
 */
static int
addr_domain_ok(const char *s, size_t len)
{
	size_t	 i, last;

	if (!addr_ldh_ok(s, len, ADDR_MAX_DOMAIN) ||
	    memchr(s, '.', len) == NULL)
		return 0;
	for (last = len; s[last - 1] != '.'; last--)
		;
	for (i = last; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 1;
	return 0;
}

int
addr_spec_ok(const char *s, size_t len)
{
	const char	*at;

	if (s == NULL || len == 0 || len > ADDR_MAX ||
	    (at = memchr(s, '@', len)) == NULL)
		return 0;
	/* A second '@' is not atext or LDH: the checks below refuse it. */
	return addr_local_ok(s, (size_t)(at - s)) &&
	    addr_domain_ok(at + 1, len - (size_t)(at - s) - 1);
}

/* Domains known to be another name of one mailbox domain. */
static const struct {
	const char	*alias, *domain;
} addr_domain_alias[] = {
	{ "googlemail.com", "gmail.com" },
};

int
addr_canonical(const char *s, size_t len, char *out, size_t outsize)
{
	const char	*at, *dom;
	size_t		 i, o = 0, dlen;

	if (outsize > 0)
		out[0] = '\0';
	if (!addr_spec_ok(s, len) || outsize <= len)
		return -1;
	at = memchr(s, '@', len);
	for (i = 0; s + i < at && strchr("+-=", s[i]) == NULL; i++)
		if (s[i] != '.')
			out[o++] = (char)tolower((unsigned char)s[i]);
	out[o++] = '@';
	dom = at + 1;
	dlen = len - (size_t)(dom - s);
	for (i = 0; i < sizeof(addr_domain_alias) /
	    sizeof(addr_domain_alias[0]); i++)
		if (strlen(addr_domain_alias[i].alias) == dlen &&
		    strncasecmp(dom, addr_domain_alias[i].alias, dlen) == 0) {
			dom = addr_domain_alias[i].domain;
			dlen = strlen(dom);
			break;
		}
	for (i = 0; i < dlen; i++)
		out[o++] = (char)tolower((unsigned char)dom[i]);
	out[o] = '\0';
	return (int)o;
}

/*
 * Octets that end or structure an unquoted display name: RFC 5322 section
 * 3.2.3 specials other than '.', which obs-phrase (section 4.1) allows and
 * names like "John Q. Public" use.
 */
static int
addr_phrase_special(char c)
{
	return strchr("()<>[]:;@\\,\"", c) != NULL;
}

static char *
addr_strndup(const char *s, size_t len)
{
	char	*d;

	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/*
 * The display name s[0..len) (spaces around it already gone): a quoted
 * string whose only escapes are \" and \\ (RFC 5322 section 3.2.4, kept
 * narrower), or a plain phrase without specials.  Returns a malloc'd,
 * unquoted copy that passed text_header_ok(), or NULL.
 */
static char *
addr_display(const char *s, size_t len)
{
	char	*d;
	size_t	 i, o = 0;

	if (len == 0 || s[0] != '"') {
		for (i = 0; i < len; i++)
			if (addr_phrase_special(s[i]))
				return NULL;
		if (text_header_ok(s, len) != TEXT_OK)
			return NULL;
		return addr_strndup(s, len);
	}
	if (len < 2 || s[len - 1] != '"')
		return NULL;
	if ((d = malloc(len)) == NULL)
		return NULL;
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= len - 1 ||
			    (s[i + 1] != '"' && s[i + 1] != '\\'))
				goto fail;
			d[o++] = s[++i];
		} else if (s[i] == '"')
			goto fail;
		else
			d[o++] = s[i];
	}
	d[o] = '\0';
	if (text_header_ok(d, o) != TEXT_OK)
		goto fail;
	return d;
fail:
	free(d);
	return NULL;
}

int
addr_mailbox_parse(const char *s, char **display, char **addr)
{
	const char	*lt;
	size_t		 len, dlen;

	*display = *addr = NULL;
	if (s == NULL)
		return -1;
	len = strlen(s);
	while (len > 0 && s[0] == ' ') {
		s++;
		len--;
	}
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0)
		return -1;

	if (s[len - 1] != '>') {
		if (!addr_spec_ok(s, len))
			return -1;
		*display = addr_strndup("", 0);
		*addr = addr_strndup(s, len);
	} else {
		/*
		 * The address is what follows the last '<': neither an
		 * addr-spec nor a valid display name (quoted or not) can
		 * end with a '<' that belongs to them.
		 */
		lt = s + len - 1;
		while (lt > s && *lt != '<')
			lt--;
		if (*lt != '<' || !addr_spec_ok(lt + 1,
		    (size_t)(s + len - 1 - (lt + 1))))
			return -1;
		dlen = (size_t)(lt - s);
		while (dlen > 0 && s[dlen - 1] == ' ')
			dlen--;
		if ((*display = addr_display(s, dlen)) == NULL)
			return -1;
		*addr = addr_strndup(lt + 1, (size_t)(s + len - 2 - lt));
	}
	if (*display == NULL || *addr == NULL) {
		free(*display);
		free(*addr);
		*display = *addr = NULL;
		return -1;
	}
	return 0;
}

int
addr_is_loopback(const char *host, size_t len, int localhost_ok)
{
	char		 h[64];
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (len == 0 || len >= sizeof(h))
		return 0;
	if (localhost_ok && len == 9 && memcmp(host, "localhost", 9) == 0)
		return 1;
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return 0;
		host++;
		len -= 2;
	}
	memcpy(h, host, len);
	h[len] = '\0';
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int
addr_ip_ok(const char *s)
{
	unsigned char	 a[sizeof(struct in6_addr)];

	if (s == NULL || strnlen(s, ADDR_MAX_IP) == ADDR_MAX_IP)
		return 0;
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

const char *
addr_domain(const char *addr)
{
	const char	*at;

	return addr != NULL && (at = strrchr(addr, '@')) != NULL ? at + 1 :
	    NULL;
}

int
addr_domain_below(const char *d, const char *parent)
{
	size_t	 dl, pl;

	if (d == NULL || parent == NULL)
		return 0;
	dl = strlen(d);
	pl = strlen(parent);
	return dl >= pl && (strcasecmp(d, parent) == 0 || (dl > pl &&
	    d[dl - pl - 1] == '.' && strcasecmp(d + dl - pl, parent) == 0));
}
