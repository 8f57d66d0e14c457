/*
 * http_method_tbl.h - request methods cuttle knows (X-macro table).
 *
 * HTTP_METHOD(sym, name, flags)
 *	HM_SAFE		RFC 9110 9.2.1
 *	HM_IDEMPOTENT	RFC 9110 9.2.2 (a failed request may be retried)
 *	HM_UNSAFE_INV	a success invalidates cached responses (RFC 9111 4.4)
 * Any other token is a valid extension method (HTTP_M_OTHER), forwarded
 * as it came.
 */
HTTP_METHOD(GET,	"GET",		HM_SAFE | HM_IDEMPOTENT)
HTTP_METHOD(HEAD,	"HEAD",		HM_SAFE | HM_IDEMPOTENT)
HTTP_METHOD(POST,	"POST",		HM_UNSAFE_INV)
HTTP_METHOD(PUT,	"PUT",		HM_IDEMPOTENT | HM_UNSAFE_INV)
HTTP_METHOD(DELETE,	"DELETE",	HM_IDEMPOTENT | HM_UNSAFE_INV)
HTTP_METHOD(CONNECT,	"CONNECT",	0)
HTTP_METHOD(OPTIONS,	"OPTIONS",	HM_SAFE | HM_IDEMPOTENT)
HTTP_METHOD(TRACE,	"TRACE",	HM_SAFE | HM_IDEMPOTENT)
HTTP_METHOD(PATCH,	"PATCH",	HM_UNSAFE_INV)
HTTP_METHOD(PURGE,	"PURGE",	0)
