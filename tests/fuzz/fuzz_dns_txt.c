/*
 * fuzz_dns_txt: what `form2mail doctor` does with DNS answers, on
 * arbitrary octets taken as one TXT RDATA (and as a wire-format name).
 * Invariants (abort() on violation):
 *  - doctor_txt_join agrees with a reference joiner: same result, same
 *    octets, length = input - number of strings, NUL-terminated; a
 *    refusal leaves "" and 0;
 *  - spf_is_record matches "v=spf1" (any case) alone or before a space;
 *  - doctor_tag returns -1, 0 or 1, val is NUL-terminated inside its
 *    buffer and "" unless 1; a found value holds no ';', no control
 *    octet but folding whitespace, none at all for p=, and has no
 *    surrounding whitespace;
 *  - doctor_dkim_compare gives a known result, MATCH or TESTING only
 *    when p= equals the expected key;
 *  - doctor_dmarc_parse: 0 only for a record starting with v, with
 *    policies in range and 0 <= pct <= 100; -1 comes with a reason;
 *  - spf_terms_check accepts only printable terms without "all", v= or
 *    '%';
 *  - doctor_name_text gives LDH/underscore labels that encode back to
 *    exactly the input;
 *  - doctor_align is symmetric, in -1..2, and 2 for a name with itself;
 *  - log_escape (what doctor prints DNS text through) leaves only
 *    printable ASCII.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "ops/doctor.h"
#include "lib/log.h"
#include "lib/spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_EXPECTED	"v=DKIM1; k=rsa; p=QUJDRA=="

static int
fz_ref_join(const uint8_t *d, size_t len, char *out, size_t outsize,
    size_t *outlen)
{
	size_t	 i = 0, o = 0, n;

	if (len == 0)
		return -1;
	while (i < len) {
		n = d[i++];
		if (i + n > len || o + n + 1 > outsize)
			return -1;
		memcpy(out + o, d + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

static size_t
fz_strings(const uint8_t *d, size_t len)
{
	size_t	 i = 0, k = 0;

	while (i < len) {
		i += 1 + d[i];
		k++;
	}
	return k;
}

static void
fz_join(const uint8_t *d, size_t size, char *out, size_t outsize,
    size_t *outlen, int *ok)
{
	char	*ref;
	size_t	 rlen = 0, n = 12345;
	int	 rc, rrc;

	if ((ref = malloc(outsize)) == NULL)
		abort();
	out[0] = 'Z';
	rc = doctor_txt_join(d, size, out, outsize, &n);
	rrc = fz_ref_join(d, size, ref, outsize, &rlen);
	if (rc != rrc)
		abort();
	if (rc == -1) {
		if (out[0] != '\0' || n != 0)
			abort();
	} else if (n != rlen || memcmp(out, ref, n + 1) != 0 ||
	    n != size - fz_strings(d, size))
		abort();
	free(ref);
	*outlen = n;
	*ok = rc == 0;
}

static void
fz_tag(const char *s, size_t len, const char *tag)
{
	char	 val[64];
	size_t	 n, i;
	int	 rc;

	memset(val, 'Z', sizeof(val));
	rc = doctor_tag(s, len, tag, val, sizeof(val));
	if (rc < -1 || rc > 1 || (n = strnlen(val, sizeof(val))) ==
	    sizeof(val))
		abort();
	if (rc != 1) {
		if (n != 0)
			abort();
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)val[i];

		if (c == ';' || c == 0x7f || (c < 0x20 && c != '\t' &&
		    c != '\r' && c != '\n'))
			abort();
		if (strcmp(tag, "p") == 0 && (c == ' ' || c == '\t' ||
		    c == '\r' || c == '\n'))
			abort();
	}
	if (n > 0 && (isspace((unsigned char)val[0]) ||
	    isspace((unsigned char)val[n - 1])))
		abort();
}

static void
fz_records(const char *s, size_t len)
{
	struct doctor_dmarc	 dm;
	enum doctor_dkim	 k;
	const char		*why = NULL;
	char			 p[64];
	int			 spf;

	spf = len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 &&
	    (len == 6 || s[6] == ' ');
	if (spf_is_record(s, len) != spf)
		abort();
	fz_tag(s, len, "p");
	fz_tag(s, len, "v");
	fz_tag(s, len, "t");
	fz_tag(s, len, "pct");

	k = doctor_dkim_compare(s, len, FZ_EXPECTED);
	if ((int)k < DOCTOR_DKIM_MATCH || k > DOCTOR_DKIM_INVALID)
		abort();
	if ((k == DOCTOR_DKIM_MATCH || k == DOCTOR_DKIM_TESTING) &&
	    (doctor_tag(s, len, "p", p, sizeof(p)) != 1 ||
	    strcmp(p, "QUJDRA==") != 0))
		abort();

	if (doctor_dmarc_parse(s, len, &dm, &why) == 0) {
		if (strspn(s, " \t\r\n") >= len || s[strspn(s, " \t\r\n")] !=
		    'v' || dm.p > DOCTOR_P_REJECT || dm.sp > DOCTOR_P_REJECT ||
		    dm.pct < 0 || dm.pct > 100)
			abort();
	} else if (why == NULL || *why == '\0')
		abort();
}

static void
fz_terms(const char *s)
{
	char		 err[256];
	const char	*t;
	size_t		 n;

	if (spf_terms_check(s, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (strchr(s, '%') != NULL || strchr(s, '"') != NULL ||
	    strchr(s, ';') != NULL)
		abort();
	for (t = s; *t != '\0'; t++)
		if (*t < 0x20 || *t > 0x7e)
			abort();
	for (t = s; *t != '\0'; t += n) {
		const char	*q;

		t += strspn(t, " ");
		if ((n = strcspn(t, " ")) == 0)
			continue;
		q = strchr("+-~?", *t) != NULL ? t + 1 : t;
		if ((size_t)(q - t) + 3 == n && strncasecmp(q, "all", 3) == 0)
			abort();
		if (strncasecmp(t, "v=", 2) == 0)
			abort();
	}
}

static void
fz_name(const uint8_t *d, size_t size)
{
	char		 name[300];
	uint8_t		 back[300];
	size_t		 i, o = 0, start;

	memset(name, 'Z', sizeof(name));
	if (doctor_name_text(d, size, name, sizeof(name)) == -1) {
		if (name[0] != '\0')
			abort();
		return;
	}
	if (strlen(name) > 253 || name[0] == '.' ||
	    name[strlen(name) - 1] == '.' || strstr(name, "..") != NULL)
		abort();
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.')
			abort();
	/* Encode back: must be the input. */
	for (start = 0, i = 0; ; i++) {
		if (name[i] == '.' || name[i] == '\0') {
			if (i - start > 63 || o + 1 + (i - start) > sizeof(back))
				abort();
			back[o++] = (uint8_t)(i - start);
			memcpy(back + o, name + start, i - start);
			o += i - start;
			start = i + 1;
			if (name[i] == '\0')
				break;
		}
	}
	back[o++] = 0;
	if (o != size || memcmp(back, d, size) != 0)
		abort();
}

static void
fz_align(const char *s)
{
	char	*a, *b, *sp;
	int	 r;

	if ((a = strdup(s)) == NULL)
		abort();
	if ((sp = strchr(a, ' ')) != NULL) {
		*sp = '\0';
		b = sp + 1;
	} else
		b = a;
	r = doctor_align(a, b);
	if (r < -1 || r > 2 || r != doctor_align(b, a))
		abort();
	if (a[0] != '\0' && strcmp(a, ".") != 0 && doctor_align(a, a) != 2)
		abort();
	free(a);
}

static void
fz_escape(const char *s, size_t len)
{
	char	 out[256];
	size_t	 i;

	log_escape(out, sizeof(out), s, len);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 out[DOCTOR_TXT_MAX + 1];
	size_t	 n = 0;
	int	 ok;

	if (size > 3 * DOCTOR_TXT_MAX)
		return 0;
	fz_join(data, size, out, sizeof(out), &n, &ok);
	if (ok) {
		fz_records(out, n);
		fz_terms(out);
		fz_align(out);
		fz_escape(out, n);
	} else
		fz_escape((const char *)data, size);
	/* Small buffers refuse, never overrun. */
	fz_join(data, size, out, 8, &n, &ok);
	fz_name(data, size);
	return 0;
}
