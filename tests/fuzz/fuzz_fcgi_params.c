/*
 * fuzz_fcgi_params: the FastCGI side of a request, end to end in one
 * process.  The input becomes a FastCGI byte stream (BEGIN_REQUEST,
 * PARAMS with 1- and 4-octet lengths, STDIN, and some noise records)
 * that a peer thread writes into a socketpair; the real libfcgi reads it
 * (FCGX_Accept_r on the connected end) and request_handle() answers it
 * with a small config whose spool lives in a temporary directory.
 *
 * Input: three framing octets, then parameters "NAME=VALUE" each ended by
 * NUL, an empty one (a second NUL) and the body.  CONTENT_LENGTH=@ stands
 * for the body's length.  Framing octet 0:
 *   bits 0-1  PARAMS records: as large as they go, one per pair, chunks of
 *             (octet 1 & 63) + 1, chunks of 7
 *   bit 2     4-octet lengths for every name and value
 *   bit 3     FCGI_KEEP_CONN
 *   bit 4     padding of ((octet 1 >> 3) & 7) + 1 octets on the PARAMS
 *             and STDIN records that carry content
 *   bit 5     STDIN in chunks of (octet 1 & 63) + 1
 *   bit 6     noise first: a record of another request, FCGI_GET_VALUES
 *   bit 7     no empty STDIN record (the stream just ends)
 * Octet 2: request id ((octet & 15) + 1); 0xfc gives id 0, 0xfd an
 * unknown role, 0xfe FILTER, 0xff AUTHORIZER.
 *
 * Invariants (abort() when broken):
 *   - libfcgi hands over exactly the parameters sent, in order;
 *   - the peer gets well-formed records: ours (STDOUT, empty STDERR, one
 *     END_REQUEST last, REQUEST_COMPLETE), management answers, or
 *     CANT_MPX_CONN for another id; nothing hangs;
 *   - a request libfcgi accepts gets one CGI answer: "Status: NNN" first,
 *     then only header fields the service writes, each printable ASCII
 *     (no CR, LF or other control from a parameter), none twice, and
 *     Content-Length equal to the body;
 *   - the status follows from the parameters as docs/DESIGN.md says (an
 *     independent model here): 414 for a path over REQUEST_MAX_URI, 404
 *     for an unknown form (the id is the last path segment, so a '/' is
 *     never part of it), 405 with the right Allow, 204 for OPTIONS, 403
 *     without HTTPS or from an origin not allowed, 415, 400 for a bad
 *     Content-Length, 413 over max_body, and otherwise only 200, 303,
 *     400, 413 or 422 (never 5xx);
 *   - Location only on 303 and only to a configured URL or under the
 *     redirect allowlist; Access-Control-Allow-Origin only as written in
 *     config and only for the Origin sent; JSON answers parse;
 *   - nothing is spooled unless the answer says accepted; a spooled
 *     message has the configured sender and recipients only, and reads
 *     back with the strict reader with no header field the service does
 *     not write, Reply-To one plain address, X-Originating-IP exactly the
 *     client address.
 * request_handle logs to stderr: run libFuzzer with -close_fd_mask=2.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "lib/log.h"
#include "http/request.h"
#include "spool/spool.h"
#include "svc/worker.h"
#include "strict_mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	65536
#define MAX_PARAMS	64
#define PARAM_MAX	8192	/* request.c ignores longer parameters */
#define MAX_BODY	65536	/* limits.max_body below */
#define PEER_TIMEOUT_MS	20000
#define REC_MAX		65535

/* FastCGI 1.0 record types and roles. */
enum {
	T_BEGIN = 1, T_ABORT, T_END, T_PARAMS, T_STDIN, T_STDOUT, T_STDERR,
	T_DATA, T_GET_VALUES, T_GET_VALUES_RESULT, T_UNKNOWN
};
#define ROLE_RESPONDER		1
#define ROLE_AUTHORIZER		2
#define ROLE_FILTER		3
#define FCGI_KEEP_CONN		1

/* ---- the config and its model ------------------------------------- */

static const char conf_fmt[] =
    "{\n"
    "  \"listen\": \"unix:%s/sock\",\n"
    "  \"spool_dir\": \"%s/spool\",\n"
    "  \"state_dir\": \"%s/state\",\n"
    "  \"templates_dir\": \"%s/tpl\",\n"
    "  \"require_https\": true,\n"
    "  \"duplicate_window\": 0,\n"
    "  \"limits\": { \"max_body\": 65536, \"max_fields\": 20,\n"
    "              \"max_value\": 8192 },\n"
    "  \"metrics\": { \"allow\": [\"127.0.0.1\"] },\n"
    "  \"sender\": { \"from\": \"Example Forms <forms@example.test>\",\n"
    "              \"envelope_from\": \"bounces@example.test\",\n"
    "              \"hostname\": \"www.example.test\" },\n"
    "  \"smtp\": { \"url\": \"smtps://localhost:465\" },\n"
    "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
    "              \"key_file\": \"%s/dkim.key\" } ],\n"
    "  \"forms\": {\n"
    "    \"contact\": {\n"
    "      \"recipients\": [\"Sales <sales@example.test>\",\n"
    "                     \"info@example.test\"],\n"
    "      \"cc\": [\"archive@example.test\"],\n"
    "      \"bcc\": [\"audit@example.test\"],\n"
    "      \"subject\": \"Contact: {{name}}\",\n"
    "      \"fields\": {\n"
    "        \"name\": { \"required\": true, \"max_length\": 200 },\n"
    "        \"email\": { \"required\": true, \"type\": \"email\",\n"
    "                   \"reply_to\": true },\n"
    "        \"message\": { \"required\": true, \"multiline\": true,\n"
    "                     \"max_length\": 2000 } },\n"
    "      \"honeypot\": \"_gotcha\",\n"
    "      \"allowed_origins\": [\"https://example.test\",\n"
    "                          \"https://www.example.test:8443\"],\n"
    "      \"success_url\": \"https://example.test/thanks.html\",\n"
    "      \"error_url\": \"https://example.test/contact.html\",\n"
    "      \"redirect_allowlist\": [\"https://example.test/done/\"],\n"
    "      \"extra_fields\": \"include\",\n"
    "      \"max_links\": 3,\n"
    "      \"blocked_phrases\": [\"cheap pills\"]\n"
    "    },\n"
    "    \"upload\": {\n"
    "      \"recipients\": [\"uploads@example.test\"],\n"
    "      \"subject\": \"Upload from {{name}}\",\n"
    "      \"allow_subject_field\": true,\n"
    "      \"allowed_origins\": [\"https://example.test\"],\n"
    "      \"allow_missing_origin\": true,\n"
    "      \"fields\": { \"name\": {}, \"email\": { \"type\": \"email\" } },\n"
    "      \"uploads\": { \"allowed_types\": [\"application/pdf\",\n"
    "                   \"image/png\", \"text/plain\"],\n"
    "                   \"max_file_size\": 4096, \"max_files\": 2,\n"
    "                   \"max_total\": 6000 }\n"
    "    },\n"
    "    \"routed\": {\n"
    "      \"route\": { \"field\": \"department\", \"choices\": {\n"
    "        \"sales\": [\"Sales <sales@example.test>\"],\n"
    "        \"support\": [\"support@example.test\",\n"
    "                    \"Help Desk <help@example.test>\"] } },\n"
    "      \"allow_missing_origin\": true,\n"
    "      \"template\": \"custom\",\n"
    "      \"extra_fields\": \"reject\",\n"
    "      \"fields\": { \"department\": { \"required\": true },\n"
    "                  \"email\": { \"type\": \"email\" },\n"
    "                  \"message\": { \"multiline\": true } }\n"
    "    },\n"
    "    \"alt\": {\n"
    "      \"recipients\": [\"alt@example.test\"],\n"
    "      \"allow_missing_origin\": true,\n"
    "      \"challenge\": { \"type\": \"altcha\", \"max_number\": 1000 },\n"
    "      \"fields\": { \"msg\": {} }\n"
    "    }\n"
    "  }\n"
    "}\n";

