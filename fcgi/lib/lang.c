/* lang: answer languages and Accept-Language; see lang.h.  The tables
 * are in lang_text.c. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "lib/lang.h"
#include "lib/lang_int.h"

const char *
lang_tag(enum lang l)
{
	return (unsigned int)l < LANG_COUNT ? lang_text_tags[l] : NULL;
}

const char *
lang_msg(enum lang l, enum lang_msg m)
{
	if ((unsigned int)l >= LANG_COUNT)
		l = LANG_EN;
	if ((unsigned int)m >= LANG_MSG_COUNT)
		m = LANG_INTERNAL;
	return lang_text_msgs[l][m];
}

const char *
lang_code_text(enum lang l, const char *code)
{
	size_t	 i;

	if ((unsigned int)l >= LANG_COUNT)
		l = LANG_EN;
	for (i = 0; code != NULL && i < LANG_NCODES; i++)
		if (strcmp(code, lang_text_codes[i]) == 0)
			return lang_text_code_texts[l][i];
	return lang_text_code_texts[l][LANG_INVALID];
}

const char *
lang_status_title(enum lang l, int status)
{
	size_t	 i;

	if ((unsigned int)l >= LANG_COUNT)
		l = LANG_EN;
	if (status == 411 || status == 414)
		status = 400;
	for (i = 0; i < LANG_NSTATUS; i++)
		if (lang_text_statuses[i] == status)
			return lang_text_titles[l][i];
	return lang_text_titles[l][LANG_NSTATUS - 2];	/* 500 */
}

/* ---- Accept-Language ---------------------------------------------- */

static int
lang_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
lang_alnum(int c)
{
	return lang_alpha(c) || (c >= '0' && c <= '9');
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 when s[0..n) is not one.
 */
static int
lang_qvalue(const char *s, size_t n)
{
	size_t	 i;
	int	 q, scale = 100;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = s[0] == '1' ? 1000 : 0;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9' || (q == 1000 && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q;
}

/*
 * One list member p[0..n): language-range [ OWS ";" OWS "q=" qvalue ].
 * Sets *range, *rlen (the primary subtag, or "*") and returns q in
 * thousandths, or -1 when the member is malformed.
 */
static int
lang_member(const char *p, size_t n, const char **range, size_t *rlen)
{
	size_t	 i = 0, k, sub;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*range = p + i;
	if (i < n && p[i] == '*')
		k = i + 1;
	else {
		for (k = i; k < n && lang_alpha((unsigned char)p[k]); k++)
			;
		if (k == i || k - i > 8)
			return -1;
		*rlen = k - i;
		while (k < n && p[k] == '-') {
			for (sub = ++k; k < n && lang_alnum((unsigned char)p[k]);
			    k++)
				;
			if (k == sub || k - sub > 8)
				return -1;
		}
	}
	if (p[i] == '*')
		*rlen = 1;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (k == n)
		return 1000;
	if (p[k++] != ';')
		return -1;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (n - k < 2 || (p[k] != 'q' && p[k] != 'Q') || p[k + 1] != '=')
		return -1;
	return lang_qvalue(p + k + 2, n - k - 2);
}

enum lang
lang_negotiate(const char *accept, unsigned int have)
{
	int		 q[LANG_COUNT], pos[LANG_COUNT], star = -1, star_pos = 0;
	const char	*p, *e, *end, *range;
	size_t		 rlen = 0, len;
	int		 l, best = -1, member, w;

	have &= LANG_ALL;
	for (l = 0; l < LANG_COUNT; l++)
		q[l] = pos[l] = -1;
	len = accept != NULL ? strnlen(accept, LANG_MAX_ACCEPT) : 0;
	end = accept != NULL ? accept + len : NULL;
	for (p = accept, member = 0; p != NULL && p < end; member++) {
		if ((e = memchr(p, ',', (size_t)(end - p))) == NULL)
			e = end;
		w = lang_member(p, (size_t)(e - p), &range, &rlen);
		if (w >= 0 && rlen == 1 && *range == '*') {
			if (w > star) {
				star = w;
				star_pos = member;
			}
		} else if (w >= 0 && rlen == 2)
			for (l = 0; l < LANG_COUNT; l++)
				if (strncasecmp(range, lang_text_tags[l], 2) == 0 &&
				    (pos[l] == -1 || w > q[l])) {
					q[l] = w;
					pos[l] = member;
				}
		p = e < end ? e + 1 : end;
	}
	for (l = 0; l < LANG_COUNT; l++)
		if (pos[l] == -1 && star >= 0) {
			q[l] = star;
			pos[l] = star_pos;
		}
	for (l = 0; l < LANG_COUNT; l++) {
		if (!(have & LANG_BIT(l)) || q[l] <= 0)
			continue;
		if (best == -1 || q[l] > q[best] ||
		    (q[l] == q[best] && pos[l] < pos[best]))
			best = l;
	}
	if (best >= 0)
		return (enum lang)best;
	if (have == 0 || (have & LANG_BIT(LANG_EN)))
		return LANG_EN;
	for (l = 0; !(have & LANG_BIT(l)); l++)
		;
	return (enum lang)l;
}

