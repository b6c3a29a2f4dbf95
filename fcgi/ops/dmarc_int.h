/*
 * dmarc_int.h: what dmarc_report.c (the report's elements) and
 * dmarc_xml.c (the XML scanner) share: the parse state and the scanner's
 * steps.  Internal to the DMARC report parser.
 */
#ifndef F2M_DMARC_INT_H
#define F2M_DMARC_INT_H

#include <stddef.h>

#include "ops/dmarc_report.h"

/* One parse: the input, the position, the report being built, the open
 * elements' path and the current element's decoded text. */
struct px {
	const char		*s, *end, *p;
	struct dmarc_report_pos	*pos;
	struct dmarc_report	*r;
	size_t			 recalloc;
	int			 adkim_seen, aspf_seen; /* in this record */
	int			 depth;
	size_t			 plen[DMARC_REPORT_DEPTH_MAX + 1];
	char			 path[DMARC_REPORT_DEPTH_MAX * 64 + 1];
	char			 text[DMARC_REPORT_TEXT_MAX + 1];
	size_t			 ntext;
	int			 have_begin, have_end;
};

/* Sets pos (line, column of x->p) and why; returns -1. */
int	 dmarc_px_fail(struct px *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The whole input: well-formed UTF-8 of XML Chars; 0, or -1 (failed). */
int	 dmarc_utf8_check(struct px *);
/* XML white space (S, XML 1.0 2.3). */
int	 dmarc_is_space(int c);
void	 dmarc_skip_space(struct px *);
/* Whether the input at x->p starts with lit. */
int	 dmarc_starts(const struct px *, const char *lit);
/* A Name at x->p (ASCII), its length, 0 when none; *name points to it. */
size_t	 dmarc_read_name(struct px *, const char **name);
/* Appends to the element's text, at most DMARC_REPORT_TEXT_MAX; 0 or -1. */
int	 dmarc_text_add(struct px *, const char *, size_t);
/* The reference at x->p ('&') into the text; 0 or -1. */
int	 dmarc_read_ref(struct px *);
/* A comment, CDATA section or PI at x->p ("<!", "<?"); other "<!"
 * declarations are refused.  0 or -1. */
int	 dmarc_markup(struct px *);

#endif
