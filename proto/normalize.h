/*
 * The policy of SPEC §4 as one pure function:
 *	(policy, params) -> (rewritten params, decision trail, verdict).
 * It never allocates and never logs; the daemon logs what the trail and
 * the warning flags say.
 */
#ifndef FCN_PROTO_NORMALIZE_H
#define FCN_PROTO_NORMALIZE_H

#include <stddef.h>

#include "proto/cidr.h"
#include "proto/params.h"

enum norm_pick {
	NORM_PICK_RIGHTMOST,	/* rightmost_untrusted: the safe default */
	NORM_PICK_LEFTMOST,	/* leftmost_untrusted: spoofable */
	NORM_PICK_HOPS,		/* hops: np_hops entries from the right */
};

/* SPEC §3.2 client_cert_from: where step 10 reads the identity. */
enum norm_cert {
	NORM_CERT_NONE,
	NORM_CERT_XFCC,		/* Envoy X-Forwarded-Client-Cert */
	NORM_CERT_NGINX,	/* ingress-nginx ssl-client-* */
	NORM_CERT_ALB,		/* AWS ALB X-Amzn-Mtls-Clientcert* */
	NORM_CERT_PROXY,	/* PROXY v2 PP2_TYPE_SSL (PROXY_PROTOCOL_SSL_*
				   params, set by the daemon) */
};

struct norm_name {
	const char	*n_str;
	size_t		 n_len;
};

struct norm_names {
	const struct norm_name	*nn_v;
	size_t			 nn_n;
};

/* Immutable once built by config/; shared by every request of an app. */
struct norm_policy {
	const struct cidr_set	*np_trusted;
	int			 np_trust_unix;	/* "unix:" in trusted_proxies */
	struct norm_names	 np_client;	/* client_headers */
	/*
	 * SPEC §4.3a: the from set of each client_headers entry, index for
	 * index with np_client; a NULL array or a NULL entry is a plain
	 * entry, believed from any trusted peer.
	 */
	const struct cidr_set *const *np_client_from;
	struct norm_names	 np_proto;	/* proto_headers */
	struct norm_names	 np_port;	/* port_headers */
	struct norm_names	 np_host;	/* host_headers */
	struct norm_name	 np_uri;	/* uri_header; n_len 0 = off */
	struct norm_names	 np_drop;	/* drop_params */
	struct norm_names	 np_reject;	/* reject_params */
	/*
	 * forwarded_params (SPEC §4.9), every configured header name
	 * included: stripped from untrusted requests, and from trusted ones
	 * after the rewrite unless np_keep.
	 */
	struct norm_names	 np_fwd;
	int			 np_keep;	/* forwarded_after = "keep" */
	/*
	 * np_fwd by name length, from norm_fwd_index(): the names of
	 * length L (64: 64 or more) are np_fwd[at[L]] up to np_fwd[at[L +
	 * 1]].  Without the index (np_fwd_indexed 0) every name is tried.
	 */
	int			 np_fwd_indexed;
	unsigned short		 np_fwd_at[66];
	enum norm_pick		 np_pick;
	size_t			 np_hops;	/* trusted_hops, 1-16 (hops) */
	enum norm_cert		 np_cert;	/* client_cert_from */
	int			 np_assume_secure;
	int			 np_strip;	/* strip_untrusted */
};

/* Warning flags: what the daemon should log at warn/info. */
#define NORM_W_PEER	0x01	/* REMOTE_ADDR is not an IP */
#define NORM_W_UNTRUSTED 0x02	/* a spoofing attempt: an untrusted peer sent
				   forwarded params, or (with NORM_W_SOURCE)
				   a group header came from outside its from */
#define NORM_W_CLIENT	0x04	/* a hop was neither address nor identifier */
#define NORM_W_SCHEME	0x08
#define NORM_W_PORT	0x10
#define NORM_W_HOST	0x20
#define NORM_W_PREFIX	0x40
#define NORM_W_SOURCE	0x80	/* §4.3a: group entry skipped, not from its
				   from (NORM_W_UNTRUSTED is set too) */
#define NORM_W_CONFLICT	0x100	/* §4.3b: Forwarded and X-Forwarded-For
				   name different clients */
#define NORM_W_SHORT	0x200	/* §4.3c: fewer entries than trusted_hops */
#define NORM_W_CERT	0x400	/* §4.10: a certificate source was unusable
				   or disagreed with its own certificate */

/* What the policy did (SPEC §6.1 counters): t_done flags. */
#define NORM_R_TRUSTED	0x01	/* the peer is in trusted_proxies */
#define NORM_R_ADDR	0x02	/* REMOTE_ADDR rewritten */
#define NORM_R_SCHEME	0x04	/* HTTPS/REQUEST_SCHEME from a forwarded
				   scheme */
#define NORM_R_HOST	0x08	/* HTTP_HOST from a forwarded host */
#define NORM_R_PREFIX	0x10	/* the uri_header prefix applied */
#define NORM_R_PEER	0x20	/* t_peer holds the peer's address */
#define NORM_R_CERT	0x40	/* §4.10: an identity was written */

/*
 * The decision trail: text lines ending in '\n', truncated (never
 * overrun) at t_cap.  Warnings are always written; the other lines only
 * when t_verbose is set (--explain, log_level debug), so the common
 * request pays nothing for them.
 */
struct norm_trail {
	char		*t_buf;
	size_t		 t_cap;
	size_t		 t_len;
	int		 t_verbose;
	unsigned	 t_flags;	/* NORM_W_* */
	/*
	 * Structure for the daemon's counters, whatever the text: what
	 * was done (NORM_R_*), the peer, and the forwarded params an
	 * untrusted peer sent (comma-separated, truncated to fit).
	 */
	unsigned	 t_done;
	struct addr	 t_peer;
	char		 t_names[128];
	size_t		 t_nlen;
};

enum norm_verdict {
	NORM_OK,		/* forward the rewritten params */
	NORM_BAD_REQUEST,	/* answer 400: bad param name or value */
	NORM_FORBIDDEN,		/* answer 403: a reject_params param */
	NORM_FULL,		/* answer 431: arena full while rewriting */
};

/*
 * Sort v (the n names behind np->np_fwd) by length and index them, so a
 * param is compared only with the names of its length.  Config does it
 * once per policy.
 */
void		norm_fwd_index(struct norm_policy *np, struct norm_name *v,
		    size_t n);

/* Bind a trail to buf of cap bytes (cap may be 0: no text at all). */
void		norm_trail_init(struct norm_trail *, char *buf, size_t cap,
		    int verbose);
/*
 * Run the policy on p in place.  On a verdict other than NORM_OK the
 * params may be half rewritten and must not be forwarded.
 */
enum norm_verdict norm_run(const struct norm_policy *, struct params *p,
		    struct norm_trail *);
const char	*norm_verdict_str(enum norm_verdict);

#endif
