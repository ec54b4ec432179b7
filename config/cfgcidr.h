/*
 * CIDR lists of the config, inline (trusted_proxies, allow_from, a
 * client_headers group's from) or one per line in a file
 * (trusted_proxies_file, from_file), with one message for a bad entry
 * wherever it was written.  Internal to config/.
 */
#ifndef FCN_CONFIG_CFGCIDR_H
#define FCN_CONFIG_CFGCIDR_H

#include "config/cfgfile.h"
#include "config/config.h"
#include "proto/cidr.h"

/* A growing array of blocks; zero-filled is empty. */
struct cfgcidr_vec {
	struct cidr	*cv_v;
	size_t		 cv_n;
	size_t		 cv_cap;
};

/*
 * Parse the strings of sl (written in list setting s, NULL for the
 * built-in config) into v.  "unix:" is taken only when unix_seen is not
 * NULL, and sets *unix_seen.  key names the list in messages.  Returns
 * the number of errors recorded.
 */
int		 cfgcidr_list(struct cfg_loader *, const struct cfg_strlist *sl,
		    const config_setting_t *s, const char *key,
		    struct cfgcidr_vec *v, int *unix_seen);
/*
 * Read path (relative to the main file's directory) into v: one block
 * per line, '#' comments, blank lines.  key, file and line name the
 * setting that points at it, for an unreadable file.  A file that
 * fcgi-normalizer-ranges wrote (SPEC §3.4) is noted in a's a_ranges, and
 * one fetched more than CFG_RANGES_STALE_DAYS ago is warned about at
 * file:line.  Returns the number of errors recorded.
 */
int		 cfgcidr_file(struct cfg_loader *, const char *path,
		    const char *key, const char *file, int line,
		    struct cfgcidr_vec *v, int *unix_seen, struct cfg_app *a);
/*
 * Compile v into a lookup set and free v.  NULL (error recorded at
 * file:line) only on ENOMEM; an empty v gives a set matching nothing.
 */
struct cidr_set	*cfgcidr_compile(struct cfg_loader *, const char *file,
		    int line, struct cfgcidr_vec *v);

#endif
