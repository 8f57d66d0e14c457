/*
 * http_err_tbl.h - why a message was refused (X-macro table).
 *
 * HTTP_ERR(sym, status, text)
 *	status	what a proxy answers a client whose request has this fault;
 *		a reply with any fault is a 502 to the client
 */
HTTP_ERR(NONE,		0,	"no error")
HTTP_ERR(START_LINE,	400,	"malformed request line")
HTTP_ERR(STATUS_LINE,	502,	"malformed status line")
HTTP_ERR(METHOD,	400,	"invalid method")
HTTP_ERR(TARGET,	400,	"invalid request target")
HTTP_ERR(VERSION,	505,	"unsupported HTTP version")
HTTP_ERR(URI_TOO_LONG,	414,	"request line too long")
HTTP_ERR(HDR_TOO_LARGE,	431,	"header section too large")
HTTP_ERR(HDR_SYNTAX,	400,	"malformed header field")
HTTP_ERR(HDR_NAME,	400,	"invalid header field name")
HTTP_ERR(HDR_VALUE,	400,	"invalid header field value")
HTTP_ERR(OBS_FOLD,	400,	"obsolete line folding")
HTTP_ERR(DUP_HDR,	400,	"repeated single-value header field")
HTTP_ERR(CL_TE,		400,	"Content-Length with Transfer-Encoding")
HTTP_ERR(BAD_CL,	400,	"invalid Content-Length")
HTTP_ERR(TE,		501,	"unsupported Transfer-Encoding")
HTTP_ERR(CHUNK,		400,	"malformed chunked body")
HTTP_ERR(TOO_MANY_HDRS,	431,	"too many header fields")
HTTP_ERR(INCOMPLETE,	400,	"message ended early")
HTTP_ERR(NOMEM,		503,	"out of memory")
HTTP_ERR(SYNTAX,	400,	"malformed message")
