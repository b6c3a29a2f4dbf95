/*
 * form/validate.c's static validate_utf8_next and validate_next_cp, for
 * test_text_diff.c only.
 */
#include "form/validate.c"
#include "text_diff.h"

size_t
diff_validate_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	return validate_utf8_next(s, n, cp);
}

unsigned long
diff_validate_next_cp(const unsigned char *s, size_t n, size_t *i)
{
	return validate_next_cp(s, n, i);
}
