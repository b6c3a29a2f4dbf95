/*
 * form: decode a form body (untrusted data!) into an ordered list of
 * name/value pairs, and for multipart/form-data a list of uploaded files.
 *
 * Names and values are decoded bytes, each NUL-terminated for convenience,
 * but they may hold any byte including NUL: always use the lengths.  No
 * character checks happen on values here; validate.h decides what is
 * acceptable.  Order is the order of the body.  Repeated names are kept as
 * they came.  A parsed form is one allocation: form_free() releases it all.
 */
#ifndef F2M_FORM_H
#define F2M_FORM_H

#include <stddef.h>

#include "lib/buf.h"

/* Hard ceilings, independent of config (config may only lower them). */
#define FORM_MAX_NAME	256		/* octets of a decoded name */
#define FORM_MAX_FIELDS	1000		/* absolute cap on pairs */
#define FORM_MAX_BOUNDARY	70	/* RFC 2046 section 5.1.1 */
#define FORM_MAX_FILENAME	255	/* octets of a sanitized filename */
#define FORM_MAX_PART_HEADER	8192	/* octets of one part header line */
#define FORM_MAX_PART_LINES	16	/* header lines of one part */
#define FORM_UPLOAD_NAME	"upload" /* when no usable filename is left */

struct form_field {
	char	*name;
	size_t	 name_len;
	char	*value;
	size_t	 value_len;
};

/*
 * One file part of a multipart body.  Strings are NUL-terminated; data is
 * too (data[len] == '\0') but may hold NULs.
 */
struct form_file {
	char		*field;		/* the part's name, NUL-free */
	char		*filename;	/* sanitized, see form_parse_multipart */
	char		*claimed_type;	/* the sender's Content-Type, untrusted
					 * and informational only; never NULL */
	const char	*sniffed_type;	/* form_sniff() of the data; static */
	char		*data;		/* NULL when too_large */
	size_t		 len;		/* the real size, even when too_large */
	int		 too_large;	/* over max_file_size: data not kept */
};

struct form {
	struct form_field	*fields;
	size_t			 nfields;
	struct form_file	*files;		/* multipart only, else NULL */
	size_t			 nfiles;
};

/*
 * Limits of form_parse_multipart().  Each is a hard limit; max_fields and
 * max_part_header are lowered to FORM_MAX_FIELDS and FORM_MAX_PART_HEADER.
 */
struct form_limits {
	size_t	 max_fields;	/* parts in all: fields, files, empty inputs */
	size_t	 max_files;	/* file parts */
	size_t	 max_file_size;	/* octets of one file; larger: too_large */
	size_t	 max_total;	/* octets of all kept files together */
	size_t	 max_part_header; /* octets of one part header line */
};

enum form_err {
	FORM_OK = 0,
	FORM_ENOMEM,		/* out of memory */
	FORM_ETOOMANY,		/* more than max_fields pairs (or max_files) */
	FORM_ETOOBIG,		/* a name longer than FORM_MAX_NAME, or kept
				 * files over max_total */
	FORM_EINVAL		/* malformed: bad %-escape, empty name, bad
				 * multipart syntax */
};

/*
 * Parses application/x-www-form-urlencoded (WHATWG URL standard, section
 * 5.1): pairs split on '&', name and value on the first '=', '+' is a
 * space, %HH decoded (either case).  Empty pairs ("a=1&&b=2") are skipped.
 * A '%' not followed by two hex digits is FORM_EINVAL (stricter than the
 * standard: a browser never sends one).  A pair with an empty name is
 * FORM_EINVAL.  At most max_fields pairs (and never more than
 * FORM_MAX_FIELDS); the count is checked before each allocation.
 * On FORM_OK *out holds the result; release it with form_free().  On error
 * *out is NULL.
 */
enum form_err	 form_parse_urlencoded(const char *body, size_t len,
		    size_t max_fields, struct form **out);

