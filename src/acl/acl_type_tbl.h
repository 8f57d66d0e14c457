/*
 * acl_type_tbl.h - the acl types cuttle knows (X-macro table).
 *
 * ACL_TYPE(sym, name, class, flags, syntax)
 *	class	how values are kept and matched (enum acl_class)
 *	flags	ACLF_REGEX	-i / +i switch case-insensitive matching
 *		ACLF_DNS	-n is accepted (and ignored: only srcdomain
 *				looks anything up)
 *		ACLF_DST	needs the resolved origin (acl_rules_need_dst)
 *		ACLF_REPLY	needs a reply: never matches in http_access
 *		ACLF_RDNS	needs the client's name by reverse DNS
 *				(acl_rules_need_src_name)
 *		ACLF_CONNS	needs src_conns (acl_rules_need_conns)
 *		ACLF_AUTH	needs the request's credentials checked
 *		ACLF_EXT	asks an external acl helper (may wait)
 *		ACLF_SSLNAME	takes --client-requested, --server-provided
 *				or --consensus (which names it looks at)
 *	syntax	the expected form, quoted in advice lines
 * The order is the order the advice for an unknown type lists them in.
 */
ACL_TYPE(SRC,		"src",		IP,	ACLF_DNS,
    "acl name src 10.0.0.0/8 | 10.0.0.1-10.0.0.9 | 192.168.0.0/255.255.0.0 "
    "| fc00::/7 | all ...")
ACL_TYPE(DST,		"dst",		IP,	ACLF_DNS | ACLF_DST,
    "acl name dst 10.0.0.0/8 | 10.0.0.1-10.0.0.9 | fc00::/7 | all ...")
ACL_TYPE(DSTDOMAIN,	"dstdomain",	DOMAIN,	ACLF_DNS,
    "acl name dstdomain .example.com (the domain and its subdomains) | "
    "www.example.com (that name only) ...")
ACL_TYPE(SRCDOMAIN,	"srcdomain",	DOMAIN,	ACLF_DNS | ACLF_RDNS,
    "acl name srcdomain .example.com | host.example.com ... (the client's "
    "name by reverse DNS)")
ACL_TYPE(DSTDOM_REGEX,	"dstdom_regex",	REGEX,	ACLF_REGEX | ACLF_DNS,
    "acl name dstdom_regex [-i] regex ...")
ACL_TYPE(PORT,		"port",		RANGE,	0,
    "acl name port 80 | 1025-65535 ...")
ACL_TYPE(MYPORT,	"myport",	RANGE,	0,
    "acl name myport 3128 | 8000-8999 ...")
ACL_TYPE(METHOD,	"method",	METHOD,	0,
    "acl name method GET | POST | CONNECT | any method token ...")
ACL_TYPE(PROTO,		"proto",	PROTO,	0,
    "acl name proto HTTP | HTTPS | FTP | cache_object ...")
ACL_TYPE(URL_REGEX,	"url_regex",	REGEX,	ACLF_REGEX,
    "acl name url_regex [-i] regex ...")
ACL_TYPE(URLPATH_REGEX,	"urlpath_regex", REGEX,	ACLF_REGEX,
    "acl name urlpath_regex [-i] regex ...")
ACL_TYPE(BROWSER,	"browser",	REGEX,	ACLF_REGEX,
    "acl name browser [-i] regex (on User-Agent) ...")
ACL_TYPE(TIME,		"time",		TIME,	0,
    "acl name time [SMTWHFA] [hh:mm-hh:mm] (days: S Sunday, M Monday, "
    "T Tuesday, W Wednesday, H Thursday, F Friday, A Saturday, D weekdays)")
ACL_TYPE(MAXCONN,	"maxconn",	MAXCONN, ACLF_CONNS,
    "acl name maxconn number (matches above that many connections from "
    "the client's address)")
ACL_TYPE(PROXY_AUTH,	"proxy_auth",	USER,	ACLF_AUTH,
    "acl name proxy_auth REQUIRED | username ... (the user that proxy "
    "authentication, auth_param, vouched for)")
ACL_TYPE(PROXY_AUTH_REGEX, "proxy_auth_regex", REGEX, ACLF_REGEX | ACLF_AUTH,
    "acl name proxy_auth_regex [-i] regex ... (on the user that proxy "
    "authentication vouched for)")
ACL_TYPE(MAX_USER_IP,	"max_user_ip",	MAXCONN, ACLF_AUTH,
    "acl name max_user_ip [-s] number (matches when the authenticated "
    "user came from more than that many addresses within "
    "authenticate_ip_ttl)")
ACL_TYPE(EXTERNAL,	"external",	WORDS,	ACLF_EXT,
    "acl name external TYPE [argument ...] (TYPE: an external_acl_type; its "
    "helper answers OK: the acl matches)")
ACL_TYPE(NOTE,		"note",		WORDS,	0,
    "acl name note tag|user [value ...] (what an external acl's helper "
    "answered for this request: tag= or user=)")
ACL_TYPE(HTTP_STATUS,	"http_status",	RANGE,	ACLF_REPLY,
    "acl name http_status 200 | 200-299 | 500- ...")
ACL_TYPE(SSL_SERVER_NAME, "ssl::server_name", DOMAIN, ACLF_SSLNAME,
    "acl name ssl::server_name [--client-requested|--server-provided|"
    "--consensus] .example.com | www.example.com ... (the name known so "
    "far: CONNECT host, SNI, the origin certificate's names)")
ACL_TYPE(SSL_SERVER_NAME_REGEX, "ssl::server_name_regex", REGEX,
    ACLF_REGEX | ACLF_SSLNAME,
    "acl name ssl::server_name_regex [-i] [--client-requested|"
    "--server-provided|--consensus] regex ...")
ACL_TYPE(AT_STEP,	"at_step",	RANGE,	0,
    "acl name at_step SslBump1 | SslBump2 | SslBump3")
ACL_TYPE(SSL_ERROR,	"ssl_error",	RANGE,	0,
    "acl name ssl_error X509_V_ERR_CERT_HAS_EXPIRED | "
    "SQUID_X509_V_ERR_DOMAIN_MISMATCH | ... (sslproxy_cert_error)")
