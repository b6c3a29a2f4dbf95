/*
 * url: URL syntax checks; see url.h.
 */
#include <string.h>

#include "lib/addr.h"
#include "lib/url.h"

int
url_chars_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"<>\\^`{|}", *s))
			return 0;
	return 1;
}

int
url_origin_ok(const char *s)
{
	const char	*h;

	if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else
		return 0;
	if (*h == '\0' || !url_chars_ok(h))
		return 0;
	return strpbrk(h, "/?#@") == NULL;
}

int
url_prefix_ok(const char *s)
{
	if (!url_chars_ok(s))
		return 0;
	if (s[0] == '/' && s[1] != '/' && s[1] != '\\')
		return 1;
	return strncmp(s, "https://", 8) == 0 && s[8] != '\0' &&
	    s[8] != '/' && strchr(s + 8, '@') == NULL;
}

/* Is the host of an http(s) URL a loopback address literal? */
static int
url_loopback(const char *url)
{
	const char	*h = strstr(url, "://");
	size_t		 n;

	if (h == NULL)
		return 0;
	h += 3;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
	return addr_is_loopback(h, n, 0);
}

int
url_service_ok(const char *s)
{
	if (!url_chars_ok(s) || strchr(s, '@') != NULL)
		return 0;
	if (strncmp(s, "https://", 8) == 0 && s[8] != '\0' && s[8] != '/')
		return 1;
	return strncmp(s, "http://", 7) == 0 && url_loopback(s);
}