/*
 * Parses an application/json body (RFC 8259): one object whose member
 * values are strings, numbers, true/false, or arrays of those; each
 * scalar is one pair, an array's elements are pairs of the same name in
 * order (a repeated field, as "a=1&a=2"), and a repeated member name is
 * kept as a repeat too.  Strings are unescaped (\uXXXX to UTF-8; a lone
 * surrogate is FORM_EINVAL); their octets are otherwise kept as sent,
 * like urlencoded values (validate.h judges them).  Numbers keep the text
 * they were written with ("1.50", "-0", "2e3"), true/false become "true"
 * and "false".  null, a nested object or array, a raw control in a
 * string, anything but white space after the object, or a body that is
 * not an object: FORM_EINVAL.  An empty member name is FORM_EINVAL, one
 * longer than FORM_MAX_NAME octets FORM_ETOOBIG; more than max_fields
 * pairs (never more than FORM_MAX_FIELDS) FORM_ETOOMANY.  Nothing
 * recurses and nothing is allocated before the whole body was checked.
 * On FORM_OK *out holds the result; release it with form_free().  On
 * error *out is NULL.
 */
enum form_err	 form_parse_json(const char *body, size_t len,
		    size_t max_fields, struct form **out) F2M_WUR;

/* The body types of docs/DESIGN.md "HTTP answers", by a CONTENT_TYPE value. */
enum form_kind {
	FORM_KIND_NONE = 0,	/* missing or another type: 415 */
	FORM_KIND_URLENCODED,	/* application/x-www-form-urlencoded */
	FORM_KIND_MULTIPART,	/* multipart/form-data */
	FORM_KIND_JSON		/* application/json */
};

/* The media type (any case) followed by its end, ';' or white space;
 * parameters are not looked at here. */
enum form_kind	 form_kind(const char *content_type);

/*
 * Parses multipart/form-data (RFC 7578, RFC 2046 section 5.1.1) in one pass
 * over body; nothing is allocated before the size it depends on is checked
 * against limits (which must not be NULL).
 *
 * content_type is the whole CONTENT_TYPE value: "multipart/form-data" (any
 * case) with exactly one boundary parameter, quoted or not, of 1 to
 * FORM_MAX_BOUNDARY characters of RFC 2046's bchars, not ending in a space.
 *
 * Body: an optional preamble, "--boundary" at the start of a line, parts,
 * "--boundary--", an optional epilogue (preamble and epilogue are ignored).
 * Delimiter lines may carry trailing spaces and tabs (transport-padding).
 * Line ends are CRLF only: browsers always send CRLF, and a parser that also
 * took bare LF would split bodies differently from one that does not, so
 * LF-only bodies are FORM_EINVAL.  A "CRLF--boundary" followed by anything
 * but "--", padding or CRLF is FORM_EINVAL (RFC 2046: the delimiter must
 * not occur in a part); the boundary anywhere else is data.  Every part's
 * headers end with an empty line, and part data that starts with
 * "--boundary" is FORM_EINVAL: RFC 2046 also lets a part have no body at
 * all, and another parser could then take that empty line for the
 * delimiter's CRLF and split the body differently.
 *
 * Part headers: at most FORM_MAX_PART_LINES lines, each "name: value" of at
 * most max_part_header octets ending in CRLF, no folding, no octet below
 * 0x20 but TAB and no DEL; then an empty line.  Each part needs
 * "Content-Disposition: form-data" with a non-empty name parameter (at most
 * FORM_MAX_NAME octets, else FORM_ETOOBIG).  Parameter values are tokens or
 * quoted strings in which only \" and \\ are escapes: browsers do not escape
 * backslashes, so "C:\dir\x.pdf" keeps them.  Repeated parameters or
 * repeated Content-Disposition, Content-Type or Content-Transfer-Encoding
 * headers, a Content-Type of multipart/... (nested multipart, RFC 7578
 * section 4.3 forbids it) and a Content-Transfer-Encoding other than 7bit,
 * 8bit or binary are FORM_EINVAL.  Other headers are ignored.
 *
 * A part with a filename (or filename*) parameter is a file; the others are
 * fields (fields[], values are the raw part bodies).  A part with an empty
 * filename and an empty body is what a browser sends for a file input left
 * empty: it is skipped (counts against max_fields only).  filename*= is
 * used (and wins over filename=, RFC 6266 section 4.3) when it is
 * "UTF-8''" followed by attr-chars and %HH escapes (RFC 5987); any other
 * filename*= is ignored.  HTML's %22 / %0A / %0D escapes in filename= are
 * not decoded (a literal '%' is not escaped, so decoding would be a guess).
 * The filename is then sanitized:
 *  - a C0 control, DEL, a C1 control, U+2028/U+2029 or a bidirectional
 *    formatting character (U+061C, U+200E/F, U+202A-E, U+2066-9, which can
 *    disguise an extension), or invalid UTF-8, anywhere: FORM_EINVAL;
 *  - everything up to the last '/' or '\' is removed;
 *  - "", "." and ".." become FORM_UPLOAD_NAME;
 *  - longer than FORM_MAX_FILENAME octets: cut at a character boundary,
 *    keeping an extension of up to 32 octets;
 *  - last, the name must end in an extension of its sniffed type (see
 *    form_safe_ext()); when it does not, that type's extension is
 *    appended ("invoice.hta" sniffed as text/plain: "invoice.hta.txt",
 *    "payment.pdf.bat" sniffed as a PDF: "payment.pdf.bat.pdf"), the
 *    name cut first if it would exceed FORM_MAX_FILENAME.
 * claimed_type is the part's Content-Type value, trimmed, or
 * "application/octet-stream" without one (RFC 7578 section 4.4).
 *
 * Limits: more than max_fields parts, or more than max_files file parts,
 * is FORM_ETOOMANY.  A file longer than max_file_size is recorded with
 * too_large set, data NULL and its real len; it does not count towards
 * max_total.  Kept files longer than max_total together: FORM_ETOOBIG.
 * On FORM_OK *out holds the result; release it with form_free().  On error
 * *out is NULL.
 */
