/*
 * log_sections.h - the cache.log sections, one row each (X-macro table).
 *
 * LOG_SECTION(enum suffix, number, name): the number is what
 * debug_options takes (Squid style: "ALL,1 5,3"); the name is printed.
 */
LOG_SECTION(MAIN,	1,	"main")
LOG_SECTION(CONF,	3,	"conf")
LOG_SECTION(COMM,	5,	"comm")
LOG_SECTION(BUF,	6,	"buf")
LOG_SECTION(HTTP,	11,	"http")
LOG_SECTION(STORE,	20,	"store")
LOG_SECTION(DNS,	14,	"dns")
LOG_SECTION(ACL,	28,	"acl")
LOG_SECTION(AUTH,	29,	"auth")
LOG_SECTION(HELPER,	84,	"helper")
LOG_SECTION(FWD,	17,	"fwd")
LOG_SECTION(ICP,	12,	"icp")
LOG_SECTION(CLIENT,	33,	"client")
LOG_SECTION(MGR,	16,	"mgr")
LOG_SECTION(ACCESS,	46,	"access")
LOG_SECTION(TEST,	99,	"test")
