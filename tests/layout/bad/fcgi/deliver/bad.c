/* layout_selftest: an include without a folder, and the deliverer
 * reaching the visitor-parsing code. */
#include "buf.h"
#include "http/request.h"