struct model_form {
	const char	*id;
	const char	*origins[2];
	size_t		 norigins;
	int		 allow_missing_origin;
	int		 uploads;
	int		 altcha;
	const char	*success_url;
	const char	*error_url;
	const char	*redirect;	/* allowlist prefix or NULL */
	const char	*to[4];		/* every address To may name */
	const char	*rcpt[6];	/* every envelope address */
	const char	*cc;
};

static const struct model_form forms[] = {
	{ "contact", { "https://example.test", "https://www.example.test:8443" },
	  2, 0, 0, 0, "https://example.test/thanks.html",
	  "https://example.test/contact.html", "https://example.test/done/",
	  { "sales@example.test", "info@example.test" },
	  { "sales@example.test", "info@example.test", "archive@example.test",
	    "audit@example.test" }, "archive@example.test" },
	{ "upload", { "https://example.test" }, 1, 1, 1, 0, NULL, NULL, NULL,
	  { "uploads@example.test" }, { "uploads@example.test" }, NULL },
	{ "routed", { NULL }, 0, 1, 0, 0, NULL, NULL, NULL,
	  { "sales@example.test", "support@example.test", "help@example.test" },
	  { "sales@example.test", "support@example.test", "help@example.test" },
	  NULL },
	{ "alt", { NULL }, 0, 1, 0, 1, NULL, NULL, NULL, { "alt@example.test" },
	  { "alt@example.test" }, NULL }
};
#define NFORMS	(sizeof(forms) / sizeof(forms[0]))

static const struct {
	const char	*name, *text;
} templates[] = {
	{ "default.txt", "Form {{_form}}\n{{#fields}}{{label}}: {{value}}\n"
	  "{{/fields}}--\n{{_id}} {{_date}} {{_ip}}\n" },
	{ "default.html", "<html><body><table>{{#fields}}<tr><th>{{label}}"
	  "</th><td>{{value}}</td></tr>\n{{/fields}}</table></body></html>\n" },
	{ "custom.txt", "Routed {{department}}\n{{message}}\n{{email}}\n" },
	{ "thanks.en.html", "<p>Thank you. {{_id}}</p>\n" },
	{ "thanks.fr.html", "<p>Merci. {{_id}}</p>\n" },
	{ "error.en.html", "<ul>{{#errors}}<li>{{label}} {{code}}{{#email}}"
	  " (email){{/email}}</li>{{/errors}}</ul>\n" },
	{ "error.fr.html", "<ul>{{#errors}}<li>{{name}}: {{code}}</li>"
	  "{{/errors}}</ul>\n" }
};

static char			 dir[64];
static struct conf		*cf;
static struct request_ctx	 ctx;
static struct worker_shared	 sh = {	/* no table, a fixed ALTCHA key */
	.altcha_key = "fuzz-altcha-key-fuzz-altcha-key", .have_key = 1 };

static void	fail(const char *, const char *, size_t)
		    __attribute__((noreturn));
static void	cleanup(void);

/* In the sanitizer runtime: its report goes where libFuzzer's output
 * goes, also under -close_fd_mask=2 (NULL without a sanitizer). */
void	__sanitizer_report_error_summary(const char *) __attribute__((weak));

static void
fail(const char *why, const char *s, size_t len)
{
	char	 msg[512];

	snprintf(msg, sizeof(msg), "fuzz_fcgi_params: %s", why);
	if (__sanitizer_report_error_summary != NULL)
		__sanitizer_report_error_summary(msg);
	fprintf(stderr, "fuzz_fcgi_params: %s\n", why);
	if (s != NULL)
		fwrite(s, 1, len, stderr);
	fputc('\n', stderr);
	cleanup();
	abort();
}

