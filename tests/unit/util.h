/* Shared helpers of the unit tests (STYLE S16). */
#ifndef FCN_TESTS_UNIT_UTIL_H
#define FCN_TESTS_UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <CUnit/CUnit.h>

#include "config/config.h"
#include "proto/params.h"

/*
 * Copy len bytes so that they end right at a PROT_NONE page: an over-read
 * crashes even without ASan.  Valid until the next call.
 */
const uint8_t	*guarded_copy(const void *, size_t);
void		 guarded_release(void);

/* Parse "N=V\nN=V\n" into p (appended). */
void		 params_from_text(struct params *, const char *);
/* Render p as "N=V\n" lines into a static buffer. */
const char	*params_to_text(const struct params *);

/*
 * Write text to a temp file and cfg_load() it.  Errors and warnings are
 * rendered into *msgs (static buffer) with the temp path replaced by
 * "FILE".  Returns the config or NULL.
 */
struct cfg	*cfg_from_text(const char *text, const char **msgs);
/* An app config built from one app's body ("listen" etc. filled in). */
struct cfg	*cfg_app_text(const char *body);
const char	*tmp_dir(void);
void		 tmp_dir_remove(void);

void	suite_params(void);
void	suite_addr(void);
void	suite_cidr(void);
void	suite_fwd(void);
void	suite_normalize(void);
void	suite_fcgi(void);
void	suite_config(void);
void	suite_scgi(void);
void	suite_proxyproto(void);
void	suite_balance(void);
void	suite_peertab(void);
void	suite_status(void);
void	suite_ranges(void);
void	suite_cert(void);

#define ADD_TEST(s, desc, fn) do {					\
	if (CU_add_test((s), (desc), (fn)) == NULL)			\
		abort();						\
} while (0)

#endif
