/*
 * tls_verify.c - names of certificate verification results, and what
 * else explains a failed handshake.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/check.h"
#include "tls/tls.h"

static const struct {
	long		code;
	const char	*name;
} tls_verify_names[] = {
#define TLS_VERIFY(c)	{ c, #c },
#include "tls/tls_verify_tbl.h"
#undef TLS_VERIFY
};

const char *
tls_verify_name(long result)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(tls_verify_names); i++)
		if (tls_verify_names[i].code == result)
			return (tls_verify_names[i].name);
	return ("X509_V_ERR_UNSPECIFIED");
}

long
tls_verify_code(const char *name)
{
	size_t i;

	if (strcmp(name, "SQUID_X509_V_ERR_DOMAIN_MISMATCH") == 0)
		return (X509_V_ERR_HOSTNAME_MISMATCH);
	for (i = 0; i < ARRAY_LEN(tls_verify_names); i++)
		if (strcmp(tls_verify_names[i].name, name) == 0)
			return (tls_verify_names[i].code);
	return (-1);
}

long
tls_verify_result(const SSL *ssl)
{
	AN(ssl);
	return (SSL_get_verify_result(ssl));
}

const char *
tls_error_reason(unsigned long code)
{
	return (code != 0 ? ERR_reason_error_string(code) : NULL);
}

void
tls_ssl_free(SSL *ssl)
{
	SSL_free(ssl);
}