static void
xadd(struct buf *b, const void *p, size_t len)
{
	if (buf_add(b, p, len) == -1)
		fail("out of memory", NULL, 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		fail("cannot write a setup file", path, strlen(path));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A temporary service: templates, config, spool; tmpfs when there is
 * one, so that the spool's fsync costs little. */
static void
setup(void)
{
	char	 path[256], err[256];
	char	*text;
	size_t	 i, n;

	snprintf(dir, sizeof(dir), "/dev/shm/f2m-fuzz-fcgi.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(dir, sizeof(dir), "/tmp/f2m-fuzz-fcgi.XXXXXX");
		if (mkdtemp(dir) == NULL)
			fail("mkdtemp", NULL, 0);
	}
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/tpl", dir);
	if (mkdir(path, 0700) == -1)
		fail("mkdir", path, strlen(path));
	snprintf(path, sizeof(path), "%s/state", dir);
	if (mkdir(path, 0700) == -1)
		fail("mkdir", path, strlen(path));
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		snprintf(path, sizeof(path), "%s/tpl/%s", dir, templates[i].name);
		write_file(path, templates[i].text);
	}
	/* conf only checks that the key file is there and private. */
	snprintf(path, sizeof(path), "%s/dkim.key", dir);
	write_file(path, "not read\n");
	if (chmod(path, 0600) == -1)
		fail("chmod", path, strlen(path));
	n = sizeof(conf_fmt) + 5 * strlen(dir);
	if ((text = malloc(n)) == NULL)
		fail("out of memory", NULL, 0);
	snprintf(text, n, conf_fmt, dir, dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	write_file(path, text);
	free(text);
	if (conf_load(path, &cf) != 0)
		fail("the fuzz config does not load", path, strlen(path));
	if (spool_init(cf->spool_dir, -1, -1) == -1)
		fail("spool_init", cf->spool_dir, strlen(cf->spool_dir));
	if (worker_env_open(&ctx, cf, &sh, err, sizeof(err)) == -1)
		fail(err, NULL, 0);
	log_init("fuzz_fcgi_params", 0);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0)
		fail("FCGX_Init", NULL, 0);
}

/* ---- the input ----------------------------------------------------- */

struct param {
	const char	*name, *value;
	size_t		 nlen, vlen;
};

struct req_in {
	uint8_t		 frame, arg, idrole;
	struct param	 p[MAX_PARAMS];
	size_t		 np;
	const char	*body;
	size_t		 blen;
	char		 clen[24];
};

static void
input_parse(const uint8_t *data, size_t size, struct req_in *r)
{
	const char	*s = (const char *)data + 3, *end = (const char *)data +
	    size, *nul, *eq;

	memset(r, 0, sizeof(*r));
	r->frame = data[0];
	r->arg = data[1];
	r->idrole = data[2];
	r->body = end;
	while (s < end) {
		if ((nul = memchr(s, '\0', (size_t)(end - s))) == NULL)
			nul = end;
		if (nul == s) {
			r->body = s + 1;
			break;
		}
		if (r->np < MAX_PARAMS) {
			struct param *p = &r->p[r->np++];

			eq = memchr(s, '=', (size_t)(nul - s));
			p->name = s;
			p->nlen = (size_t)((eq ? eq : nul) - s);
			p->value = eq ? eq + 1 : nul;
			p->vlen = eq ? (size_t)(nul - eq - 1) : 0;
		}
		s = nul + 1;
	}
	if (r->body > end)
		r->body = end;
	r->blen = (size_t)(end - r->body);
	snprintf(r->clen, sizeof(r->clen), "%zu", r->blen);
	for (size_t i = 0; i < r->np; i++)
		if (r->p[i].nlen == 14 && memcmp(r->p[i].name,
		    "CONTENT_LENGTH", 14) == 0 && r->p[i].vlen == 1 &&
		    r->p[i].value[0] == '@') {
			r->p[i].value = r->clen;
			r->p[i].vlen = strlen(r->clen);
		}
}

/* ---- the stream ---------------------------------------------------- */

static void
record(struct buf *s, int type, int id, const void *p, size_t len, size_t pad)
{
	unsigned char	 h[8];
	static const unsigned char zero[256];

	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	xadd(s, h, 8);
	if (len > 0)
		xadd(s, p, len);
	if (pad > 0)
		xadd(s, zero, pad);
}

/* Content in records of at most chunk octets, then the empty record
 * (never padded) unless noend. */
static void
stream(struct buf *s, int type, int id, const char *p, size_t len,
    size_t chunk, size_t pad, int noend)
{
	size_t	 off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		record(s, type, id, p + off, n, pad);
	}
	if (!noend)
		record(s, type, id, NULL, 0, 0);
}

static void
nv_len(struct buf *s, size_t n, int four)
{
	unsigned char	 b[4];

	if (n < 128 && !four) {
		b[0] = (unsigned char)n;
		xadd(s, b, 1);
		return;
	}
	b[0] = (unsigned char)(0x80 | (n >> 24));
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
	xadd(s, b, 4);
}

static void
nv_pair(struct buf *s, const char *n, size_t nl, const char *v, size_t vl,
    int four)
{
	nv_len(s, nl, four);
	nv_len(s, vl, four);
	xadd(s, n, nl);
	xadd(s, v, vl);
}

/* Returns the request id the stream uses, and the role in *role. */
static int
build_stream(const struct req_in *r, struct buf *s, int *role)
{
	struct buf	 pp = BUF_INIT, one = BUF_INIT;
	unsigned char	 begin[8];
	size_t		 pad, chunk, i;
	int		 id, four = (r->frame & 4) != 0;

	pad = (r->frame & 0x10) ? (size_t)((r->arg >> 3) & 7) + 1 : 0;
	id = (r->idrole & 15) + 1;
	*role = ROLE_RESPONDER;
	switch (r->idrole) {
	case 0xfc:
		id = 0;
		break;
	case 0xfd:
		*role = 9;
		break;
	case 0xfe:
		*role = ROLE_FILTER;
		break;
	case 0xff:
		*role = ROLE_AUTHORIZER;
		break;
	default:
		break;
	}
	memset(begin, 0, sizeof(begin));
	begin[0] = (unsigned char)(*role >> 8);
	begin[1] = (unsigned char)*role;
	begin[2] = (r->frame & 8) ? FCGI_KEEP_CONN : 0;
	/*
	 * libfcgi 2.4.2 skips no padding after BEGIN_REQUEST or an empty
	 * stream record (it reads the padding as the next header, losing the
	 * parameters or the body), and leaks a little per unknown management
	 * record: none of that is sent here.  nginx pads neither.
	 */
	record(s, T_BEGIN, id, begin, sizeof(begin), 0);
	if (r->frame & 0x40) {
		record(s, T_STDIN, id + 1, "xyz", 3, 0);
		/* At most three names: libfcgi answers into 64 octets. */
		nv_pair(&one, "FCGI_MAX_CONNS", 14, "", 0, 0);
		nv_pair(&one, "FCGI_MPXS_CONNS", 15, "", 0, 0);
		nv_pair(&one, "OTHER", 5, "x", 1, 0);
		record(s, T_GET_VALUES, 0, one.data, one.len, 0);
	}
	for (i = 0; i < r->np; i++)
		nv_pair(&pp, r->p[i].name, r->p[i].nlen, r->p[i].value,
		    r->p[i].vlen, four);
	switch (r->frame & 3) {
	case 0:
		stream(s, T_PARAMS, id, pp.data, pp.len, REC_MAX, pad, 0);
		break;
	case 1:
		for (i = 0; i < r->np; i++) {
			buf_reset(&one);
			nv_pair(&one, r->p[i].name, r->p[i].nlen, r->p[i].value,
			    r->p[i].vlen, four);
			stream(s, T_PARAMS, id, one.data, one.len, REC_MAX, pad, 1);
		}
		record(s, T_PARAMS, id, NULL, 0, 0);
		break;
	case 2:
		chunk = (size_t)(r->arg & 63) + 1;
		stream(s, T_PARAMS, id, pp.data, pp.len, chunk, pad, 0);
		break;
	default:
		stream(s, T_PARAMS, id, pp.data, pp.len, 7, pad, 0);
		break;
	}
	chunk = (r->frame & 0x20) ? (size_t)(r->arg & 63) + 1 : REC_MAX;
	stream(s, T_STDIN, id, r->body, r->blen, chunk, pad,
	    (r->frame & 0x80) != 0);
	buf_free(&pp);
	buf_free(&one);
	return id;
}

