/* validate: the per-form field rules; see validate.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/resolve.h"
#include "form/validate.h"
#include "lib/addr.h"
#include "lib/text.h"

/* ---- form rules ---------------------------------------------------- */

static int
validate_is(const struct form_field *ff, const char *name)
{
	size_t	 len = strlen(name);

	return ff->name_len == len && memcmp(ff->name, name, len) == 0;
}

/* The error code for configured field cf, or NULL when it passes. */
static const char *
validate_one(const struct conf_field *cf, const struct form *f)
{
	const struct form_field	*ff = NULL;
	const char		*v;
	size_t			 i, n = 0, len;
	enum text_check	 t;

	for (i = 0; i < f->nfields; i++)
		if (validate_is(&f->fields[i], cf->name) && n++ == 0)
			ff = &f->fields[i];
	if (n > 1)
		return "invalid";
	v = ff != NULL ? ff->value : "";
	len = ff != NULL ? ff->value_len : 0;
	/* Empty is empty: a value of spaces is the visitor's to send. */
	if (len == 0)
		return cf->required ? "required" : NULL;
	if (cf->header || cf->reply_to)
		t = text_header_ok(v, len);
	else
		t = text_body_ok(v, len);
	if (t != TEXT_OK)
		return "invalid";
	if (!cf->multiline && (memchr(v, '\r', len) != NULL ||
	    memchr(v, '\n', len) != NULL))
		return "invalid";
	if (cf->max_length > 0 && text_utf8_len(v, len) > cf->max_length)
		return "max_length";
	if (cf->email && !addr_spec_ok(v, len))
		return "email";
	if (cf->letters && !validate_has_letter(v, len))
		return "letters";
	return NULL;
}

int
validate_reserved_name(const char *name, size_t len)
{
	static const char *const names[] = { "redirect", "altcha", "botcheck",
	    "replyto", "g-recaptcha-response", "h-captcha-response",
	    "cf-turnstile-response" };
	size_t	 i;

	if (len > 0 && name[0] == '_')
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0)
			return 1;
	return 0;
}

int
validate_alias_name(const char *name, size_t len)
{
	static const char *const names[] = { "recipient", "subject",
	    "realname", "from_name" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0)
			return 1;
	return 0;
}

/*
 * The error code for a field the config does not name, or NULL when it
 * passes or is not an extra field at all.  "redirect" (like "_next") is
 * read by request.c against the redirect_allowlist and never shown.
 */
static const char *
validate_extra(const struct conf_form *cfm, const struct form_field *ff)
{
	size_t	 i;

	if (validate_reserved_name(ff->name, ff->name_len) ||
	    (cfm->honeypot != NULL && validate_is(ff, cfm->honeypot)))
		return NULL;
	for (i = 0; i < cfm->nfields; i++)
		if (validate_is(ff, cfm->fields[i].name))
			return NULL;
	switch (cfm->extra) {
	case CONF_EXTRA_REJECT:
		return validate_alias_name(ff->name, ff->name_len) ? NULL :
		    "unknown";
	case CONF_EXTRA_IGNORE:
		return NULL;
	case CONF_EXTRA_INCLUDE:
		break;
	}
	if (!text_field_name_ok(ff->name, ff->name_len) ||
	    text_body_ok(ff->value, ff->value_len) != TEXT_OK)
		return "invalid";
	return NULL;
}

size_t
validate_form(const struct conf_form *cfm, const struct form *f,
    struct validate_error *errs, size_t max)
{
	const char	*code;
	size_t		 i, n = 0;

	for (i = 0; i < cfm->nfields; i++) {
		if ((code = validate_one(&cfm->fields[i], f)) == NULL)
			continue;
		if (n < max)
			errs[n] = (struct validate_error){ cfm->fields[i].name,
			    code };
		n++;
	}
	for (i = 0; i < f->nfields; i++) {
		if ((code = validate_extra(cfm, &f->fields[i])) == NULL)
			continue;
		if (n < max)
			errs[n] = (struct validate_error){ f->fields[i].name,
			    code };
		n++;
	}
	return n;
}

