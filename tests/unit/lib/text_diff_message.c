/* mail/message.c's static utf8_char, for test_text_diff.c only. */
#include "mail/message.c"
#include "text_diff.h"

size_t
diff_message_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	return utf8_char(s, n, cp);
}

int
diff_message_base64(struct buf *b, const void *p, size_t len, int wrap)
{
	return message_base64(b, p, len, wrap);
}
