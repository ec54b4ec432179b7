/* libFuzzer target: forwarded-header parsers and value validators. */
#include <stdint.h>

#include "proto/cidr.h"
#include "proto/fwd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_hop	 h[FWD_MAX_HOPS];
	struct fwd_span	 sp[FWD_MAX_HOPS];
	struct cidr	 c;
	struct addr	 a;
	const char	*s = (const char *)data, *why;
	size_t		 total, len;
	int		 port;

	fwd_xff_parse(s, size, h, FWD_MAX_HOPS, &total);
	fwd_forwarded_parse(s, size, h, FWD_MAX_HOPS, &total);
	fwd_list_split(s, size, sp, 3, &total);
	fwd_host_check(s, size, &port);
	fwd_prefix_check(s, size, &len, &why);
	fwd_scheme(s, size);
	addr_parse_hop(s, size, &a, &port);
	cidr_parse(s, size, &c);
	return (0);
}
