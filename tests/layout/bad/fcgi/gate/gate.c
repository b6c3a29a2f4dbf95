/* layout_selftest: a legal include (lower floor). */
#include "lib/buf.h"
