/*
 * form_int.h: what form.c and multipart.c share (private to form/): the
 * header-parameter syntax form.c parses for multipart.c's Content-Type and
 * Content-Disposition (untrusted data!).
 */
#ifndef F2M_FORM_INT_H
#define F2M_FORM_INT_H

#include <stddef.h>

#define FORM_DEFAULT_TYPE	"application/octet-stream" /* RFC 7578 4.4 */

/* One parameter, pointing into the header value it was read from. */
struct form_param {
	const char	*name;
	size_t		 name_len;
	const char	*val;		/* inside the quotes when quoted */
	size_t		 val_len;
	int		 quoted;
};


/* 1 for an RFC 9110 section 5.6.2 tchar. */
int	 form_tchar(unsigned char c);
/* The index of the first octet of s[i..len) that is not SP or HTAB. */
size_t	 form_ows(const char *s, size_t len, size_t i);
/* 1 when s[0..len) is lit, ignoring ASCII case. */
int	 form_is(const char *s, size_t len, const char *lit);
/*
 * The next parameter (RFC 9110 section 5.6.6: ';' OWS name '=' value, no
 * spaces around '=') of s[0..len) from *pos.  Returns 1 with *pm set, 0 at
 * the end (an empty trailing ';' is tolerated), -1 when malformed.  Inside
 * a quoted string only \" and \\ are pairs (see form.h).
 */
int	 form_param(const char *s, size_t len, size_t *pos,
	    struct form_param *pm);
/* Writes the value of pm, pairs undone, to dst (pm->val_len octets at
 * most); returns its length. */
size_t	 form_unquote(char *dst, const struct form_param *pm);
/*
 * Decodes an RFC 5987 ext-value "UTF-8'lang'%e2%82%ac.pdf" of pm into dst
 * (pm->val_len octets at most): 0 with *out its length, or -1 for anything
 * else (another charset, a quoted value, a stray octet).
 */
int	 form_extvalue(char *dst, const struct form_param *pm, size_t *out);

#endif
