/*
 * fuzz_dmarc_report: the aggregate report reader (dmarc_report.h) on
 * untrusted files: gzip, zip or XML, each document parsed, every kept
 * string checked visible-safe and NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dmarc_report.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
safe(const char *s, size_t size)
{
	size_t	n = strnlen(s, size);

	if (n == size)
		abort();
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

static int
each(const char *xml, size_t len, const char *member, void *arg)
{
	struct dmarc_report	*r;
	struct dmarc_report_pos	 pos;
	size_t			 i;

	(void)member;
	(void)arg;
	if (dmarc_report_parse_xml(xml, len, &r, &pos) != 0) {
		if (r != NULL || pos.why[0] == '\0' || pos.line == 0)
			abort();
		return 0;
	}
	safe(r->org_name, sizeof(r->org_name));
	safe(r->report_id, sizeof(r->report_id));
	if (r->end < r->begin || r->nrec > DMARC_REPORT_RECORDS_MAX)
		abort();
	for (i = 0; i < r->nrec; i++) {
		safe(r->rec[i].source_ip, sizeof(r->rec[i].source_ip));
		safe(r->rec[i].header_from, sizeof(r->rec[i].header_from));
		safe(r->rec[i].dkim_selector, sizeof(r->rec[i].dkim_selector));
		if (r->rec[i].count > DMARC_REPORT_COUNT_MAX)
			abort();
	}
	dmarc_report_free(r);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_report_pos	pos;

	if (dmarc_report_unpack(data, size, each, NULL, &pos) != 0 &&
	    pos.why[0] == '\0')
		abort();
	return 0;
}
