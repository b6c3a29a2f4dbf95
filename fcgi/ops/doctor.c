/*
 * doctor: check the DNS records and the SMTP login of a config; see
 * doctor.h.  This file: the output (doctor_say), what is read before
 * privileges are dropped, the order of the checks and the command line.
 * The checks: doctor_dkim.c, doctor_spf.c, doctor_policy.c (DMARC),
 * doctor_smtp.c (the relay), doctor_traps.c, and the next hop in
 * doctor_mx.c, doctor_sts.c and doctor_dane.c; doctor_dns.c is the
 * resolver they ask.
 *
 * DNS goes through libunbound, forwarding to --resolver when given, so
 * that what is checked is what that resolver answers.  libspf2 is given a
 * DNS layer backed by the same libunbound context (doctor_spf.c), so SPF
 * includes, a and mx mechanisms ask the same resolver too.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <spf2/spf.h>
#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/dmarc_report.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/file.h"
#include "ops/keys.h"
#include "lib/log.h"
#include "mail/enc_key.h"
#include "svc/privsep.h"

const char *
doctor_esc(char *dst, size_t dstsize, const char *s, size_t len)
{
	return log_escape(dst, dstsize, s, len);
}

void
doctor_say(struct doctor *d, enum doctor_st st, const char *fix,
    const char *fmt, ...)
{
	static const char *const word[] = { "ok", "warn", "skip", "FAIL" };
	va_list	 ap;

	if (st == D_FAIL)
		d->failed = 1;
	fprintf(d->out, "%-6s", word[st]);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	if (fix != NULL)
		fprintf(d->out, "%s%s", DOCTOR_DASH, fix);
	fputc('\n', d->out);
	fflush(d->out);
}

/*
 * "publish: NAME TXT "..."" from keys_record(), without its newline, into
 * fix (reset first).  Returns fix->data, or a generic hint when the value
 * cannot be written as a zone-file line.
 */
const char *
doctor_publish(struct buf *fix, const char *prefix, const char *name,
    const char *value)
{
	char	 err[256];
	size_t	 start;

	buf_reset(fix);
	if (buf_adds(fix, prefix) == -1)
		return "publish the record (out of memory)";
	start = fix->len;
	if (keys_record(fix, name, "TXT", value, err, sizeof(err)) == -1)
		return "publish the record `form2mail dns` prints";
	if (fix->len > start && fix->data[fix->len - 1] == '\n')
		fix->data[--fix->len] = '\0';
	return fix->data;
}

