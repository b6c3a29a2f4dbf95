/*
 * dmarc_report_sum.c: the doctor's view of a directory of aggregate
 * reports.  Policy_evaluated dkim/spf are the receiver's aligned results
 * (RFC 7489 A.2 / Appendix C "DMARCResultType"): "pass" there means the
 * identifier both passed and aligned with header_from.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops/dmarc_report.h"
#include "lib/file.h"

struct fail {
	char		 ip[64];
	char		 from[256];
	char		 dkim[16], spf[16];
	uint64_t	 count;
};

struct day {
	char		 org[256];
	int64_t		 day;		/* seconds / 86400 */
	uint64_t	 total, dkim, spf, dmarc;
	struct fail	 fail[DMARC_REPORT_FAILS_MAX];
	size_t		 nfail;
	uint64_t	 more;		/* failing messages not listed */
};

struct sum {
	const char	*domain;
	const char	*file;
	FILE		*out;
	struct day	*days;
	size_t		 ndays;
	char		(*seen)[512];
	size_t		 nseen;
	uint64_t	 skipped, skiprec, reports, dups;
};

static void
add(uint64_t *a, uint64_t v)
{
	*a = *a > UINT64_MAX - v ? UINT64_MAX : *a + v;
}

static struct day *
day_of(struct sum *s, const char *org, int64_t d)
{
	struct day	*n;
	size_t		 i;

	for (i = 0; i < s->ndays; i++)
		if (s->days[i].day == d && strcmp(s->days[i].org, org) == 0)
			return &s->days[i];
	if ((n = reallocarray(s->days, s->ndays + 1, sizeof(*n))) == NULL)
		return NULL;
	s->days = n;
	n = &s->days[s->ndays++];
	memset(n, 0, sizeof(*n));
	snprintf(n->org, sizeof(n->org), "%s", org);
	n->day = d;
	return n;
}

