/*
 * message: build one RFC 5322 / MIME message (RFC 2045-2047, 2231).
 *
 * Inputs were validated before they get here (validate.h); this module
 * still refuses, never cleans: a header value with CR, LF, NUL or another
 * control makes message_build() fail.  Output uses CRLF line ends
 * everywhere and no line is longer than 998 octets (RFC 5322 section 2.1.1);
 * headers are folded at 78 where they can be, and a header line that holds
 * an RFC 2047 encoded word is at most 76 octets, the field name included
 * (RFC 2047 section 2).
 */
#ifndef F2M_MESSAGE_H
#define F2M_MESSAGE_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

#define MESSAGE_MAX_ID		60	/* MIME boundary line <= 78 */
#define MESSAGE_MAX_HOST	253
#define MESSAGE_MAX_IP		45	/* INET6_ADDRSTRLEN - 1 */
#define MESSAGE_MAX_ATTACHMENTS	64
#define MESSAGE_MAX_FILENAME	255	/* octets; FORM_MAX_FILENAME */
#define MESSAGE_MAX_SUBTYPE	127	/* RFC 6838 section 4.2, each half */

struct message_mailbox {
	const char	*display;	/* UTF-8 or "" / NULL */
	const char	*addr;		/* validated addr-spec */
};

/*
 * An uploaded file.  filename: UTF-8, already stripped of any path, no
 * controls; type: the sniffed "type/subtype"; data[0..len) any octets.
 * All borrowed: message_build() copies what it needs into its output.
 */
struct message_attachment {
	const char	*filename;
	const char	*type;
	const void	*data;
	size_t		 len;
};

struct message {
	struct message_mailbox		 from;
	const struct message_mailbox	*reply_to;	/* NULL: none */
	const struct message_mailbox	*to;
	size_t				 nto;
	const struct message_mailbox	*cc;
	size_t				 ncc;
	const char	*subject;	/* UTF-8, no controls */
	const char	*id;		/* submission id, [A-Za-z0-9]+ */
	const char	*hostname;	/* Message-ID right-hand side, LDH */
	time_t		 date;
	const char	*client_ip;	/* printable IPv4/IPv6 text or NULL */
	const char	*auto_submitted; /* keyword [A-Za-z0-9-]+;
					   "auto-generated" when NULL */
	const char	*text;		/* UTF-8 body, LF or CRLF line ends */
	size_t		 text_len;
	const char	*html;		/* NULL: text/plain only */
	size_t		 html_len;
	const struct message_attachment *attachments;	/* NULL: none */
	size_t		 nattachments;
};

/*
 * Appends the whole message to out:
 *   From, Reply-To, To, Cc, Subject, Date (RFC 5322 section 3.3, +0000),
 *   Message-ID <id@hostname>, MIME-Version: 1.0, Auto-Submitted,
 *   X-Originating-IP: [ip], then the body B, either
 *   Content-Type: text/plain; charset=utf-8 with quoted-printable, or
 *   multipart/alternative (text/plain then text/html, both QP) with the
 *   boundary "=_f2m<id>", which cannot occur in QP output.
 * With nattachments > 0 the body is multipart/mixed with the boundary
 * "=_f2m_<id>": B first (the text/plain part then has no final soft break),
 * then one part per attachment, in order:
 *   Content-Type: <type>; name=..., Content-Disposition: attachment;
 *   filename=..., Content-Transfer-Encoding: base64 (lines of 76).
 * name and filename carry the same value in one form, never two: printable
 * ASCII without '"' and "=?" that fits a line of 78 as a quoted-string;
 * anything else as an RFC 2231 extended value "filename*=UTF-8''%E2%82%AC..."
 * (split into "filename*0*=", "filename*1*=" ... sections of whole
 * characters when one line of 78 cannot hold it).  Every part header line
 * is within 78 octets but for a first line made long by a long type.
 * At least one To mailbox is required.  Refused: a display name or subject
 * with controls (C0 incl. TAB, DEL, C1, U+2028/9) or invalid UTF-8; an addr
 * outside dot-atom@LDH-domain; id not [A-Za-z0-9]{1,60}; hostname not LDH
 * labels; client_ip with anything but hex digits, '.', ':'; a date whose
 * year is outside 1900..9999; more than MESSAGE_MAX_ATTACHMENTS
 * attachments; a filename that is empty, ".", "..", over
 * MESSAGE_MAX_FILENAME octets, not well-formed UTF-8, or holds a control
 * (as above), a bidirectional formatting character (U+061C, U+200E/F,
 * U+202A-E, U+2066-9), '/' or '\'; a type that is not RFC 2045
 * token "/" token of 1..MESSAGE_MAX_SUBTYPE octets each, or of the top
 * types multipart and message (RFC 2045 section 6.4: never base64); data
 * NULL with len > 0.
 * The text/plain body decodes back to text exactly (a text without a final
 * line break ends in a soft break).
 * Returns 0, or -1 on ENOMEM or an input a header cannot carry; on -1 out
 * is left as it was.  Every function below also leaves the buffer as it
 * was when it returns -1.
 */
int	 message_build(const struct message *, struct buf *out) F2M_WUR;

/*
 * Appends an unstructured header body (e.g. Subject) that starts after
 * `used` octets of the line ("Subject: " is 9): ASCII printable text
 * folded at spaces, or when non-ASCII, RFC 2047 B-encoded UTF-8 words
 * ("=?UTF-8?B?...?=") of at most 75 octets, never splitting a character,
 * separated by CRLF SP, each line within 76 octets counting the `used`
 * ones (with used over 56 the first word may not fit by column 76: it
 * still gets one character).  Printable ASCII holding "=?" is encoded
 * too, and so is a word too long for a 998-octet line.  Refuses (returns
 * -1) controls and invalid UTF-8, and used > 78.
 */
int	 message_header_text(struct buf *, const char *s, size_t len,
	    size_t used) F2M_WUR;

/*
 * Appends a mailbox: `addr` alone, or `display <addr>`, the display name
 * as an RFC 5322 atom phrase, a quoted-string, or RFC 2047 encoded words
 * when not ASCII.  Returns -1 on controls or invalid UTF-8, or an addr
 * that is not dot-atom@LDH-domain.  Written as if it started a line
 * (column 0): a line with an encoded word is within 76 octets there, so
 * a caller after "Name: " may see a first line of 76 + name.
 */
int	 message_mailbox(struct buf *, const struct message_mailbox *)
	    F2M_WUR;

/* Quoted-printable (RFC 2045 section 6.7) of a UTF-8 text: line ends
 * (LF or CRLF) become CRLF hard breaks, soft breaks keep lines <= 76,
 * '=' and non-ASCII encoded, trailing blanks encoded, a leading '.' on a
 * line encoded as =2E, "From " kept safe.  No CRLF is added after a last
 * line without a line break; a UTF-8 character is never split by a soft
 * break. */
int	 message_qp(struct buf *, const char *s, size_t len) F2M_WUR;

/* Date in RFC 5322 section 3.3 form, "Sat, 28 Nov 2026 00:26:26 +0000",
 * English names in any locale; dst gets "" when the year falls outside
 * 1900..9999 or dstsize is too small (32 is enough). */
void	 message_date(time_t, char *dst, size_t dstsize);

#endif