/* Reads what needs root: the expected DKIM records and the password. */
static int
doctor_secrets(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	struct buf		 v = BUF_INIT;
	char			 err[512];
	size_t			 i;

	if ((d->dkim_txt = calloc(cf->ndkim + 1, sizeof(char *))) == NULL ||
	    (d->dkim_err = calloc(cf->ndkim + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < cf->ndkim; i++) {
		buf_reset(&v);
		if (keys_dkim_txt(cf->dkim[i].key_file,
		    doctor_alg(&cf->dkim[i]), &v, err, sizeof(err)) == -1)
			d->dkim_err[i] = strdup(err);
		else if ((d->dkim_txt[i] = buf_steal(&v)) == NULL)
			return -1;
	}
	buf_free(&v);
	if (cf->smtp.username != NULL && cf->smtp.password_file != NULL)
		d->password = file_read_secret(cf->smtp.password_file,
		    d->pw_err, sizeof(d->pw_err));
	return 0;
}

int
doctor_run(const struct conf *cf, const char *resolver, FILE *out)
{
	struct doctor_opts	 o;

	memset(&o, 0, sizeof(o));
	o.resolver = resolver;
	return doctor_run_opts(cf, &o, out);
}

/*
 * The recipients' keys of encrypted forms, read as the master reads them
 * (before the privilege drop): refused, or expiring within
 * ENC_WARN_DAYS days.
 */
static void
doctor_encrypt(struct doctor *d)
{
	const struct conf_form	*f;
	struct enc_key		*k;
	char			 err[512];
	time_t			 now = time(NULL), exp;
	size_t			 i, j;

	for (i = 0; i < d->cf->nforms; i++) {
		f = &d->cf->forms[i];
		for (j = 0; j < f->nenc_keys; j++) {
			if (enc_key_load(f->enc_keys[j], f->enc_method, now, &k,
			    &exp, err, sizeof(err)) == -1) {
				doctor_say(d, D_FAIL, "give a valid public key "
				    "or certificate of the recipient",
				    "encrypt: form %s: key %s refused: %s",
				    f->id, f->enc_keys[j], err);
				continue;
			}
			if (exp != (time_t)-1 && exp - now < ENC_WARN_DAYS *
			    86400L)
				doctor_say(d, D_WARN, "ask the recipient for "
				    "a renewed key", "encrypt: form %s: key %s "
				    "(%s) expires in %ld days", f->id,
				    f->enc_keys[j], enc_key_name(k),
				    (long)((exp - now) / 86400));
			else
				doctor_say(d, D_OK, NULL, "encrypt: form %s: "
				    "key %s (%s)", f->id, f->enc_keys[j],
				    enc_key_name(k));
			enc_key_free(k);
		}
	}
}

/* The checks, in the order they report (doctor.h). */
static void (*const doctor_checks[])(struct doctor *) = {
	doctor_dkim,
	doctor_relay,
	doctor_spf,
	doctor_dmarc,
	doctor_smtp,
	doctor_traps,
	doctor_next_hop,
};

/*
 * What the checks need, in this order: the secrets (as root), the
 * resolvers, libcurl, then the privilege drop, then libspf2.  Returns 0,
 * or -1 after saying why on stderr; doctor_close() releases either way.
 */
static int
doctor_open(struct doctor *d)
{
	if (doctor_secrets(d) == -1) {
		fprintf(stderr, "form2mail: doctor: out of memory\n");
		return -1;
	}
	if (doctor_ub(d, d->opts->resolver) == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "form2mail: doctor: libcurl init failed\n");
		return -1;
	}
	d->curl = 1;
	/* DNS answers and the relay's replies are read without root. */
	if (privsep_drop(d->cf) == -1) {
		fprintf(stderr, "form2mail: doctor: cannot drop privileges\n");
		return -1;
	}
	if (doctor_spf_open(d) == -1) {
		fprintf(stderr, "form2mail: doctor: out of memory\n");
		return -1;
	}
	return 0;
}

static void
doctor_close(struct doctor *d)
{
	size_t	 i;

	doctor_spf_close(d);
	if (d->ub != NULL)
		ub_ctx_delete(d->ub);
	if (d->vub != NULL)
		ub_ctx_delete(d->vub);
	free(d->sts_ca);
	if (d->curl)
		curl_global_cleanup();
	if (d->password != NULL) {
		explicit_bzero(d->password, strlen(d->password));
		free(d->password);
	}
	for (i = 0; d->dkim_txt != NULL && i < d->cf->ndkim; i++) {
		free(d->dkim_txt[i]);
		free(d->dkim_err[i]);
	}
	free(d->dkim_txt);
	free(d->dkim_err);
}

int
doctor_run_opts(const struct conf *cf, const struct doctor_opts *opts,
    FILE *out)
{
	struct doctor	 d;
	size_t		 i;
	int		 rc = 2;

	memset(&d, 0, sizeof(d));
	d.cf = cf;
	d.opts = opts;
	d.out = out;
	d.fromdom = addr_domain(cf->from.addr);
	d.envdom = addr_domain(cf->envelope_from ? cf->envelope_from :
	    cf->from.addr);
	if (d.fromdom == NULL || d.envdom == NULL) {
		fprintf(stderr, "form2mail: doctor: sender.from has no "
		    "domain\n");
		return 2;
	}
	doctor_encrypt(&d);
	if (doctor_open(&d) == 0) {
		for (i = 0; i < sizeof(doctor_checks) /
		    sizeof(doctor_checks[0]); i++)
			doctor_checks[i](&d);
		rc = d.failed ? 1 : 0;
	}
	doctor_close(&d);
	return rc;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when not name. */
static const char *
doctor_optarg(int argc, char **argv, int *i, const char *name)
{
	size_t	 n = strlen(name);

	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	return NULL;
}

int
doctor_main(const char *path, int argc, char **argv)
{
	struct conf		*cf;
	struct doctor_opts	 o;
	const char		*v, *reports = NULL;
	char			*e;
	int			 i, rc;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < argc; i++) {
		if ((v = doctor_optarg(argc, argv, &i, "--resolver")) != NULL)
			o.resolver = v;
		else if ((v = doctor_optarg(argc, argv, &i,
		    "--dmarc-reports")) != NULL && *v != '\0')
			reports = v;
		else if ((v = doctor_optarg(argc, argv, &i,
		    "--trust-anchor")) != NULL && *v != '\0')
			o.trust_anchor = v;
		else if ((v = doctor_optarg(argc, argv, &i, "--sts-ca")) !=
		    NULL && *v != '\0')
			o.sts_ca = v;
		else if ((v = doctor_optarg(argc, argv, &i, "--sts-port")) !=
		    NULL) {
			errno = 0;
			o.sts_port = strtol(v, &e, 10);
			if (errno != 0 || e == v || *e != '\0' ||
			    !isdigit((unsigned char)*v) || o.sts_port < 1 ||
			    o.sts_port > 65535)
				goto usage;
		} else
			goto usage;
	}
	if (conf_load(path, &cf) != 0)
		return 2;
	/* Reports are read offline: no DNS, no relay (dmarc_report.h). */
	if (reports != NULL)
		rc = dmarc_report_dir(reports, addr_domain(cf->from.addr) ?
		    addr_domain(cf->from.addr) : "", stdout);
	else
		rc = doctor_run_opts(cf, &o, stdout);
	conf_free(cf);
	return rc;
usage:
	fprintf(stderr, "usage: form2mail doctor [-c FILE] [--resolver "
	    "IP[:PORT]] [--trust-anchor FILE|none]\n"
	    "       form2mail doctor [-c FILE] --dmarc-reports DIR\n"
	    "       (tests only: [--sts-ca FILE] [--sts-port PORT])\n");
	return 2;
}
