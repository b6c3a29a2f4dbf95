/* layout_selftest: a private header of another folder. */
#include "gate/captcha_int.h"
