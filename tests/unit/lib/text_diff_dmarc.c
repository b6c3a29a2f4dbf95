/* ops/dmarc_report.c's static utf8_check, for test_text_diff.c only. */
#include "ops/dmarc_report.c"
#include "text_diff.h"

/* 0 when s[0..n) passes the report parser's UTF-8 and XML Char check. */
int
diff_dmarc_utf8(const unsigned char *s, size_t n)
{
	struct dmarc_report_pos	 pos;
	struct px		 x;

	memset(&x, 0, sizeof(x));
	memset(&pos, 0, sizeof(pos));
	x.s = x.p = (const char *)s;
	x.end = x.s + n;
	x.pos = &pos;
	return utf8_check(&x);
}