/* ---- the web server's side ----------------------------------------- */

struct peer {
	int			 fd;
	const char		*out;
	size_t			 outlen;
	struct buf		 in;
	int			 stalled;
};

/* Writes the stream, then half-closes, reading the answer all along (so
 * neither side can block on a full socket) until the service closes. */
static void *
peer_main(void *arg)
{
	struct peer	*pe = arg;
	struct pollfd	 pfd;
	char		 tmp[16384];
	size_t		 off = 0;
	ssize_t		 n;
	int		 wdone = 0;

	for (;;) {
		if (!wdone && off == pe->outlen) {
			shutdown(pe->fd, SHUT_WR);
			wdone = 1;
		}
		pfd.fd = pe->fd;
		pfd.events = POLLIN | (wdone ? 0 : POLLOUT);
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, PEER_TIMEOUT_MS)) == 0) {
			pe->stalled = 1;
			break;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!wdone && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(pe->fd, pe->out + off, pe->outlen - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				wdone = 1;	/* the service closed early */
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(pe->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			if (n > 0)
				xadd(&pe->in, tmp, (size_t)n);
			else if (n == 0)
				break;
			else if (errno != EAGAIN && errno != EINTR)
				break;
		}
	}
	close(pe->fd);
	return NULL;
}

/*
 * The service's records: ours (STDOUT into out, STDERR empty, END_REQUEST
 * with REQUEST_COMPLETE last), management answers (id 0), CANT_MPX_CONN
 * for another id.  Returns 1 when our END_REQUEST came.
 */
static int
records_read(const struct buf *in, int id, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in->data;
	size_t			 pos = 0, clen, plen;
	int			 type, rid, ended = 0, eos = 0;

	while (pos < in->len) {
		if (in->len - pos < 8)
			fail("a partial record header", in->data, in->len);
		if (p[pos] != 1)
			fail("record version not 1", in->data, in->len);
		type = p[pos + 1];
		rid = p[pos + 2] << 8 | p[pos + 3];
		clen = (size_t)(p[pos + 4] << 8 | p[pos + 5]);
		plen = p[pos + 6];
		if (in->len - pos - 8 < clen + plen)
			fail("a partial record", in->data, in->len);
		if (ended)
			fail("a record after END_REQUEST", in->data, in->len);
		if (rid == 0) {
			if (type != T_GET_VALUES_RESULT && type != T_UNKNOWN)
				fail("a management record of the wrong type",
				    in->data, in->len);
		} else if (rid != id) {
			if (type != T_END || clen != 8 || p[pos + 8 + 4] != 1)
				fail("a record for another request", in->data,
				    in->len);
		} else if (type == T_STDOUT) {
			if (eos)
				fail("STDOUT after its end", in->data, in->len);
			if (clen == 0)
				eos = 1;
			xadd(out, p + pos + 8, clen);
		} else if (type == T_STDERR) {
			if (clen != 0)
				fail("something on STDERR", in->data, in->len);
		} else if (type == T_END) {
			if (clen != 8 || p[pos + 8 + 4] != 0)
				fail("END_REQUEST not REQUEST_COMPLETE", in->data,
				    in->len);
			if (!eos && out->len > 0)
				fail("END_REQUEST before STDOUT ended", in->data,
				    in->len);
			ended = 1;
		} else
			fail("a record of the wrong type", in->data, in->len);
		pos += 8 + clen + plen;
	}
	return ended;
}

/* libfcgi's environment: FCGI_ROLE, then every pair sent, in order. */
static void
check_env(const struct req_in *r, char **envp)
{
	size_t	 i;

	if (envp[0] == NULL || strncmp(envp[0], "FCGI_ROLE=", 10) != 0)
		fail("libfcgi: no FCGI_ROLE first", NULL, 0);
	for (i = 0; i < r->np; i++) {
		const char *e = envp[i + 1];

		if (e == NULL || strlen(e) != r->p[i].nlen + 1 + r->p[i].vlen ||
		    memcmp(e, r->p[i].name, r->p[i].nlen) != 0 ||
		    e[r->p[i].nlen] != '=' || memcmp(e + r->p[i].nlen + 1,
		    r->p[i].value, r->p[i].vlen) != 0)
			fail("libfcgi: a parameter not as sent", r->p[i].name,
			    r->p[i].nlen);
	}
	if (envp[r->np + 1] != NULL)
		fail("libfcgi: a parameter not sent", envp[r->np + 1],
		    strlen(envp[r->np + 1]));
}

/* ---- the model ----------------------------------------------------- */

/* FCGX_GetParam: the first pair of that name; request.c ignores values
 * over PARAM_MAX octets.  Names and values hold no NUL here. */
