/*
 * lib/text.h's text_utf8_next (form/validate.c's validate_utf8_next, moved
 * there whole), the reference of test_text_diff.c.
 */
#include "lib/text.h"
#include "text_diff.h"

size_t
diff_validate_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	return text_utf8_next(s, n, cp);
}
