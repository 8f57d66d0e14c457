/*
 * dns_version.c - the c-ares version, for cuttle -v.
 */
#include "config.h"

#include <stdio.h>

#include <ares.h>

#include "dns/dns.h"

void
dns_print_versions(FILE *f)
{
	fprintf(f, "c-ares %s (built with %s)\n", ares_version(NULL),
	    ARES_VERSION_STR);
}
