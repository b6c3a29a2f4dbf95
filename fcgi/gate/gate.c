/*
 * gate: running a table of gates (gate.h).
 */
#include <string.h>

#include "gate/gate.h"

const struct gate *
gate_run(const struct gate *tab, size_t n, struct gate_in *in,
    struct gate_out *out)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		memset(out, 0, sizeof(*out));
		tab[i].fn(in, out);
		if (out->verdict != GATE_PASS)
			return &tab[i];
	}
	memset(out, 0, sizeof(*out));
	return NULL;
}

void
gate_refuse(struct gate_out *o, int status, const char *outcome,
    enum lang_msg message, long retry_after)
{
	o->verdict = GATE_REFUSE;
	o->status = status;
	o->outcome = outcome;
	o->message = message;
	o->retry_after = retry_after;
}
