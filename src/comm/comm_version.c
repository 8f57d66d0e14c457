/*
 * comm_version.c - versions of the libraries comm wraps, for cuttle -v.
 */
#include "config.h"

#include <stdio.h>

#include <ev.h>
#include <openssl/crypto.h>

#include "comm/comm.h"

void
comm_print_versions(FILE *f)
{
	fprintf(f, "libev %d.%d (built with %d.%d)\n", ev_version_major(),
	    ev_version_minor(), EV_VERSION_MAJOR, EV_VERSION_MINOR);
	fprintf(f, "%s (built with %s)\n", OpenSSL_version(OPENSSL_VERSION),
	    OPENSSL_VERSION_TEXT);
}
