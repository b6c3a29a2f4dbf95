/* layout_selftest: lib/ including a higher floor. */
#include "svc/server.h"
