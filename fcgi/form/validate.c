/* validate: admin mailboxes, form rules; see validate.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/validate.h"
#include "lib/addr.h"
#include "lib/text.h"

/* ---- mailboxes written by the admin -------------------------------- */

/*
 * Octets that end or structure an unquoted display name: RFC 5322 section
 * 3.2.3 specials other than '.', which obs-phrase (section 4.1) allows and
 * names like "John Q. Public" use.
 */
static int
validate_phrase_special(char c)
{
	return strchr("()<>[]:;@\\,\"", c) != NULL;
}

static char *
validate_strndup(const char *s, size_t len)
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
validate_display(const char *s, size_t len)
{
	char	*d;
	size_t	 i, o = 0;

	if (len == 0 || s[0] != '"') {
		for (i = 0; i < len; i++)
			if (validate_phrase_special(s[i]))
				return NULL;
		if (text_header_ok(s, len) != TEXT_OK)
			return NULL;
		return validate_strndup(s, len);
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
validate_mailbox(const char *s, char **display, char **addr)
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
		*display = validate_strndup("", 0);
		*addr = validate_strndup(s, len);
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
		if ((*display = validate_display(s, dlen)) == NULL)
			return -1;
		*addr = validate_strndup(lt + 1, (size_t)(s + len - 2 - lt));
	}
	if (*display == NULL || *addr == NULL) {
		free(*display);
		free(*addr);
		*display = *addr = NULL;
		return -1;
	}
	return 0;
}

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

const char *
validate_content(const struct conf_form *cfm, const struct form *f)
{
	const struct form_field	*ff;
	size_t			 i, k, links = 0;

	for (i = 0; i < f->nfields; i++) {
		ff = &f->fields[i];
		if (ff->name[0] == '_')
			continue;
		if (cfm->max_links >= 0) {
			links += validate_count_links(ff->value, ff->value_len);
			if (links > (size_t)cfm->max_links)
				return "links";
		}
		for (k = 0; k < cfm->nblocked; k++)
			if (validate_find(ff->value, ff->value_len,
			    cfm->blocked_phrases[k],
			    strlen(cfm->blocked_phrases[k])) != NULL)
				return "phrase";
	}
	return NULL;
}