static const char *
env(const struct req_in *r, const char *name, char *tmp, size_t tmpsize)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < r->np; i++)
		if (r->p[i].nlen == n && memcmp(r->p[i].name, name, n) == 0) {
			if (r->p[i].vlen > PARAM_MAX || r->p[i].vlen >= tmpsize)
				return NULL;
			memcpy(tmp, r->p[i].value, r->p[i].vlen);
			tmp[r->p[i].vlen] = '\0';
			return tmp;
		}
	return NULL;
}

/* The origin (scheme://host[:port]) of an absolute URL: its length. */
static size_t
origin_len(const char *u)
{
	const char	*p = strstr(u, "://");

	if (p == NULL || p == u)
		return 0;
	return (size_t)(p + 3 - u) + strcspn(p + 3, "/?#");
}

/* docs/DESIGN.md "Origin": an absent or empty Origin falls back to the
 * Referer; "null" is an opaque origin, never an allowed one (issue 16,
 * F9: it was taken as absent). */
static int
origin_ok(const struct model_form *f, const char *o, const char *ref)
{
	size_t	 i, n;

	if (f->norigins == 0)
		return 1;
	if (o == NULL || *o == '\0') {
		if (ref == NULL || *ref == '\0')
			return f->allow_missing_origin;
		o = ref;
	}
	if ((n = origin_len(o)) == 0)
		return 0;
	for (i = 0; i < f->norigins; i++)
		if (strlen(f->origins[i]) == n &&
		    strncasecmp(f->origins[i], o, n) == 0)
			return 1;
	return 0;
}

struct outcome {
	int		 status;	/* exact, or 0: one of POST_OK */
	const char	*allow;		/* Allow value, NULL: none */
	const struct model_form *form;
	int		 json;
	int		 cors_ok;	/* may carry Access-Control-Allow-Origin */
	const char	*origin;	/* the Origin sent */
};

static const char *const body_types[] = {
	"application/x-www-form-urlencoded", "multipart/form-data",
	"application/json"
};

