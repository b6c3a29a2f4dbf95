/*
 * validate: the per-form field rules of the config, applied to a post
 * (untrusted data!).  Address syntax (admin mailboxes included) is
 * lib/addr.h, the text classes lib/text.h.
 *
 * Every function here is an allowlist: it says yes only to what it knows.
 */
#ifndef F2M_VALIDATE_H
#define F2M_VALIDATE_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/text.h"

struct conf_form;
struct form;
struct form_field;
struct form_route;

/*
 * Returns 1 for the names of fields that machinery reads and that are
 * never shown or checked as fields: '_' names (_next, _gotcha, ...),
 * "redirect", the honeypot alias "botcheck", Web3Forms' "replyto" (the
 * twin of _replyto), the ALTCHA payload "altcha" and the captcha tokens
 * "g-recaptcha-response", "h-captcha-response", "cf-turnstile-response".
 */
int	 validate_reserved_name(const char *name, size_t len);

/*
 * Returns 1 for the names other form services give to data that
 * form2mail also reads for a purpose: NMS "recipient" (the route),
 * "subject" (NMS, Web3Forms; the twin of _subject), "realname" (NMS) and
 * "from_name" (Web3Forms), the visitor's name on Reply-To.  They are
 * shown in the body like other fields but are never "unknown" under
 * "extra_fields": "reject".
 */
int	 validate_alias_name(const char *name, size_t len);

/* One failing field: name (owned by the form or the config) and code. */
struct validate_error {
	const char	*field;
	const char	*code;	/* "required", "max_length", "email",
				   "invalid", "unknown", "letters" */
};

#define VALIDATE_MAX_ERRORS	64

/*
 * Returns 1 when the text holds at least one letter: ASCII letters, and
 * code points of the Latin-1 and Latin Extended letters, Greek to the
 * Indic, Thai and other scripts (U+0370..U+1FFF), kana and CJK
 * (U+3040..U+9FFF) and Hangul (U+AC00..U+D7AF).  An approximation of
 * Unicode's L category that needs no tables; call on checked UTF-8.
 */
int	 validate_has_letter(const char *s, size_t len);

/*
 * 1 when the notification shows ff in its body as an extra field: the
 * form's extra_fields is "include" and ff is neither a configured field,
 * nor the honeypot, nor a reserved name (validate_reserved_name).
 * mail/compose.c shows exactly these after the configured fields.
 */
int	 validate_extra_shown(const struct conf_form *,
	    const struct form_field *);

/*
 * The content rules of issues 3 and 16 (F7) over every visitor-typed
 * value that reaches the notification, each counted once: the configured
 * fields, the extras it shows (validate_extra_shown) and their names
 * (each one's label in the mail), the visitor's subject, Reply-To
 * address and name that form_resolve() picked into r (_subject,
 * subject, _replyto, replyto, realname, from_name; whatever their
 * names), and the file names of the uploads.  Values that reach
 * no message (_next, redirect, ignored extras, captcha tokens) are not
 * judged.  More links than max_links in all ("http://", "https://" and
 * "www." counted, ASCII case-insensitive) -> "links"; a blocked phrase
 * found in one value (ASCII case-insensitive) -> "phrase".  Returns NULL
 * when the post passes.  A post that fails is treated as spam by the
 * caller (answered as accepted, nothing sent), so bots learn nothing.
 * r is required: form_resolve()'s for f.
 */
const char *validate_content(const struct conf_form *, const struct form *,
	    const struct form_route *r);

/*
 * The uploads of f against the form's "uploads" rules: on a form without
 * uploads each file field is an error "file" (once per field, even an
 * empty one); else a file over max_file_size is "size" and one whose
 * sniffed type is not allowed "type"; an empty file input is no file.
 * Appends to errs[n..] (up to VALIDATE_MAX_ERRORS); returns the count.
 */
size_t	 validate_files(const struct conf_form *, const struct form *,
	    struct validate_error *errs, size_t n);

/*
 * Applies the form's field rules (docs/DESIGN.md "Config", "Details that tests
 * rely on") to a parsed form:
 *   - each configured field: at most one occurrence ("invalid" otherwise);
 *     required and empty -> "required"; over max_length code points ->
 *     "max_length"; type email and not addr_spec_ok() -> "email";
 *     header-bound (reply_to, or used by the subject template, see
 *     conf_field.header) and not text_header_ok() -> "invalid";
 *     otherwise (body only) not text_body_ok() -> "invalid";
 *     a field that is not multiline holding CR or LF -> "invalid".
 *   - other fields: skipped when they are the honeypot, "redirect" or
 *     start with '_' (request.c reads _next/redirect itself); with
 *     extra_fields "reject" -> "unknown"; with "ignore" not checked (they
 *     reach no message); with "include" their name must pass
 *     text_field_name_ok() and their value text_body_ok(), else
 *     "invalid".
 * Empty means zero octets (nothing is trimmed); an empty optional field
 * passes.  One code per configured field, the first failing check in the
 * order: occurrences, required, text, CR/LF, max_length, email; then
 * one per failing extra occurrence in body order.  Fills errs (at most max
 * entries) and returns how many failed (0: valid), which may exceed max.
 * Nothing is allocated: each field points into the config or the form.
 */
size_t	 validate_form(const struct conf_form *, const struct form *,
	    struct validate_error *errs, size_t max);

#endif
