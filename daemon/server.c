#include <stdio.h>
#include "config/config.h"
int srv_main(struct cfg *, const char *, int);
int
srv_main(struct cfg *c, const char *path, int level)
{
	(void)path; (void)level;
	fprintf(stderr, "fcgi-normalizer: the daemon is not built yet\n");
	cfg_free(c);
	return (1);
}