enum form_err	 form_parse_multipart(const char *body, size_t len,
		    const char *content_type, const struct form_limits *,
		    struct form **out) F2M_WUR;

/*
 * The type of data by its first octets, never by a name or a claim:
 * "application/pdf" (%PDF-), "image/png", "image/jpeg", "image/gif"
 * (GIF87a, GIF89a), "image/webp" (RIFF....WEBP), "application/zip" (PK\3\4;
 * also .docx, .xlsx, .odt), "text/plain" (non-empty, the first 4 KiB
 * well-formed UTF-8 without NUL, DEL, C1 or other controls than TAB, CR and
 * LF; a character across the 4 KiB mark is checked whole), else
 * "application/octet-stream".  The magic must stand at offset 0.  Returns a
 * static string; NULL data is "application/octet-stream".
 */
const char	*form_sniff(const void *data, size_t len);

/*
 * The extension (without the dot) to append to the file name[0..len)
 * whose content sniffed as type (a form_sniff() answer), or NULL when
 * the name already ends in one of that type's extensions (ASCII case
 * insensitive): pdf; png; jpg, jpeg, jpe; gif; webp; zip and the zip
 * office formats docx, xlsx, pptx, odt, ods, odp; txt, text, csv, log
 * for text/plain; bin for anything else.  A name that is only an
 * extension (".pdf") has none.
 */
const char	*form_safe_ext(const char *type, const char *name, size_t len);
#define FORM_MAX_SAFE_EXT	6	/* ".jpeg" and its NUL, with room */

/* First field with this exact name, or NULL.  Owned by the form. */
const struct form_field *form_get(const struct form *, const char *name);
/* Number of fields with this exact name. */
size_t		 form_count(const struct form *, const char *name);
/* NULL is accepted. */
void		 form_free(struct form *);
/* A short English text for an error code. */
const char	*form_strerror(enum form_err);

#endif
