/*
 * tls_verify.c - names of certificate verification results.
 */
#include "config.h"

#include <stddef.h>

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
