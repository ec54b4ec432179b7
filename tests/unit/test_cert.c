/*
 * proto/cert.c: certificates made when the suite starts, with the openssl
 * command line, read back as Apache mod_ssl shows them and checked against
 * what `openssl x509` prints; then the text parsers (URL decoding, RFC 4514
 * DNs, Envoy's XFCC, ALB's validity) from tables.  Text inputs go through
 * guarded_copy(), so a read past len crashes even without ASan.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cert.h"
#include "tests/unit/util.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* The leaf's subject and issuer as Apache's SSL_CLIENT_S_DN / _I_DN. */
#define LEAF_DN	\
	"emailAddress=alice@example.com,CN=alice\\+bob,O=Example\\, Inc."
#define CA_DN	"CN=Example Root,O=Example CA,C=US"

static char	g_cdir[256];

/* One shell command in the suite's directory; 0 when it exits 0. */
static int
sh(const char *cmd)
{
	char	line[2048];

	snprintf(line, sizeof(line), "cd '%s' && { %s; } >/dev/null 2>&1",
	    g_cdir, cmd);
	return (system(line) == 0 ? 0 : -1);
}

/*
 * The fixtures: a CA valid to 2054 (GeneralizedTime), a leaf it signed
 * with serial 0x0A1B2C and a ',' and a '+' in its subject, that chain,
 * the leaf in DER, and a self-signed certificate with a UTF-8 CN, two
 * CNs, a multi-valued RDN and serial 0.  The dates openssl prints are
 * kept next to them.
 */
static int
cert_init(void)
{
	static const char *const cmds[] = {
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	    " -nodes -keyout ca.key -out ca.pem -days 10000"
	    " -subj '/C=US/O=Example CA/CN=Example Root'",
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	    " -nodes -keyout leaf.key -out leaf.csr"
	    " -subj '/O=Example, Inc./CN=alice\\+bob"
	    "/emailAddress=alice@example.com'",
	    "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key"
	    " -set_serial 0x0A1B2C -days 30 -out leaf.pem",
	    "cat leaf.pem ca.pem > chain.pem",
	    "openssl x509 -in leaf.pem -outform DER -out leaf.der",
	    "openssl x509 -in leaf.pem -noout -startdate -enddate > leaf.dates",
	    "openssl x509 -in ca.pem -noout -startdate -enddate > ca.dates",
	    "openssl x509 -in leaf.pem -noout -startdate -enddate"
	    " -dateopt iso_8601 > leaf.iso",
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	    " -nodes -keyout u.key -out u.pem -days 1 -set_serial 0 -utf8"
	    " -subj '/O=Ex/CN=Zo\xc3\xab+UID=z1/CN=second'",
	};
	size_t	i;

	snprintf(g_cdir, sizeof(g_cdir), "%s/cert", tmp_dir());
	if (mkdir(g_cdir, 0700) == -1)
		return (-1);
	for (i = 0; i < NITEMS(cmds); i++)
		if (sh(cmds[i]) == -1) {
			fprintf(stderr, "cert: failed: %s\n", cmds[i]);
			return (-1);
		}
	return (0);
}

/* A fixture file, NUL-terminated (static buffer, one at a time). */
static const char *
fixture(const char *name, size_t *len)
{
	static char	 buf[65536];
	char		 path[512];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", g_cdir, name);
	if ((f = fopen(path, "rb")) == NULL)
		abort();
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[*len] = '\0';
	return (buf);
}

/* "notBefore=Dec  7 08:56:35 2026 GMT" from a .dates file: the value. */
static void
dates(const char *name, char *start, char *end)
{
	size_t		 len;
	const char	*t = fixture(name, &len), *b, *a;

	b = strstr(t, "notBefore=");
	a = strstr(t, "notAfter=");
	CU_ASSERT_FATAL(b != NULL && a != NULL);
	snprintf(start, CERT_TIME_MAX, "%.*s", (int)strcspn(b + 10, "\n"),
	    b + 10);
	snprintf(end, CERT_TIME_MAX, "%.*s", (int)strcspn(a + 9, "\n"),
	    a + 9);
}

static int
pem(const char *s, size_t len, struct cert_id *id, const char **why)
{
	return (cert_from_pem((const char *)guarded_copy(s, len), len, id,
	    why));
}

static int
all_empty(const struct cert_id *id)
{
	return (id->ci_s_dn[0] == '\0' && id->ci_s_cn[0] == '\0' &&
	    id->ci_s_email[0] == '\0' && id->ci_i_dn[0] == '\0' &&
	    id->ci_serial[0] == '\0' && id->ci_v_start[0] == '\0' &&
	    id->ci_v_end[0] == '\0');
}