int
validate_has_letter(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 c;
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		/* Checked UTF-8 always decodes; anything else is skipped. */
		if ((n = text_utf8_next(u + i, len - i, &c)) == 0) {
			n = 1;
			continue;
		}
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) ||
		    (c >= 0x370 && c <= 0x1fff) || (c >= 0x3040 && c <= 0x9fff) ||
		    (c >= 0xac00 && c <= 0xd7af))
			return 1;
	}
	return 0;
}

/* ASCII case-insensitive search of needle in s[0..len). */
static const char *
validate_find(const char *s, size_t len, const char *needle, size_t nlen)
{
	size_t	 i;

	for (i = 0; nlen > 0 && i + nlen <= len; i++)
		if (strncasecmp(s + i, needle, nlen) == 0)
			return s + i;
	return NULL;
}

static size_t
validate_count_links(const char *s, size_t len)
{
	static const char *const marks[] = { "http://", "https://", "www." };
	const char	*p, *end = s + len;
	size_t		 k, n = 0;

	for (k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
		for (p = s; (p = validate_find(p, (size_t)(end - p), marks[k],
		    strlen(marks[k]))) != NULL; p += strlen(marks[k]))
			n++;
	return n;
}

/* Is ff a field the form's config names? */
static int
validate_configured(const struct conf_form *cfm, const struct form_field *ff)
{
	size_t	 i;

	for (i = 0; i < cfm->nfields; i++)
		if (validate_is(ff, cfm->fields[i].name))
			return 1;
	return 0;
}

int
validate_extra_shown(const struct conf_form *cfm, const struct form_field *ff)
{
	return cfm->extra == CONF_EXTRA_INCLUDE &&
	    !validate_reserved_name(ff->name, ff->name_len) &&
	    !(cfm->honeypot != NULL && validate_is(ff, cfm->honeypot)) &&
	    !validate_configured(cfm, ff);
}

/* Does the value of ff reach the notification (validate.h)? */
static int
validate_reaches(const struct conf_form *cfm, const struct form_route *r,
    const struct form_field *ff)
{
	return validate_configured(cfm, ff) || validate_extra_shown(cfm, ff) ||
	    ff == r->subject || ff == r->reply || ff == r->reply_name;
}

/* The content rules on one value; *links counts across the post. */
static const char *
validate_judge(const struct conf_form *cfm, const char *s, size_t len,
    size_t *links)
{
	size_t	 k;

	if (cfm->max_links >= 0) {
		*links += validate_count_links(s, len);
		if (*links > (size_t)cfm->max_links)
			return "links";
	}
	for (k = 0; k < cfm->nblocked; k++)
		if (validate_find(s, len, cfm->blocked_phrases[k],
		    strlen(cfm->blocked_phrases[k])) != NULL)
			return "phrase";
	return NULL;
}

const char *
validate_content(const struct conf_form *cfm, const struct form *f,
    const struct form_route *r)
{
	const struct form_field	*ff;
	const char		*why;
	size_t			 i, links = 0;

	for (i = 0; i < f->nfields; i++) {
		ff = &f->fields[i];
		if (validate_reaches(cfm, r, ff) && (why = validate_judge(cfm,
		    ff->value, ff->value_len, &links)) != NULL)
			return why;
		/* An extra field's name is its label in the mail. */
		if (validate_extra_shown(cfm, ff) && (why = validate_judge(cfm,
		    ff->name, ff->name_len, &links)) != NULL)
			return why;
	}
	for (i = 0; i < f->nfiles; i++)
		if (f->files[i].filename != NULL && (why = validate_judge(cfm,
		    f->files[i].filename, strlen(f->files[i].filename),
		    &links)) != NULL)
			return why;
	return NULL;
}
