/* test_buf: the growable buffer. */
#include <stdint.h>

#include "lib/buf.h"
#include "t.h"

int
main(void)
{
	struct buf	 b = BUF_INIT;
	char		*s;
	int		 i;

	T_OK(buf_add(&b, "", 0) == 0, "empty add");
	T_STR(b.data, "", "empty add leaves a NUL-terminated buffer");
	for (i = 0; i < 1000; i++)
		T_OK(buf_addc(&b, 'a' + i % 26) == 0, "addc %d", i);
	T_INT(b.len, 1000, "length after 1000 addc");
	T_INT(b.data[1000], 0, "NUL after data");
	buf_reset(&b);
	T_OK(buf_printf(&b, "%d-%s", 42, "x") == 0, "printf");
	T_STR(b.data, "42-x", "printf output");
	T_OK(buf_adds(&b, "yz") == 0, "adds");
	T_STR(b.data, "42-xyz", "adds appends");
	T_OK(buf_reserve(&b, SIZE_MAX - 2) == -1, "overflowing reserve fails");
	T_STR(b.data, "42-xyz", "failed reserve leaves the buffer");
	buf_truncate(&b, 3);
	T_INT(b.len, 3, "truncate: length");
	T_STR(b.data, "42-", "truncate: the NUL moves");
	T_OK(buf_adds(&b, "xyz") == 0, "adds after truncate");
	T_STR(b.data, "42-xyz", "appends where it was cut");
	s = buf_steal(&b);
	T_STR(s, "42-xyz", "steal");
	T_OK(b.data == NULL && b.len == 0, "steal empties");
	free(s);
	s = buf_steal(&b);
	T_STR(s, "", "steal of an empty buffer");
	free(s);
	buf_truncate(&b, 0);
	T_OK(b.data == NULL && b.len == 0, "truncate of an empty buffer");
	buf_free(&b);
	buf_free(NULL);
	T_DONE();
}