static void
check_leaf(const struct cert_id *id)
{
	char	start[CERT_TIME_MAX], end[CERT_TIME_MAX];

	dates("leaf.dates", start, end);
	CU_ASSERT_STRING_EQUAL(id->ci_s_dn, LEAF_DN);
	CU_ASSERT_STRING_EQUAL(id->ci_s_cn, "alice+bob");
	CU_ASSERT_STRING_EQUAL(id->ci_s_email, "alice@example.com");
	CU_ASSERT_STRING_EQUAL(id->ci_i_dn, CA_DN);
	CU_ASSERT_STRING_EQUAL(id->ci_serial, "0A1B2C");
	CU_ASSERT_STRING_EQUAL(id->ci_v_start, start);
	CU_ASSERT_STRING_EQUAL(id->ci_v_end, end);
}

static void
test_cert_pem_leaf(void)
{
	struct cert_id	 id;
	const char	*s, *why = NULL;
	char		 v[CERT_ATTR_MAX];
	size_t		 len;

	s = fixture("leaf.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &id, &why), 0);
	check_leaf(&id);
	/* The DN we write reads back through cert_dn_attr(). */
	CU_ASSERT_EQUAL(cert_dn_attr(id.ci_s_dn, strlen(id.ci_s_dn), "CN", v,
	    sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "alice+bob");
	CU_ASSERT_EQUAL(cert_dn_attr(id.ci_s_dn, strlen(id.ci_s_dn), "O", v,
	    sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "Example, Inc.");
	CU_ASSERT_EQUAL(cert_dn_attr(id.ci_s_dn, strlen(id.ci_s_dn),
	    "emailaddress", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "alice@example.com");
}

static void
test_cert_pem_chain(void)
{
	struct cert_id	 id;
	const char	*s, *why = NULL;
	char		 start[CERT_TIME_MAX], end[CERT_TIME_MAX];
	size_t		 len, i;

	/* Leaf first: the leaf's fields, not the CA's. */
	s = fixture("chain.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &id, &why), 0);
	check_leaf(&id);
	/* The CA alone: notAfter in 2054 is a GeneralizedTime. */
	dates("ca.dates", start, end);
	s = fixture("ca.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &id, &why), 0);
	CU_ASSERT_STRING_EQUAL(id.ci_s_dn, CA_DN);
	CU_ASSERT_STRING_EQUAL(id.ci_i_dn, CA_DN);
	CU_ASSERT_STRING_EQUAL(id.ci_s_cn, "Example Root");
	CU_ASSERT_STRING_EQUAL(id.ci_s_email, "");
	CU_ASSERT_STRING_EQUAL(id.ci_v_start, start);
	CU_ASSERT_STRING_EQUAL(id.ci_v_end, end);
	CU_ASSERT(strstr(id.ci_v_end, " 2054 GMT") != NULL);
	/* openssl's random serial: upper-case hex, whole octets. */
	len = strlen(id.ci_serial);
	CU_ASSERT(len > 0 && len % 2 == 0 && len <= CERT_SERIAL_MAX);
	for (i = 0; i < len; i++)
		CU_ASSERT(strchr("0123456789ABCDEF", id.ci_serial[i]) != NULL);
}

static void
test_cert_der(void)
{
	struct cert_id	 id, from_pem;
	const char	*s, *why = NULL;
	uint8_t		 der[4096];
	size_t		 len, n;

	s = fixture("leaf.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &from_pem, &why), 0);
	s = fixture("leaf.der", &len);
	CU_ASSERT_FATAL(len > 0 && len < sizeof(der));
	memcpy(der, s, len);
	CU_ASSERT_EQUAL_FATAL(cert_from_der(guarded_copy(der, len), len, &id,
	    &why), 0);
	check_leaf(&id);
	CU_ASSERT(memcmp(&id, &from_pem, sizeof(id)) == 0);
	/* Every truncation, and one byte too many. */
	for (n = 0; n < len; n++) {
		why = NULL;
		CU_ASSERT_EQUAL(cert_from_der(guarded_copy(der, n), n, &id,
		    &why), -1);
		CU_ASSERT(why != NULL && all_empty(&id));
	}
	der[len] = 0;
	CU_ASSERT_EQUAL(cert_from_der(guarded_copy(der, len + 1), len + 1, &id,
	    &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bytes after the certificate");
	CU_ASSERT_EQUAL(cert_from_der(NULL, 0, &id, &why), -1);
}

/*
 * Apache's choices where the RFC 2253 text and the certificate disagree:
 * UTF-8 kept (no \C3\AB), the first CN in the certificate's order (the
 * text lists it last), a multi-valued RDN, serial 0 as "00".
 */
static void
test_cert_utf8_order_zero(void)
{
	struct cert_id	 id;
	const char	*s, *why = NULL;
	size_t		 len;

	s = fixture("u.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &id, &why), 0);
	CU_ASSERT_STRING_EQUAL(id.ci_s_dn,
	    "CN=second,UID=z1+CN=Zo\xc3\xab,O=Ex");
	CU_ASSERT_STRING_EQUAL(id.ci_s_cn, "Zo\xc3\xab");
	CU_ASSERT_STRING_EQUAL(id.ci_serial, "00");
}

static void
refused(const char *s, size_t len, const char *want)
{
	struct cert_id	 id;
	const char	*why = NULL;

	memset(&id, 'x', sizeof(id));
	CU_ASSERT_EQUAL(pem(s, len, &id, &why), -1);
	CU_ASSERT(all_empty(&id));
	CU_ASSERT_FATAL(why != NULL);
	if (want != NULL)
		CU_ASSERT_STRING_EQUAL(why, want);
}

static void
test_cert_pem_refused(void)
{
	static char	 big[CERT_PEM_MAX + 2];
	char		 leaf[8192], buf[8192 + 256];
	const char	*s;
	size_t		 len;

	s = fixture("leaf.pem", &len);
	CU_ASSERT_FATAL(len < sizeof(leaf));
	memcpy(leaf, s, len + 1);
	refused("", 0, "not a PEM certificate");
	refused("hello, world\n", 13, "not a PEM certificate");
	refused(leaf, len / 2, "not a PEM certificate");
	/* Cut just before "-----END CERTIFICATE-----\n". */
	refused(leaf, len - 26, "not a PEM certificate");
	snprintf(buf, sizeof(buf), "-----BEGIN CERTIFICATE-----\n%s", leaf);
	refused(buf, strlen(buf), "not a PEM certificate");
	/* A NUL inside the text. */
	memcpy(buf, leaf, len);
	buf[40] = '\0';
	refused(buf, len, "not a PEM certificate");
	/* A valid PEM block that is not a certificate comes first. */
	s = fixture("leaf.key", &len);
	refused(s, len, "first PEM block is not a CERTIFICATE");
	snprintf(buf, sizeof(buf), "%.28sProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n%s",
	    leaf, leaf + 28);
	refused(buf, strlen(buf), "PEM headers in a certificate");
	/* Base64 of something that is not a certificate. */
	snprintf(buf, sizeof(buf), "-----BEGIN CERTIFICATE-----\n"
	    "aGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n");
	refused(buf, strlen(buf), "not an X.509 certificate");
	/* 16 KiB exactly is read; one byte more is not. */
	memset(big, '\n', sizeof(big));
	memcpy(big, leaf, strlen(leaf));
	refused(big, CERT_PEM_MAX + 1, "larger than 16 KiB");
	{
		struct cert_id	 id;
		const char	*why = NULL;

		CU_ASSERT_EQUAL(pem(big, CERT_PEM_MAX, &id, &why), 0);
		check_leaf(&id);
	}
}

/* Percent-encode all but [A-Za-z0-9-._~] and the bytes in safe. */
static size_t
escape(const char *s, size_t len, const char *safe, char *out)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL ||
		    (c != '\0' && strchr(safe, c) != NULL))
			out[o++] = (char)c;
		else
			o += (size_t)sprintf(out + o, "%%%02X", c);
	}
	out[o] = '\0';
	return (o);
}

static size_t
udec(const char *s, char *out, size_t cap)
{
	size_t	len = strlen(s);

	return (cert_urldecode((const char *)guarded_copy(s, len), len, out,
	    cap));
}

static void
test_cert_urldecode(void)
{
	static char	 enc[3 * 8192], dec[8192];
	struct cert_id	 id;
	const char	*s, *why = NULL;
	char		 leaf[8192], out[16];
	size_t		 len, n;

	s = fixture("chain.pem", &len);
	memcpy(leaf, s, len + 1);
	/* nginx's $ssl_client_escaped_cert (every '+', '/', '=' escaped),
	 * then ALB's X-Amzn-Mtls-Clientcert ("+=/" left as they are). */
	escape(leaf, len, "", enc);
	CU_ASSERT(strncmp(enc, "-----BEGIN%20CERTIFICATE-----%0AMII", 35) == 0);
	n = udec(enc, dec, sizeof(dec));
	CU_ASSERT_FATAL(n == len && memcmp(dec, leaf, len) == 0);
	CU_ASSERT_EQUAL(pem(dec, n, &id, &why), 0);
	check_leaf(&id);
	escape(leaf, len, "+=/", enc);
	n = udec(enc, dec, sizeof(dec));
	CU_ASSERT(n == len && memcmp(dec, leaf, len) == 0);
	CU_ASSERT_EQUAL(udec(enc, dec, len - 1), (size_t)-1);
	CU_ASSERT_EQUAL(udec(enc, dec, len), len);

	CU_ASSERT_EQUAL(udec("a+b%2B%2f%3d", out, sizeof(out)), 6);
	CU_ASSERT(memcmp(out, "a+b+/=", 6) == 0);
	CU_ASSERT_EQUAL(udec("", out, 0), 0);
	CU_ASSERT_EQUAL(udec("%41%42", out, 2), 2);
	CU_ASSERT(memcmp(out, "AB", 2) == 0);
	CU_ASSERT_EQUAL(udec("%41%42", out, 1), (size_t)-1);
	CU_ASSERT_EQUAL(udec("abcd", out, 3), (size_t)-1);
	CU_ASSERT_EQUAL(udec("%G1", out, sizeof(out)), (size_t)-1);
	CU_ASSERT_EQUAL(udec("%1G", out, sizeof(out)), (size_t)-1);
	CU_ASSERT_EQUAL(udec("ab%4", out, sizeof(out)), (size_t)-1);
	CU_ASSERT_EQUAL(udec("ab%", out, sizeof(out)), (size_t)-1);
	CU_ASSERT_EQUAL(udec("%%41", out, sizeof(out)), (size_t)-1);
}

static const struct dn_case {
	const char	*dn;
	const char	*attr;
	size_t		 cap;	/* 0: CERT_ATTR_MAX */
	int		 rc;
	const char	*want;
	const char	*name;
} dn_cases[] = {
	{ "CN=alice,O=Example", "CN", 0, 1, "alice", "plain" },
	{ "CN=alice,O=Example", "O", 0, 1, "Example", "second RDN" },
	{ "cn=alice", "CN", 0, 1, "alice", "type in lower case" },
	{ "CN=alice", "cn", 0, 1, "alice", "attr in lower case" },
	{ "EMAILADDRESS=a@example.com", "emailAddress", 0, 1, "a@example.com",
	    "emailAddress, any case" },
	{ "CN=Doe\\, John,O=x", "CN", 0, 1, "Doe, John", "\\," },
	{ "CN=a\\+b", "CN", 0, 1, "a+b", "\\+" },
	{ "CN=a\\\\b", "CN", 0, 1, "a\\b", "\\\\" },
	{ "CN=\\\"q\\\"", "CN", 0, 1, "\"q\"", "\\\"" },
	{ "CN=\\<x\\>\\;\\=", "CN", 0, 1, "<x>;=", "\\< \\> \\; \\=" },
	{ "CN=\\ lead,O=x", "CN", 0, 1, " lead", "\\ leading space" },
	{ "CN=trail\\ ", "CN", 0, 1, "trail ", "\\ trailing space" },
	{ "CN=\\#hash", "CN", 0, 1, "#hash", "\\#" },
	{ "CN=Zo\\C3\\AB", "CN", 0, 1, "Zo\xc3\xab", "hex pairs, UTF-8" },
	{ "CN=\\2c\\2B", "CN", 0, 1, ",+", "hex pairs, any case" },
	{ "CN=a=b#c", "CN", 0, 1, "a=b#c", "'=' and inner '#' bare" },
	{ "CN=\"Doe, John\",O=x", "CN", 0, 1, "Doe, John", "quoted" },
	{ "CN=\"a\\\"b;c+d\"", "CN", 0, 1, "a\"b;c+d", "quoted with \\\"" },
	{ "O=x", "CN", 0, 0, "", "absent" },
	{ "UID=c1+CN=carol,O=Ex", "CN", 0, 1, "carol", "multi-valued RDN" },
	{ "UID=c1+CN=carol,O=Ex", "UID", 0, 1, "c1", "multi-valued, first" },
	{ "CN=first,CN=second", "CN", 0, 1, "first", "first match wins" },
	{ "CN = alice , O = x", "CN", 0, 1, "alice", "RFC 2253 spaces" },
	{ "CN=alice, O=x", "O", 0, 1, "x", "space after ','" },
	{ "CN=a b", "CN", 0, 1, "a b", "inner space kept" },
	{ "CN=,O=x", "CN", 0, 1, "", "empty value" },
	{ "2.5.4.3=alice", "2.5.4.3", 0, 1, "alice", "numeric OID" },
	{ "O=#04024869,CN=x", "CN", 0, 1, "x", "hexstring elsewhere" },
	{ "CN=#04024869", "CN", 0, 0, "", "hexstring wanted" },
	{ "O=#zz,CN=x", "CN", 0, 0, "", "bad hexstring" },
	{ "CN=a\\", "CN", 0, 0, "", "lone '\\' at the end" },
	{ "CN=a\\Qb", "CN", 0, 0, "", "'\\' before a plain char" },
	{ "CN=a\\00b", "CN", 0, 0, "", "\\00" },
	{ "CN=a;O=b", "CN", 0, 0, "", "bare ';'" },
	{ "CN=a\"b", "CN", 0, 0, "", "bare '\"'" },
	{ "CN=a<b", "CN", 0, 0, "", "bare '<'" },
	{ "CN=\"unclosed", "CN", 0, 0, "", "unclosed quote" },
	{ "CN=\"q\"x", "CN", 0, 0, "", "text after a quote" },
	{ "CN", "CN", 0, 0, "", "no '='" },
	{ "=a", "CN", 0, 0, "", "no type" },
	{ "CN=a,", "CN", 0, 0, "", "trailing ','" },
	{ ",CN=a", "CN", 0, 0, "", "leading ','" },
	{ "CN=a+", "CN", 0, 0, "", "trailing '+'" },
	{ "CN=a,garbage", "CN", 0, 0, "", "damage after the match" },
	{ "/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client", "CN", 0, 0, "",
	    "OpenSSL's oneline form is not RFC 4514" },
	{ "", "CN", 0, 0, "", "empty DN" },
	{ "CN=abcdef", "CN", 7, 1, "abcdef", "fits cap exactly" },
	{ "CN=abcdef", "CN", 6, 0, "abcde", "cut to cap - 1" },
	{ "CN=abcdef", "CN", 1, 0, "", "cap 1" },
	{ "CN=a\\,bcdef", "CN", 4, 0, "a,b", "cut after an escape" },
};

static void
test_cert_dn_attr(void)
{
	const struct dn_case	*c;
	char			 out[CERT_ATTR_MAX];
	size_t			 i, len, cap;
	int			 rc;

	for (i = 0; i < NITEMS(dn_cases); i++) {
		c = &dn_cases[i];
		len = strlen(c->dn);
		cap = c->cap != 0 ? c->cap : sizeof(out);
		memset(out, 'x', sizeof(out));
		rc = cert_dn_attr((const char *)guarded_copy(c->dn, len), len,
		    c->attr, out, cap);
		if (rc != c->rc || strcmp(out, c->want) != 0)
			fprintf(stderr, "\ndn case \"%s\": rc %d out \"%s\"\n",
			    c->name, rc, out);
		CU_ASSERT_EQUAL(rc, c->rc);
		CU_ASSERT_STRING_EQUAL(out, c->want);
	}
	/* cap 0 writes nothing; a raw NUL in the DN is malformed. */
	out[0] = 'x';
	CU_ASSERT_EQUAL(cert_dn_attr("CN=a", 4, "CN", out, 0), 0);
	CU_ASSERT_EQUAL(out[0], 'x');
	CU_ASSERT_EQUAL(cert_dn_attr("CN=a\0b", 6, "CN", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

#define ENVOY_BY	"http://frontend.lyft.com"
#define ENVOY_HASH	\
	"468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688"
#define ENVOY_SUBJ	"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client"

static char	g_xbuf[8192];

static enum cert_xfcc_status
xfcc(const char *s, struct cert_xfcc *x, size_t cap)
{
	size_t	len = strlen(s);

	return (cert_xfcc_parse((const char *)guarded_copy(s, len), len, x,
	    g_xbuf, cap));
}

static int
span_is(const struct cert_span *sp, const char *want)
{
	if (sp->s == NULL)
		return (want == NULL);
	return (want != NULL && sp->len == strlen(want) &&
	    memcmp(sp->s, want, sp->len) == 0);
}

/* The three examples of Envoy's documentation, as written there. */
static void
test_cert_xfcc_envoy_samples(void)
{
	struct cert_xfcc	x;

	CU_ASSERT_EQUAL_FATAL(xfcc("By=" ENVOY_BY ";Hash=" ENVOY_HASH
	    ";Subject=\"" ENVOY_SUBJ "\";URI=http://testclient.lyft.com", &x,
	    sizeof(g_xbuf)), CERT_XFCC_OK);
	CU_ASSERT_EQUAL(x.x_elements, 1);
	CU_ASSERT(span_is(&x.x_by, ENVOY_BY));
	CU_ASSERT(span_is(&x.x_hash, ENVOY_HASH));
	CU_ASSERT(span_is(&x.x_subject, ENVOY_SUBJ));
	CU_ASSERT(x.x_subject.s == g_xbuf);
	CU_ASSERT(span_is(&x.x_uri, "http://testclient.lyft.com"));
	CU_ASSERT(span_is(&x.x_cert, NULL) && span_is(&x.x_chain, NULL) &&
	    span_is(&x.x_dns, NULL));

	CU_ASSERT_EQUAL_FATAL(xfcc("By=" ENVOY_BY ";Hash=" ENVOY_HASH
	    ";URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash="
	    "9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e"
	    ";URI=http://frontend.lyft.com", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT_EQUAL(x.x_elements, 2);
	CU_ASSERT(span_is(&x.x_by, ENVOY_BY));
	CU_ASSERT(span_is(&x.x_uri, "http://testclient.lyft.com"));

	CU_ASSERT_EQUAL_FATAL(xfcc("By=" ENVOY_BY ";Hash=" ENVOY_HASH
	    ";Subject=\"" ENVOY_SUBJ "\";URI=http://testclient.lyft.com"
	    ";DNS=lyft.com;DNS=www.lyft.com", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT_EQUAL(x.x_elements, 1);
	CU_ASSERT(span_is(&x.x_dns, "lyft.com"));
	CU_ASSERT(span_is(&x.x_subject, ENVOY_SUBJ));
}

static void
test_cert_xfcc_quoting(void)
{
	struct cert_xfcc	 x;
	const char		*in;
	char			 v[CERT_ATTR_MAX];

	/* Envoy today: an RFC 2253 Subject, its "\," reaching the DN. */
	CU_ASSERT_EQUAL_FATAL(xfcc("Hash=" ENVOY_HASH ";Subject=\"CN=Doe\\, "
	    "John,OU=Lyft,C=US\";URI=spiffe://lyft.com/test", &x,
	    sizeof(g_xbuf)), CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_subject, "CN=Doe\\, John,OU=Lyft,C=US"));
	CU_ASSERT_EQUAL(cert_dn_attr(x.x_subject.s, x.x_subject.len, "CN", v,
	    sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "Doe, John");
	CU_ASSERT(span_is(&x.x_uri, "spiffe://lyft.com/test"));
	/* \" is the only escape; other backslashes are data. */
	CU_ASSERT_EQUAL(xfcc("Subject=\"CN=\\\"q\\\",O=x\"", &x,
	    sizeof(g_xbuf)), CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_subject, "CN=\"q\",O=x"));
	CU_ASSERT_EQUAL(xfcc("By=\"a\\b\\\\c\\;\"", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "a\\b\\\\c\\;"));
	/* ';' and ',' inside quotes split nothing. */
	CU_ASSERT_EQUAL(xfcc("By=\"x;y,z=w\";Hash=h", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "x;y,z=w") && span_is(&x.x_hash, "h"));
	CU_ASSERT_EQUAL(x.x_elements, 1);
	/* Empty values: present, length 0. */
	CU_ASSERT_EQUAL(xfcc("By=\"\";Hash=", &x, 0), CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "") && span_is(&x.x_hash, ""));
	/* Unquoted values point into the input. */
	in = (const char *)guarded_copy("URI=u", 5);
	CU_ASSERT_EQUAL(cert_xfcc_parse(in, 5, &x, NULL, 0), CERT_XFCC_OK);
	CU_ASSERT(x.x_uri.s == in + 4 && x.x_uri.len == 1);
}

static void
test_cert_xfcc_keys(void)
{
	struct cert_xfcc	x;

	CU_ASSERT_EQUAL(xfcc("by=a;HASH=b;subject=\"c\";uri=d;dns=e;cert=f;"
	    "CHAIN=g", &x, sizeof(g_xbuf)), CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "a") && span_is(&x.x_hash, "b") &&
	    span_is(&x.x_subject, "c") && span_is(&x.x_uri, "d") &&
	    span_is(&x.x_dns, "e") && span_is(&x.x_cert, "f") &&
	    span_is(&x.x_chain, "g"));
	/* Unknown keys are skipped, quotes and all. */
	CU_ASSERT_EQUAL(xfcc("Foo=bar;By=a;X=\"q;,\";Hashish=z", &x,
	    sizeof(g_xbuf)), CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "a") && span_is(&x.x_hash, NULL));
	CU_ASSERT_EQUAL(x.x_elements, 1);
	/* A repeated key keeps its first value. */
	CU_ASSERT_EQUAL(xfcc("DNS=a;DNS=b;URI=c;URI=d", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_dns, "a") && span_is(&x.x_uri, "c"));
	/* Blanks around pairs and elements (a merged header), "By=a;". */
	CU_ASSERT_EQUAL(xfcc(" By=a ; Hash = b , By=c;", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT(span_is(&x.x_by, "a") && span_is(&x.x_hash, "b"));
	CU_ASSERT_EQUAL(x.x_elements, 2);
	CU_ASSERT_EQUAL(xfcc("By=a,By=b,By=c", &x, sizeof(g_xbuf)),
	    CERT_XFCC_OK);
	CU_ASSERT_EQUAL(x.x_elements, 3);
}

static void
test_cert_xfcc_errors(void)
{
	static const struct {
		const char		*in;
		enum cert_xfcc_status	 st;
	} cases[] = {
		{ "", CERT_XFCC_EMPTY },
		{ " \t ", CERT_XFCC_EMPTY },
		{ "By=\"abc", CERT_XFCC_SYNTAX },
		{ "By=\"abc\\\"", CERT_XFCC_SYNTAX },
		{ "By", CERT_XFCC_SYNTAX },
		{ "By=a;Hash", CERT_XFCC_SYNTAX },
		{ "=a", CERT_XFCC_SYNTAX },
		{ "By=a\"b", CERT_XFCC_SYNTAX },
		{ "By=\"a\"b", CERT_XFCC_SYNTAX },
		{ "B\"y=a", CERT_XFCC_SYNTAX },
		{ "By=a,,By=b", CERT_XFCC_SYNTAX },
		{ "By=a,", CERT_XFCC_SYNTAX },
		{ ",By=a", CERT_XFCC_SYNTAX },
		{ ";", CERT_XFCC_SYNTAX },
		{ "By=a,By=\"x", CERT_XFCC_SYNTAX },
	};
	struct cert_xfcc	x;
	size_t			i;

	for (i = 0; i < NITEMS(cases); i++) {
		memset(&x, 0xa5, sizeof(x));
		CU_ASSERT_EQUAL(xfcc(cases[i].in, &x, sizeof(g_xbuf)),
		    cases[i].st);
		CU_ASSERT(x.x_elements == 0 && x.x_by.s == NULL &&
		    x.x_subject.s == NULL);
	}
	/* FULL: quoted values of the first element are copied. */
	CU_ASSERT_EQUAL(xfcc("Subject=\"abcdef\"", &x, 5), CERT_XFCC_FULL);
	CU_ASSERT_EQUAL(xfcc("Subject=\"abcdef\"", &x, 6), CERT_XFCC_OK);
	CU_ASSERT_EQUAL(xfcc("By=\"ab\";Subject=\"abcd\"", &x, 5),
	    CERT_XFCC_FULL);
	CU_ASSERT_EQUAL(cert_xfcc_parse("By=\"a\"", 6, &x, NULL, 0),
	    CERT_XFCC_FULL);
	CU_ASSERT_EQUAL(xfcc("By=abcdef", &x, 0), CERT_XFCC_OK);
	CU_ASSERT_EQUAL(xfcc("By=a,By=\"later\";Foo=\"x\"", &x, 0),
	    CERT_XFCC_OK);
	CU_ASSERT_EQUAL(xfcc("Foo=\"not kept\"", &x, 0), CERT_XFCC_OK);
	for (i = CERT_XFCC_OK; i <= CERT_XFCC_FULL; i++)
		CU_ASSERT(cert_xfcc_strerror((enum cert_xfcc_status)i)[0] !=
		    '\0');
}

/* Cert= as Envoy writes it (URL-encoded PEM), quoted or not. */
static void
test_cert_xfcc_cert(void)
{
	static char		 enc[3 * 8192], in[3 * 8192 + 256];
	static char		 dec[8192];
	struct cert_xfcc	 x;
	struct cert_id		 id;
	const char		*s, *why = NULL;
	size_t			 len, n;
	int			 q;

	s = fixture("leaf.pem", &len);
	escape(s, len, "", enc);
	for (q = 0; q < 2; q++) {
		snprintf(in, sizeof(in), "By=spiffe://lyft.com/front;"
		    "Hash=%s;Cert=%s%s%s;URI=spiffe://lyft.com/test",
		    ENVOY_HASH, q ? "\"" : "", enc, q ? "\"" : "");
		CU_ASSERT_EQUAL_FATAL(xfcc(in, &x, sizeof(g_xbuf)),
		    CERT_XFCC_OK);
		CU_ASSERT(span_is(&x.x_cert, enc));
		n = cert_urldecode(x.x_cert.s, x.x_cert.len, dec, sizeof(dec));
		CU_ASSERT_FATAL(n == len);
		CU_ASSERT_EQUAL(cert_from_pem(dec, n, &id, &why), 0);
		check_leaf(&id);
	}
}

static int
alb(const char *s, char *start, char *end)
{
	size_t	len = strlen(s);

	return (cert_alb_validity((const char *)guarded_copy(s, len), len,
	    start, end));
}

static void
test_cert_alb_validity(void)
{
	static const char *const bad[] = {
		"", ";", "NotBefore=2023-09-21T01:50:17Z",
		"NotBefore=2023-09-21T01:50:17Z;",
		"NotBefore=2023-09-21T01:50:17Z;NotBefore=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z;"
		    "NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-13-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-31T01:50:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-02-29T01:50:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=1900-02-29T01:50:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T24:00:00Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T01:60:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21 01:50:17Z;NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T01:50:17.000Z;"
		    "NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T01:50:17+00:00;"
		    "NotAfter=2024-09-20T01:50:17Z",
		"NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z;"
		    "Other=1",
		"NotBefore=2023-09-21T01:50:17Z,NotAfter=2024-09-20T01:50:17Z",
		"Sep 21 01:50:17 2023 GMT",
	};
	char	 start[CERT_TIME_MAX], end[CERT_TIME_MAX];
	size_t	 i;

	/* The example of AWS's documentation. */
	CU_ASSERT_EQUAL(alb("NotBefore=2023-09-21T01:50:17Z;"
	    "NotAfter=2024-09-20T01:50:17Z", start, end), 0);
	CU_ASSERT_STRING_EQUAL(start, "Sep 21 01:50:17 2023 GMT");
	CU_ASSERT_STRING_EQUAL(end, "Sep 20 01:50:17 2024 GMT");
	CU_ASSERT_EQUAL(alb(" notafter = 2000-02-29T23:59:59Z ; "
	    "NOTBEFORE=2026-12-07T08:56:35Z ", start, end), 0);
	CU_ASSERT_STRING_EQUAL(start, "Dec  7 08:56:35 2026 GMT");
	CU_ASSERT_STRING_EQUAL(end, "Feb 29 23:59:59 2000 GMT");
	for (i = 0; i < NITEMS(bad); i++) {
		strcpy(start, "x");
		strcpy(end, "x");
		if (alb(bad[i], start, end) != -1)
			fprintf(stderr, "\nalb: accepted \"%s\"\n", bad[i]);
		CU_ASSERT(start[0] == '\0' && end[0] == '\0');
	}
}

/* ALB's verify-mode text and the certificate give the same dates. */
static void
test_cert_alb_matches_certificate(void)
{
	struct cert_id	 id;
	const char	*s, *b, *a, *why = NULL;
	char		 hdr[128], start[CERT_TIME_MAX], end[CERT_TIME_MAX];
	size_t		 len;

	/* "notBefore=2026-12-07 08:56:35Z" */
	s = fixture("leaf.iso", &len);
	b = strstr(s, "notBefore=");
	a = strstr(s, "notAfter=");
	CU_ASSERT_FATAL(b != NULL && a != NULL);
	snprintf(hdr, sizeof(hdr), "NotBefore=%.10sT%.9s;NotAfter=%.10sT%.9s",
	    b + 10, b + 21, a + 9, a + 20);
	CU_ASSERT_EQUAL_FATAL(alb(hdr, start, end), 0);
	s = fixture("leaf.pem", &len);
	CU_ASSERT_EQUAL_FATAL(pem(s, len, &id, &why), 0);
	CU_ASSERT_STRING_EQUAL(start, id.ci_v_start);
	CU_ASSERT_STRING_EQUAL(end, id.ci_v_end);
}

void
suite_cert(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("cert", cert_init, NULL)) == NULL)
		abort();
	ADD_TEST(s, "cert: PEM leaf as Apache shows it (DN, CN, Email, "
	    "serial, dates)", test_cert_pem_leaf);
	ADD_TEST(s, "cert: chain read leaf first; GeneralizedTime; CA serial",
	    test_cert_pem_chain);
	ADD_TEST(s, "cert: DER equals PEM; every truncation and a trailing "
	    "byte refused", test_cert_der);
	ADD_TEST(s, "cert: UTF-8 kept, first CN in certificate order, "
	    "serial 00", test_cert_utf8_order_zero);
	ADD_TEST(s, "cert: garbage, truncated, two BEGIN lines, a key, "
	    "headers, >16 KiB refused", test_cert_pem_refused);
	ADD_TEST(s, "cert: URL decoding as nginx and ALB encode, bad %, "
	    "overflow", test_cert_urldecode);
	ADD_TEST(s, "cert: DN attribute, RFC 4514 escapes, quotes, "
	    "malformed, cut", test_cert_dn_attr);
	ADD_TEST(s, "cert: XFCC, the three examples of Envoy's docs",
	    test_cert_xfcc_envoy_samples);
	ADD_TEST(s, "cert: XFCC quoting, \\\" the only escape",
	    test_cert_xfcc_quoting);
	ADD_TEST(s, "cert: XFCC keys in any case, unknown, repeated, blanks",
	    test_cert_xfcc_keys);
	ADD_TEST(s, "cert: XFCC empty, syntax errors, buffer full",
	    test_cert_xfcc_errors);
	ADD_TEST(s, "cert: XFCC Cert= URL-encoded PEM, quoted or not",
	    test_cert_xfcc_cert);
	ADD_TEST(s, "cert: ALB validity into Apache's form; bad dates",
	    test_cert_alb_validity);
	ADD_TEST(s, "cert: ALB validity equals the certificate's dates",
	    test_cert_alb_matches_certificate);
}
