/* form/form.c's static form_utf8, for test_text_diff.c only. */
#include "form/form.c"
#include "text_diff.h"

size_t
diff_form_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	return form_utf8(s, n, cp);
}
