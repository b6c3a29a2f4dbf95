/*
 * uploads: the upload rules of a form (validate.h, validate_files): the
 * files of a post against "uploads" (none allowed, size, sniffed type).
 * Apart from validate.c's field rules, which are text rules.
 */
#include <string.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/validate.h"

size_t
validate_files(const struct conf_form *cf, const struct form *f,
    struct validate_error *errs, size_t n)
{
	const struct form_file	*ff;
	size_t			 i, k;

	for (i = 0; i < f->nfiles; i++) {
		ff = &f->files[i];
		if (cf->up_allowed == NULL) {
			/* The form takes no files: each is an error of its
			 * field (once), even an empty one with a name. */
			for (k = 0; k < i; k++)
				if (strcmp(f->files[k].field, ff->field) == 0)
					break;
			if (k == i && n < VALIDATE_MAX_ERRORS)
				errs[n++] = (struct validate_error){ ff->field,
				    "file" };
			continue;
		}
		if (ff->len == 0)
			continue;
		if (ff->too_large) {
			if (n < VALIDATE_MAX_ERRORS)
				errs[n++] = (struct validate_error){ ff->field,
				    "size" };
			continue;
		}
		for (k = 0; k < cf->nup_allowed; k++)
			if (strcmp(cf->up_allowed[k], ff->sniffed_type) == 0)
				break;
		if (k == cf->nup_allowed && n < VALIDATE_MAX_ERRORS)
			errs[n++] = (struct validate_error){ ff->field,
			    "type" };
	}
	return n;
}
