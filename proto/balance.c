/* Server choice for the upstream pool: see balance.h. */
#include "proto/balance.h"

static int
has_slot(const struct bal_server *s, size_t max)
{
	return (max == 0 || s->b_idle > 0 || s->b_busy + s->b_idle < max);
}

int
bal_choose(const struct bal_server *v, size_t n, size_t max,
    enum bal_policy pol, uint64_t now)
{
	size_t	i;
	int	best = -1, any = -1, anyup = 0, up;

	for (i = 0; i < n; i++) {
		up = v[i].b_down_until <= now;
		if (up && pol == BAL_FIRST)
			return (has_slot(&v[i], max) ? (int)i : -1);
		anyup |= up;
		if (!has_slot(&v[i], max))
			continue;
		if (up && (best < 0 || v[i].b_busy < v[best].b_busy))
			best = (int)i;
		if (any < 0 || v[i].b_busy < v[any].b_busy)
			any = (int)i;
	}
	if (best >= 0)
		return (best);
	/* SPEC §5.4: all down, try them anyway (then 502). */
	return (anyup ? -1 : any);
}
