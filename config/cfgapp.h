/*
 * The app keys (SPEC §3.2): their table, their semantic checks, and the
 * build of the immutable policy (struct norm_policy) an app hands to
 * proto/normalize.  Internal to config/.
 */
#ifndef FCN_CONFIG_CFGAPP_H
#define FCN_CONFIG_CFGAPP_H

#include <stdio.h>

#include "config/cfgfile.h"

/* Load, check and compile the app in group g into a new L_cfg->c_apps. */
void	cfgapp_load(struct cfg_loader *, const config_setting_t *g);
/* Free what an app holds (not the struct itself). */
void	cfgapp_free(struct cfg_app *);
/* Print an app's keys (-T), defaults filled in. */
void	cfgapp_dump(const struct cfg_app *, FILE *);

#endif