static void
model(const struct req_in *r, struct outcome *o)
{
	static char	 t_uri[PARAM_MAX + 1], t_m[PARAM_MAX + 1];
	static char	 t_a[PARAM_MAX + 1], t_o[PARAM_MAX + 1];
	static char	 t_r[PARAM_MAX + 1], t_h[PARAM_MAX + 1];
	static char	 t_s[PARAM_MAX + 1], t_ct[PARAM_MAX + 1];
	static char	 t_cl[PARAM_MAX + 1], t_acrm[PARAM_MAX + 1];
	const char	*uri, *m, *a, *h, *sch, *ct, *cl, *id, *slash;
	size_t		 end, idlen, i, n;
	unsigned long long len;
	int		 challenge = 0, https;

	memset(o, 0, sizeof(*o));
	a = env(r, "HTTP_ACCEPT", t_a, sizeof(t_a));
	o->json = a != NULL && strcasestr(a, "application/json") != NULL;
	o->origin = env(r, "HTTP_ORIGIN", t_o, sizeof(t_o));
	uri = env(r, "DOCUMENT_URI", t_uri, sizeof(t_uri));
	if (uri == NULL || *uri == '\0')
		uri = env(r, "REQUEST_URI", t_uri, sizeof(t_uri));
	if (uri == NULL)
		uri = "";
	if ((m = env(r, "REQUEST_METHOD", t_m, sizeof(t_m))) == NULL)
		m = "";
	end = strcspn(uri, "?#");
	if (end > REQUEST_MAX_URI) {
		o->status = 414;
		return;
	}
	if (end > 10 && memcmp(uri + end - 10, "/challenge", 10) == 0) {
		challenge = 1;
		end -= 10;
	}
	slash = memrchr(uri, '/', end);
	id = slash ? slash + 1 : uri;
	idlen = (size_t)(uri + end - id);
	if (memchr(id, '/', idlen) != NULL)
		fail("model: a form id with '/'", id, idlen);
	for (i = 0; i < NFORMS; i++)
		if (strlen(forms[i].id) == idlen &&
		    memcmp(forms[i].id, id, idlen) == 0)
			o->form = &forms[i];
	if (o->form == NULL) {
		o->status = 404;	/* _metrics too: no counters here */
		return;
	}
	if (challenge) {
		if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
			o->status = o->form->altcha ? 200 : 404;
		else {
			o->status = 405;
			o->allow = "GET";
		}
		return;
	}
	if (strcmp(m, "OPTIONS") == 0) {
		o->status = 204;
		o->allow = "POST, OPTIONS";
		o->cors_ok = env(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD", t_acrm,
		    sizeof(t_acrm)) != NULL;
		return;
	}
	if (strcmp(m, "POST") != 0) {
		o->status = 405;
		o->allow = "POST, OPTIONS";
		return;
	}
	o->cors_ok = 1;
	h = env(r, "HTTPS", t_h, sizeof(t_h));
	sch = env(r, "REQUEST_SCHEME", t_s, sizeof(t_s));
	https = (h != NULL && strcasecmp(h, "on") == 0) ||
	    (sch != NULL && strcasecmp(sch, "https") == 0);
	if (!https || !origin_ok(o->form, o->origin, env(r, "HTTP_REFERER",
	    t_r, sizeof(t_r)))) {
		o->status = 403;
		return;
	}
	/* The three body types, on every form (multipart too: FormData). */
	ct = env(r, "CONTENT_TYPE", t_ct, sizeof(t_ct));
	for (i = 0, n = 0; ct != NULL && i < 3; i++) {
		n = strlen(body_types[i]);
		if (strncasecmp(ct, body_types[i], n) == 0 && (ct[n] == '\0' ||
		    ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t'))
			break;
	}
	if (ct == NULL || i == 3) {
		o->status = 415;
		return;
	}
	cl = env(r, "CONTENT_LENGTH", t_cl, sizeof(t_cl));
	len = 0;
	if (cl != NULL && *cl != '\0') {
		for (i = 0; cl[i] != '\0'; i++) {
			if (cl[i] < '0' || cl[i] > '9') {
				o->status = 400;
				return;
			}
			len = len > ULLONG_MAX / 10 ? ULLONG_MAX :
			    len * 10 + (unsigned long long)(cl[i] - '0');
		}
	}
	if (len > MAX_BODY) {
		o->status = 413;
		return;
	}
	o->status = 0;
}

/* ---- the answer ---------------------------------------------------- */

static const char *const known_fields[] = {
	"Status", "Cache-Control", "X-Content-Type-Options", "Content-Type",
	"Content-Length", "Location", "Allow", "Retry-After",
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
	"Content-Language"
};
#define NKNOWN	(sizeof(known_fields) / sizeof(known_fields[0]))

struct answer {
	int		 status;
	const char	*value[NKNOWN];
	const char	*body;
	size_t		 blen;
};

static const char *
field(const struct answer *a, const char *name)
{
	size_t	 i;

	for (i = 0; i < NKNOWN; i++)
		if (strcmp(known_fields[i], name) == 0)
			return a->value[i];
	return NULL;
}

/* Splits the CGI answer (NUL-terminated in out) into a; fields point
 * into out, which is modified. */
static void
answer_parse(struct buf *out, struct answer *a)
{
	char	*p = out->data, *hend, *line, *e, *c;
	size_t	 i;

	memset(a, 0, sizeof(*a));
	if (p == NULL || (hend = strstr(p, "\r\n\r\n")) == NULL)
		fail("an answer without a header end", out->data, out->len);
	a->body = hend + 4;
	a->blen = out->len - (size_t)(a->body - p);
	hend[2] = '\0';
	for (line = p; *line != '\0'; line = e + 2) {
		if ((e = strstr(line, "\r\n")) == NULL)
			fail("a header line without CRLF", out->data, out->len);
		*e = '\0';
		if ((c = strstr(line, ": ")) == NULL)
			fail("a header line without \": \"", out->data, out->len);
		*c = '\0';
		for (i = 0; i < NKNOWN; i++)
			if (strcmp(known_fields[i], line) == 0)
				break;
		if (i == NKNOWN)
			fail("a header field the service never writes", line,
			    strlen(line));
		if (a->value[i] != NULL)
			fail("a header field twice", line, strlen(line));
		a->value[i] = c + 2;
		for (c += 2; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				fail("a control or 8-bit octet in a header",
				    a->value[i], strlen(a->value[i]));
		if (line == p && i != 0)
			fail("Status not first", line, strlen(line));
	}
	if (a->value[0] == NULL || strlen(a->value[0]) < 5 ||
	    a->value[0][3] != ' ' || sscanf(a->value[0], "%3d", &a->status) != 1 ||
	    a->status < 100 || a->status > 599)
		fail("a bad Status", out->data, out->len);
}

/* A URL the service may redirect to: a configured one or one under the
 * allowlist, plain printable ASCII without blanks. */
static int
location_ok(const struct model_form *f, const char *u)
{
	size_t	 i, pl;

	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f ||
		    strchr("\"<>\\^`{|}", u[i]) != NULL)
			return 0;
	if ((f->success_url && strcmp(u, f->success_url) == 0) ||
	    (f->error_url && strcmp(u, f->error_url) == 0))
		return 1;
	if (f->redirect == NULL)
		return 0;
	pl = strlen(f->redirect);
	return strncmp(u, f->redirect, pl) == 0;
}

static int
accepted(const struct outcome *o, const struct answer *a)
{
	const char	*loc = field(a, "Location");

	if (a->status == 303)
		return !(o->form->error_url && strcmp(loc, o->form->error_url) ==
		    0);
	return a->status == 200;
}

static void
check_answer(const struct req_in *r, const struct outcome *o,
    const struct answer *a, const struct buf *out)
{
	const char	*ct = field(a, "Content-Type"), *v;
	char		 num[32];
	json_t		*j, *ok;
	size_t		 i;

	(void)r;
	if (o->status != 0 ? a->status != o->status :
	    (a->status != 200 && a->status != 303 && a->status != 400 &&
	    a->status != 413 && a->status != 422))
		fail("the status does not follow from the request", out->data,
		    out->len);
	snprintf(num, sizeof(num), "%zu", a->blen);
	if ((v = field(a, "Content-Length")) == NULL || strcmp(v, num) != 0)
		fail("Content-Length is not the body's", out->data, out->len);
	if ((v = field(a, "Cache-Control")) == NULL || strcmp(v, "no-store") ||
	    (v = field(a, "X-Content-Type-Options")) == NULL ||
	    strcmp(v, "nosniff"))
		fail("Cache-Control or X-Content-Type-Options", out->data,
		    out->len);
	v = field(a, "Allow");
	if ((o->allow == NULL) != (v == NULL) || (v && strcmp(v, o->allow)))
		fail("Allow", out->data, out->len);
	if (a->status != 204 && ct == NULL)
		fail("no Content-Type", out->data, out->len);
	if (a->status == 204 && a->blen != 0)
		fail("a body with 204", out->data, out->len);
	if (field(a, "Retry-After") != NULL)
		fail("Retry-After without a throttle", out->data, out->len);
	v = field(a, "Location");
	if ((a->status == 303) != (v != NULL) || (v != NULL &&
	    !location_ok(o->form, v)))
		fail("Location", out->data, out->len);
	for (i = 0; o->form != NULL && o->cors_ok && o->origin != NULL &&
	    i < o->form->norigins; i++)
		if (strcasecmp(o->form->origins[i], o->origin) == 0 &&
		    field(a, "Access-Control-Allow-Origin") == NULL)
			fail("no Access-Control-Allow-Origin for an allowed "
			    "origin", out->data, out->len);
	if ((v = field(a, "Access-Control-Allow-Origin")) != NULL) {
		if (o->form == NULL)
			fail("Access-Control-Allow-Origin without a form",
			    out->data, out->len);
		for (i = 0; i < o->form->norigins; i++)
			if (strcmp(v, o->form->origins[i]) == 0)
				break;
		if (!o->cors_ok || i == o->form->norigins || o->origin == NULL ||
		    strcasecmp(v, o->origin) != 0)
			fail("Access-Control-Allow-Origin", out->data, out->len);
		if ((v = field(a, "Vary")) == NULL || strcmp(v, "Origin") != 0)
			fail("no Vary: Origin", out->data, out->len);
	} else if (field(a, "Vary") != NULL ||
	    field(a, "Access-Control-Allow-Methods") != NULL ||
	    field(a, "Access-Control-Allow-Headers") != NULL ||
	    field(a, "Access-Control-Max-Age") != NULL)
		fail("CORS fields without an allowed origin", out->data,
		    out->len);
	if ((v = field(a, "Content-Language")) != NULL) {
		const char *h;

		for (i = 0; i < LANG_COUNT; i++)
			if (strcmp(v, lang_tag((enum lang)i)) == 0)
				break;
		if (i == LANG_COUNT)
			fail("Content-Language", out->data, out->len);
		/* The page says the language its header says. */
		if ((h = memmem(a->body, a->blen, "<html lang=\"", 12)) !=
		    NULL && ((size_t)(a->body + a->blen - h) < 15 ||
		    memcmp(h + 12, v, 2) != 0 || h[14] != '"'))
			fail("<html lang> against Content-Language",
			    out->data, out->len);
	} else if (ct != NULL && strncmp(ct, "text/html", 9) == 0)
		fail("a page without Content-Language", out->data, out->len);
	if (ct != NULL && strcmp(ct, "application/json") == 0) {
		if ((j = json_loadb(a->body, a->blen, 0, NULL)) == NULL ||
		    !json_is_object(j))
			fail("JSON that does not parse", out->data, out->len);
		ok = json_object_get(j, "ok");
		if (o->form == NULL || o->status != 200 || !o->form->altcha) {
			if (!json_is_boolean(ok) || json_is_true(ok) !=
			    (a->status == 200))
				fail("JSON \"ok\" against the status", out->data,
				    out->len);
			if (json_is_true(ok) && (!json_is_string(json_object_get(
			    j, "id")) || !spool_id_valid(json_string_value(
			    json_object_get(j, "id")))))
				fail("JSON without a good id", out->data,
				    out->len);
		}
		json_decref(j);
	} else if (o->json && a->status != 204)
		fail("no JSON though Accept asked for it", out->data, out->len);
	/* "javascript:" as escaped text (a field name in the error list) is
	 * inert; it counts where an attribute value begins. */
	if (ct != NULL && strncmp(ct, "text/html", 9) == 0 && a->blen > 0 &&
	    (memmem(a->body, a->blen, "<script", 7) != NULL ||
	    memmem(a->body, a->blen, "\"javascript:", 12) != NULL ||
	    memmem(a->body, a->blen, "'javascript:", 12) != NULL ||
	    memmem(a->body, a->blen, "=javascript:", 12) != NULL))
		fail("markup from the request in a page", out->data, out->len);
}

/* ---- the spool ----------------------------------------------------- */

static int
listed(const char *const *v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
text_bad(const char *s, size_t len)
{
	size_t	 i;

	if (!smime_utf8(s, len))
		return 1;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 1;
	return 0;
}

static void
check_spooled(const struct model_form *f, const char *id, const char *ip,
    const char *file, size_t len)
{
	static const char *const allowed[] = {
		"From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID",
		"MIME-Version", "Auto-Submitted", "X-Originating-IP",
		"Content-Type", "Content-Transfer-Encoding"
	};
	struct smime_mailbox	 mb[8];
	struct smime_part	*p;
	struct buf		 d = BUF_INIT;
	const char		*msg, *line, *e, *v;
	char			 want[PARAM_MAX + 64], from[256];
	size_t			 i, n, nmb, nrcpt = 0;

	if ((msg = memmem(file, len, "\n\n", 2)) == NULL)
		fail("a spool file without an envelope end", file, len);
	msg += 2;
	snprintf(want, sizeof(want), "form2mail-spool 1\nform %s\n", f->id);
	if (strncmp(file, want, strlen(want)) != 0)
		fail("spool envelope head", file, len);
	for (line = file; line < msg - 1; line = e + 1) {
		e = memchr(line, '\n', (size_t)(msg - line));
		if (strncmp(line, "rcpt ", 5) == 0) {
			snprintf(want, sizeof(want), "%.*s", (int)(e - line - 5),
			    line + 5);
			if (!listed(f->rcpt, 6, want))
				fail("an envelope recipient config did not list",
				    file, len);
			nrcpt++;
		} else if (strncmp(line, "from ", 5) == 0 && strncmp(line,
		    "from bounces@example.test\n", 26) != 0)
			fail("envelope sender", file, len);
	}
	if (nrcpt == 0)
		fail("no envelope recipient", file, len);
	if (smime_parse(msg, len - (size_t)(msg - file), &p) == -1)
		fail(smime_error(), msg, len - (size_t)(msg - file));
	for (i = 0; i < p->nhdr; i++) {
		for (n = 0; n < sizeof(allowed) / sizeof(allowed[0]); n++)
			if (strcasecmp(p->hdr[i].name, allowed[n]) == 0)
				break;
		if (n == sizeof(allowed) / sizeof(allowed[0]))
			fail("a header field the builder never writes", msg,
			    len - (size_t)(msg - file));
		(void)smime_header(p, allowed[n], &n);
		if (n != 1)
			fail("a header field twice", msg, len - (size_t)(msg -
			    file));
	}
	/* From is the configured sender, or (sender.same_domain_from
	 * "recipient") the first To when that shares the sender's domain and
	 * the visitor is in Reply-To: never an address a visitor chose. */
	if (smime_mailboxes(smime_header(p, "From", NULL) ?
	    smime_header(p, "From", NULL) : "", mb, 8, &nmb) == -1 || nmb != 1 ||
	    strcmp(mb[0].display, "Example Forms") != 0)
		fail("From", msg, len - (size_t)(msg - file));
	snprintf(from, sizeof(from), "%s", mb[0].addr);
	smime_mailboxes_free(mb, nmb);
	if ((v = smime_header(p, "To", NULL)) == NULL ||
	    smime_mailboxes(v, mb, 8, &nmb) == -1 || nmb == 0)
		fail("To", msg, len - (size_t)(msg - file));
	if (strcmp(from, "forms@example.test") != 0 &&
	    (strcmp(from, mb[0].addr) != 0 || (e = strrchr(from, '@')) == NULL ||
	    strcmp(e, "@example.test") != 0 ||
	    smime_header(p, "Reply-To", NULL) == NULL))
		fail("From neither the sender nor the first To on its domain",
		    msg, len - (size_t)(msg - file));
	for (i = 0; i < nmb; i++)
		if (!listed(f->to, 4, mb[i].addr))
			fail("a To address config did not list", msg,
			    len - (size_t)(msg - file));
	smime_mailboxes_free(mb, nmb);
	v = smime_header(p, "Cc", NULL);
	if ((v == NULL) != (f->cc == NULL) || (v != NULL && (smime_mailboxes(v,
	    mb, 8, &nmb) == -1 || nmb != 1 || strcmp(mb[0].addr, f->cc) != 0)))
		fail("Cc", msg, len - (size_t)(msg - file));
	if (v != NULL)
		smime_mailboxes_free(mb, nmb);
	if ((v = smime_header(p, "Reply-To", NULL)) != NULL) {
		if (smime_mailboxes(v, mb, 8, &nmb) == -1 || nmb != 1 ||
		    mb[0].display[0] != '\0')
			fail("Reply-To not one plain address", msg, len -
			    (size_t)(msg - file));
		smime_mailboxes_free(mb, nmb);
	}
	if ((v = smime_header(p, "Subject", NULL)) == NULL ||
	    smime_unstructured(v, &d) == -1 || text_bad(d.data, d.len))
		fail("Subject", msg, len - (size_t)(msg - file));
	snprintf(want, sizeof(want), "<%s@example.test>", id);
	if ((v = smime_header(p, "Message-ID", NULL)) == NULL || strcmp(v, want))
		fail("Message-ID", msg, len - (size_t)(msg - file));
	v = smime_header(p, "X-Originating-IP", NULL);
	snprintf(want, sizeof(want), "[%s]", ip ? ip : "");
	if ((ip == NULL) != (v == NULL) || (v != NULL && strcmp(v, want) != 0))
		fail("X-Originating-IP", msg, len - (size_t)(msg - file));
	buf_free(&d);
	smime_free(p);
}

/* Checks and removes what the request left in the spool; returns how
 * many messages were queued. */
static size_t
spool_sweep(const struct outcome *o, const char *ip)
{
	static const char *const sub[] = { "queue", "tmp", "held", "failed" };
	struct buf	 f = BUF_INIT;
	struct dirent	*de;
	DIR		*dp;
	FILE		*fp;
	char		 path[512], chunk[8192];
	size_t		 k, n, count = 0;

	for (k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), "%s/%s", cf->spool_dir, sub[k]);
		if ((dp = opendir(path)) == NULL)
			fail("spool directory gone", path, strlen(path));
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", cf->spool_dir,
			    sub[k], de->d_name);
			if (k != 0)
				fail("a file outside queue/", path, strlen(path));
			if (!spool_id_valid(de->d_name))
				fail("a spool file not named by an id", path,
				    strlen(path));
			buf_reset(&f);
			if ((fp = fopen(path, "rb")) == NULL)
				fail("cannot read a spool file", path,
				    strlen(path));
			while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
				xadd(&f, chunk, n);
			fclose(fp);
			xadd(&f, "", 0);
			if (o->form == NULL)
				fail("spooled for no form", f.data, f.len);
			check_spooled(o->form, de->d_name, ip, f.data, f.len);
			if (unlink(path) == -1)
				fail("cannot remove a spool file", path,
				    strlen(path));
			count++;
		}
		closedir(dp);
	}
	buf_free(&f);
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 init;
	static struct req_in	 r;
	static char		 t_ip[PARAM_MAX + 1];
	struct buf		 s = BUF_INIT, out = BUF_INIT;
	struct peer		 pe;
	struct outcome		 o;
	struct answer		 a;
	FCGX_Request		 req;
	pthread_t		 th;
	sigset_t		 alrm;
	unsigned char		 sa[16];
	const char		*ip;
	int			 sv[2], id, role, rc, ended;
	size_t			 queued;

	if (!init) {
		setup();
		init = 1;
	}
	if (size < 3 || size > FUZZ_MAX)
		return 0;
	input_parse(data, size, &r);
	id = build_stream(&r, &s, &role);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fail("socketpair", NULL, 0);
	memset(&pe, 0, sizeof(pe));
	pe.fd = sv[1];
	pe.out = s.data;
	pe.outlen = s.len;
	if (pthread_create(&th, NULL, peer_main, &pe) != 0)
		fail("pthread_create", NULL, 0);
	/*
	 * libFuzzer's SIGALRM (its -timeout watch) has no SA_RESTART, and
	 * libfcgi gives up on a read that EINTR cut: keep it off this thread
	 * while libfcgi reads.  The peer thread takes it meanwhile.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);

	/* An invalid listening socket: a retry after a protocol error fails
	 * at once instead of waiting for another connection. */
	if (FCGX_InitRequest(&req, -1, 0) != 0)
		fail("FCGX_InitRequest", NULL, 0);
	req.ipcFd = sv[0];
	req.keepConnection = 1;	/* else Accept_r closes it first */
	rc = FCGX_Accept_r(&req);
	if (rc == 0) {
		check_env(&r, req.envp);
		request_handle(&ctx, &req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	pthread_join(th, NULL);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	if (pe.stalled)
		fail("the conversation stalled", s.data, s.len);

	ended = records_read(&pe.in, id, &out);
	if (rc != 0) {
		if (out.len > 0 || ended)
			fail("an answer to a request libfcgi refused", out.data,
			    out.len);
		if (role == ROLE_RESPONDER && id != 0 && (r.frame & 0x40) == 0)
			fail("libfcgi refused a well-formed request", s.data,
			    s.len);
		goto out;
	}
	if (!ended || out.len == 0)
		fail("no answer", pe.in.data, pe.in.len);
	xadd(&out, "", 0);
	model(&r, &o);
	answer_parse(&out, &a);
	check_answer(&r, &o, &a, &out);
	ip = env(&r, "REMOTE_ADDR", t_ip, sizeof(t_ip));
	if (ip != NULL && inet_pton(AF_INET, ip, sa) != 1 &&
	    inet_pton(AF_INET6, ip, sa) != 1)
		ip = NULL;
	queued = spool_sweep(&o, ip);
	if (queued > 1 || (queued == 1 && !accepted(&o, &a)))
		fail("spooled without an accepted answer", out.data, out.len);
out:
	buf_free(&s);
	buf_free(&out);
	buf_free(&pe.in);
	return 0;
}