static int
domain_eq(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
one(const char *xml, size_t len, const char *member, void *arg)
{
	struct sum			*s = arg;
	struct dmarc_report		*r;
	struct dmarc_report_pos		 pos;
	struct day			*d;
	char				 key[512], (*ns)[512];
	size_t				 i, j;

	if (dmarc_report_parse_xml(xml, len, &r, &pos) != 0) {
		fprintf(s->out, "FAIL  dmarc: %s%s%s: %lu:%lu: %s\n", s->file,
		    member ? ":" : "", member ? member : "", pos.line, pos.col,
		    pos.why);
		return 1;
	}
	snprintf(key, sizeof(key), "%s\n%s", r->org_name, r->report_id);
	for (i = 0; i < s->nseen; i++)
		if (strcmp(s->seen[i], key) == 0) {
			s->dups++;
			fprintf(s->out, "skip  dmarc: %s%s%s: report %s of %s "
			    "already read\n", s->file, member ? ":" : "",
			    member ? member : "", r->report_id, r->org_name);
			dmarc_report_free(r);
			return 0;
		}
	if ((ns = reallocarray(s->seen, s->nseen + 1, sizeof(*ns))) == NULL)
		goto nomem;
	s->seen = ns;
	memcpy(s->seen[s->nseen++], key, sizeof(key));
	s->reports++;
	if ((d = day_of(s, r->org_name, r->begin / 86400)) == NULL)
		goto nomem;
	for (i = 0; i < r->nrec; i++) {
		struct dmarc_report_record *c = &r->rec[i];
		int dk = strcmp(c->dkim, "pass") == 0;
		int sp = strcmp(c->spf, "pass") == 0;

		if (!domain_eq(c->header_from, s->domain)) {
			add(&s->skipped, c->count);
			s->skiprec++;
			continue;
		}
		add(&d->total, c->count);
		if (dk)
			add(&d->dkim, c->count);
		if (sp)
			add(&d->spf, c->count);
		if (dk || sp) {
			add(&d->dmarc, c->count);
			continue;
		}
		for (j = 0; j < d->nfail; j++)
			if (strcmp(d->fail[j].ip, c->source_ip) == 0 &&
			    strcmp(d->fail[j].from, c->header_from) == 0)
				break;
		if (j == d->nfail) {
			if (d->nfail == DMARC_REPORT_FAILS_MAX) {
				add(&d->more, c->count);
				continue;
			}
			memset(&d->fail[j], 0, sizeof(d->fail[j]));
			memcpy(d->fail[j].ip, c->source_ip, sizeof(c->source_ip));
			memcpy(d->fail[j].from, c->header_from,
			    sizeof(c->header_from));
			snprintf(d->fail[j].dkim, sizeof(d->fail[j].dkim), "%s",
			    c->dkim_result[0] ? c->dkim_result : "none");
			snprintf(d->fail[j].spf, sizeof(d->fail[j].spf), "%s",
			    c->spf_result[0] ? c->spf_result : "none");
			d->nfail++;
		}
		add(&d->fail[j].count, c->count);
	}
	dmarc_report_free(r);
	return 0;
nomem:
	dmarc_report_free(r);
	fprintf(s->out, "FAIL  dmarc: %s: out of memory\n", s->file);
	return 1;
}

static int
day_cmp(const void *a, const void *b)
{
	const struct day	*x = a, *y = b;
	int			 c = strcasecmp(x->org, y->org);

	if (c != 0)
		return c;
	return x->day < y->day ? -1 : x->day > y->day;
}

static int
wanted(const char *n)
{
	size_t	l = strlen(n);

	if (n[0] == '.')
		return 0;
	return (l > 4 && strcasecmp(n + l - 4, ".xml") == 0) ||
	    (l > 3 && strcasecmp(n + l - 3, ".gz") == 0) ||
	    (l > 4 && strcasecmp(n + l - 4, ".zip") == 0);
}

/* Reads a regular file of at most DMARC_REPORT_SIZE_MAX octets. */
static int
slurp(int dfd, const char *name, unsigned char **out, size_t *len,
    const char **err)
{
	enum file_err	 fe;
	char		*b;

	*out = NULL;
	fe = file_slurp(dfd, name, DMARC_REPORT_SIZE_MAX, FILE_NOFOLLOW, &b,
	    len);
	switch (fe) {
	case FILE_OK:
		*out = (unsigned char *)b;
		return 0;
	case FILE_ENOTREG:
		*err = "not a regular file";
		break;
	case FILE_ETOOBIG:
		*err = "file over the size limit";
		break;
	case FILE_ENOMEM:
		*err = "out of memory";
		break;
	case FILE_ESHORT:
		*err = "file shrank while read";
		break;
	default:
		*err = strerror(errno);
		break;
	}
	return -1;
}

/* Reads the n report files of ents (in dfd) into s; *files counts those
 * looked at, *bad those that could not be read or parsed. */
static void
sum_files(int dfd, struct dirent **ents, int n, struct sum *s,
    size_t *files, size_t *bad)
{
	struct dmarc_report_pos	 pos;
	unsigned char		*data;
	const char		*err;
	size_t			 len, i;
	int			 rc;

	for (i = 0; i < (size_t)n; i++) {
		if (!wanted(ents[i]->d_name))
			continue;
		if ((*files)++ == DMARC_REPORT_FILES_MAX) {
			fprintf(s->out, "warn  dmarc: only the first %d files "
			    "read\n", DMARC_REPORT_FILES_MAX);
			break;
		}
		s->file = ents[i]->d_name;
		if (slurp(dfd, s->file, &data, &len, &err) == -1) {
			fprintf(s->out, "FAIL  dmarc: %s: %s\n", s->file, err);
			(*bad)++;
			continue;
		}
		rc = dmarc_report_unpack(data, len, one, s, &pos);
		if (rc == -1)
			fprintf(s->out, "FAIL  dmarc: %s: %s\n", s->file,
			    pos.why);
		if (rc != 0)
			(*bad)++;
		free(data);
	}
}

/* The lines of one reporter's day. */
static void
sum_day(FILE *out, const struct day *d, const char *domain)
{
	struct tm	 tm;
	time_t		 t = (time_t)(d->day * 86400);
	char		 ymd[16];
	size_t		 j;

	gmtime_r(&t, &tm);
	strftime(ymd, sizeof(ymd), "%Y-%m-%d", &tm);
	fprintf(out, "%s dmarc: %s, %s: %" PRIu64 " message%s from %s; "
	    "DKIM aligned and passed %" PRIu64 ", SPF aligned and passed "
	    "%" PRIu64 ", DMARC passed %" PRIu64 ", failed %" PRIu64 "\n",
	    d->total == d->dmarc ? "ok   " : "warn ", d->org, ymd,
	    d->total, d->total == 1 ? "" : "s", domain, d->dkim, d->spf,
	    d->dmarc, d->total - d->dmarc);
	for (j = 0; j < d->nfail; j++)
		fprintf(out, "warn  dmarc: %s, %s: %" PRIu64 " message%s "
		    "from %s with header_from %s failed DMARC (dkim %s, "
		    "spf %s)\n", d->org, ymd, d->fail[j].count,
		    d->fail[j].count == 1 ? "" : "s", d->fail[j].ip,
		    d->fail[j].from, d->fail[j].dkim, d->fail[j].spf);
	if (d->more)
		fprintf(out, "warn  dmarc: %s, %s: %" PRIu64 " more "
		    "failing messages from other sources\n", d->org, ymd,
		    d->more);
}

int
dmarc_report_dir(const char *dir, const char *domain, FILE *out)
{
	struct dirent		**ents = NULL;
	struct sum		 s;
	size_t			 i, files = 0, bad = 0;
	int			 n, dfd;

	memset(&s, 0, sizeof(s));
	s.domain = domain;
	s.out = out;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		fprintf(out, "FAIL  dmarc: cannot read %s: %s\n", dir,
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		return 2;
	}
	sum_files(dfd, ents, n, &s, &files, &bad);
	for (i = 0; i < (size_t)n; i++)
		free(ents[i]);
	free(ents);
	close(dfd);

	qsort(s.days, s.ndays, sizeof(*s.days), day_cmp);
	for (i = 0; i < s.ndays; i++)
		if (s.days[i].total != 0)
			sum_day(out, &s.days[i], domain);
	fprintf(out, "%s dmarc: %zu file%s, %" PRIu64 " report%s read, %zu "
	    "unreadable, %" PRIu64 " duplicate%s; %" PRIu64 " message%s in %"
	    PRIu64 " record%s skipped (header_from not %s)\n",
	    bad ? "FAIL " : "ok   ", files, files == 1 ? "" : "s", s.reports,
	    s.reports == 1 ? "" : "s", bad, s.dups, s.dups == 1 ? "" : "s",
	    s.skipped, s.skipped == 1 ? "" : "s", s.skiprec,
	    s.skiprec == 1 ? "" : "s", domain);
	free(s.days);
	free(s.seen);
	return bad ? 1 : 0;
}
