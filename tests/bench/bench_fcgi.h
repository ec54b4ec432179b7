/*
 * FastCGI encoding shared by the bench's two tools (null_fcgi.c and
 * fcgi_load.c), each built on its own by tests/bench/run: a record header,
 * a short name-value pair, and a numeric HOST:PORT ([v6]:PORT) address.
 */
#ifndef FCN_TESTS_BENCH_FCGI_H
#define FCN_TESTS_BENCH_FCGI_H

#include <sys/socket.h>

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <fastcgi.h>

/* A record header at p; its length (FCGI_HEADER_LEN). */
static inline size_t
bench_header(uint8_t *p, int type, unsigned id, size_t clen, size_t plen)
{
	FCGI_Header	 h = {
		.version = FCGI_VERSION_1,
		.type = (unsigned char)type,
		.requestIdB1 = (unsigned char)(id >> 8),
		.requestIdB0 = (unsigned char)id,
		.contentLengthB1 = (unsigned char)(clen >> 8),
		.contentLengthB0 = (unsigned char)clen,
		.paddingLength = (unsigned char)plen,
	};

	memcpy(p, &h, sizeof(h));
	return (sizeof(h));
}

/* A pair of short (< 128 bytes) strings with 1-byte lengths. */
static inline size_t
bench_pair(uint8_t *p, const char *name, const char *value)
{
	size_t	 nl = strlen(name), vl = strlen(value);

	p[0] = (uint8_t)nl;
	p[1] = (uint8_t)vl;
	memcpy(p + 2, name, nl);
	memcpy(p + 2 + nl, value, vl);
	return (2 + nl + vl);
}

/* HOST:PORT or [V6]:PORT, numeric only, into *ss.  0, or -1. */
static inline int
bench_tcp_addr(const char *addr, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM,
			    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo	*res;
	char		 host[256], *port;

	if (strlen(addr) >= sizeof(host) || strrchr(addr, ':') == NULL)
		return (-1);
	strcpy(host, addr);
	port = strrchr(host, ':');
	*port++ = '\0';
	if (host[0] == '[' && port - host >= 3 && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return (-1);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

#endif
