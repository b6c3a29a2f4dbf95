/*
 * strict_mime: a strict reader of the messages form2mail builds, for the
 * fuzz targets (untrusted data!: message_build() output under hostile
 * input).  It takes RFC 5322 / MIME in the narrower form that message.h
 * promises and refuses everything else, so that a message it reads back
 * means the same to any reader:
 *   - the whole message: octets 1..127 only, CRLF line ends only (no bare
 *     CR or LF), no line over 998 octets (RFC 5322 section 2.1.1);
 *   - header fields: a name of printable ASCII but ':' (section 3.6.8),
 *     then ": " and the value; a folded line starts with SP or HTAB and
 *     holds a character that is not blank (section 3.2.2); unfolding
 *     removes each CRLF before a blank (section 2.2.3);
 *   - no comments, no obsolete syntax, no domain literals, no quoted
 *     local parts, no transport padding after a boundary;
 *   - MIME (RFC 2045, 2046, 2231): Content-Type type/subtype and
 *     parameters of token or quoted-string, RFC 2231 sections (0..n-1, no
 *     gaps) and extended values in UTF-8 or US-ASCII; each parameter
 *     once; Content-Transfer-Encoding 7bit, quoted-printable or base64
 *     (7bit only for multipart, section 6.4); a multipart boundary of
 *     1..70 bchars that starts no line of the body but its delimiters
 *     (RFC 2046 section 5.1.1), at least one part, a close delimiter;
 *     quoted-printable with upper-case hex, lines of at most 76, no blank
 *     at a line end, only printable ASCII, SP and HTAB as themselves
 *     (RFC 2045 section 6.7); base64 of whole quanta, lines of at most
 *     76, zero pad bits (section 6.8);
 *   - RFC 2047 encoded words (UTF-8, B or Q) of at most 75 octets, each
 *     holding whole UTF-8 characters (section 5 rule 3), each a whole
 *     blank-separated word; the blanks between two of them are dropped
 *     (section 6.2).  A plain word holding "=?" is refused: some reader
 *     would take it for an encoded word.
 * Every function returns 0 (or non-NULL) on success and -1 (NULL) on the
 * first violation; smime_error() then names it.
 */
#ifndef F2M_STRICT_MIME_H
#define F2M_STRICT_MIME_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

#define SMIME_MAX_HEADERS	64	/* fields of one entity */
#define SMIME_MAX_PARAMS	16	/* parameters of one field */
#define SMIME_MAX_PARTS		80	/* parts of one multipart */
#define SMIME_MAX_DEPTH		3	/* multipart nesting */
#define SMIME_MAX_MAILBOXES	128	/* of one address list */

struct smime_header {
	char	*name;		/* as written */
	char	*value;		/* unfolded, after ": " */
};

struct smime_param {
	char	*name;		/* lower case, without sections or '*' */
	char	*value;		/* decoded octets, NUL-terminated */
	size_t	 len;
	int	 extended;	/* name* or name*N* (RFC 2231) */
};

enum smime_cte { SMIME_7BIT, SMIME_QP, SMIME_BASE64 };

struct smime_part {
	struct smime_header	 hdr[SMIME_MAX_HEADERS];
	size_t			 nhdr;
	char			 type[260];	/* lower case "type/subtype" */
	struct smime_param	 param[SMIME_MAX_PARAMS];	/* Content-Type */
	size_t			 nparam;
	char			 disposition[64];	/* lower case; "" none */
	struct smime_param	 dparam[SMIME_MAX_PARAMS];
	size_t			 ndparam;
	enum smime_cte		 cte;
	struct buf		 body;		/* decoded content of a leaf */
	struct smime_part	*child;		/* multipart: its parts */
	size_t			 nchild;
};

struct smime_mailbox {
	char	*display;	/* decoded phrase; "" when none */
	char	*addr;		/* the addr-spec */
};

/*
 * Reads a whole message.  On 0 *out holds the tree (smime_free() it);
 * on -1 *out is NULL.
 */
int	 smime_parse(const char *, size_t, struct smime_part **out);
void	 smime_free(struct smime_part *);

/* The reason of the last failure, for a fuzz report. */
const char *smime_error(void);

/* The value of the first field called name (any case) or NULL; *count
 * (may be NULL) gets how many fields have that name. */
const char *smime_header(const struct smime_part *, const char *name,
	    size_t *count);

/* A parameter by lower-case name, the RFC 2231 form or the plain one. */
const struct smime_param *smime_param(const struct smime_param *, size_t n,
	    const char *name, int extended);

/* An unstructured value (Subject) with its encoded words decoded. */
int	 smime_unstructured(const char *value, struct buf *out);

/* A mailbox-list (From, To, Cc, Reply-To): *n mailboxes into v, each
 * freed with smime_mailboxes_free(). */
int	 smime_mailboxes(const char *value, struct smime_mailbox *v,
	    size_t max, size_t *n);
void	 smime_mailboxes_free(struct smime_mailbox *, size_t n);

/* An RFC 5322 section 3.3 date-time (no obsolete forms): the instant. */
int	 smime_date(const char *value, time_t *out);

/* dot-atom-text "@" dot-atom-text (section 3.4.1, no CFWS): 1 or 0. */
int	 smime_addr_spec(const char *, size_t);

/* Well-formed UTF-8 (RFC 3629): 1 or 0. */
int	 smime_utf8(const char *, size_t);

#endif
