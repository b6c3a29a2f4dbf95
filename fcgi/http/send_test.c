/*
 * send_test: `form2mail send-test FORM`: sample values that pass the
 * form's rules, then the path of a post without HTTP.
 */
#include "http/http_int.h"
#include "lib/addr.h"

/*
 * A sample value for a configured field that passes its rules: an address
 * for email fields, a letter-bearing text cut to max_length otherwise.
 */
static int
req_sample(const struct conf *cf, const struct conf_field *fd, struct buf *b)
{
	const char	*d;
	size_t		 n;

	if (fd->email) {
		d = addr_domain(cf->envelope_from);
		return buf_printf(b, "send-test@%s", d ? d : "example.com");
	}
	if (buf_adds(b, fd->multiline ? "This is a test submission queued by "
	    "form2mail send-test.\nIf it reached you, the form's mail path "
	    "works." : "form2mail send-test") == -1)
		return -1;
	/* ASCII sample: octets are code points. */
	n = fd->max_length;
	if (n > 0 && b->len > n) {
		b->len = n;
		b->data[n] = '\0';
	}
	return 0;
}

/* Appends name=value, both percent-encoded, to an urlencoded body. */
static int
req_pair_add(struct buf *b, const char *name, const char *value, size_t len)
{
	char	*n, *v;
	int	 rc = -1;

	n = curl_easy_escape(NULL, name, 0);
	v = curl_easy_escape(NULL, value, (int)len);
	if (n != NULL && v != NULL)
		rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", n, v);
	curl_free(n);
	curl_free(v);
	return rc;
}

int
request_send_test(const struct request_ctx *ctx, const char *form_id,
    char *id, size_t idsize)
{
	struct req		 q;
	struct gate_out		 go;
	struct form		*f = NULL;
	struct validate_error	 errs[VALIDATE_MAX_ERRORS];
	struct buf		 body = BUF_INIT, v = BUF_INIT;
	const struct conf_field	*fd;
	size_t			 i, nerr;
	int			 rc = -1;

	memset(&q, 0, sizeof(q));
	q.ctx = ctx;
	q.cf = ctx->cf;
	q.outcome = "send_test";
	if ((q.form = conf_form_find(q.cf, form_id, strlen(form_id))) == NULL) {
		log_err("send-test: no form \"%s\" in the config", form_id);
		return -1;
	}
	for (i = 0; i < q.form->nfields; i++) {
		fd = &q.form->fields[i];
		v.len = 0;
		if (req_sample(q.cf, fd, &v) == -1 || req_pair_add(&body,
		    fd->name, v.data ? v.data : "", v.len) == -1)
			goto out;
	}
	if (q.form->route_field != NULL && q.form->nchoices > 0 &&
	    req_pair_add(&body, q.form->route_field, q.form->choices[0].value,
	    strlen(q.form->choices[0].value)) == -1)
		goto out;
	if (form_parse_urlencoded(body.data ? body.data : "", body.len,
	    q.cf->max_fields, &f) != FORM_OK)
		goto out;
	nerr = validate_form(q.form, f, errs, VALIDATE_MAX_ERRORS);
	if ((nerr = form_resolve(q.form, f, &q.route, errs,
	    nerr < VALIDATE_MAX_ERRORS ? nerr : VALIDATE_MAX_ERRORS)) > 0) {
		for (i = 0; i < nerr && i < VALIDATE_MAX_ERRORS; i++)
			log_err("send-test: field %s: %s (the form's rules "
			    "refuse the sample value)", errs[i].field,
			    errs[i].code);
		goto out;
	}
	if (spool_new_id(q.id) == -1)
		goto out;
	snprintf(q.ip, sizeof(q.ip), "127.0.0.1");
	if (req_submit(&q, f, &go) != 0 || go.verdict != GATE_PASS) {
		log_err("send-test: the sample could not be queued");
		goto out;
	}
	snprintf(id, idsize, "%s", q.id);
	rc = 0;
out:
	form_free(f);
	buf_free(&body);
	buf_free(&v);
	return rc;
}
