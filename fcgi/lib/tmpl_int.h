/*
 * lib/ private: the compiled template, shared by tmpl_compile.c (which
 * builds it) and tmpl.c (which renders, inspects and frees it).  Only
 * those two include it; the contract is tmpl.h.
 */
#ifndef F2M_TMPL_INT_H
#define F2M_TMPL_INT_H

#include <stddef.h>

#include "lib/tmpl.h"

enum tmpl_ntype {
	TN_TEXT,
	TN_VAR,
	TN_SECTION,
	TN_INVERTED
};

/*
 * The compiled template is a flat array in source order.  A section's
 * children follow it up to (not including) node index end, so a section
 * that does not render is skipped in one step.
 */
struct tmpl_node {
	enum tmpl_ntype	 type;
	size_t		 off;	/* TN_TEXT: text in src; else name in names */
	size_t		 len;	/* TN_TEXT only */
	size_t		 end;	/* TN_SECTION, TN_INVERTED */
};

struct tmpl {
	char			*src;	/* private copy of the source */
	char			*names;	/* distinct names, NUL-separated */
	size_t			 nameslen;
	size_t			 namescap;
	struct tmpl_node	*nodes;
	size_t			 nnodes;
	size_t			 cap;
};

#endif
