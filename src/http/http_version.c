/*
 * http_version.c - the llhttp version, for cuttle -v.
 */
#include "config.h"

#include <stdio.h>

#include <llhttp.h>

#include "http/http.h"

void
http_print_versions(FILE *f)
{
	fprintf(f, "llhttp %d.%d.%d\n", LLHTTP_VERSION_MAJOR,
	    LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
}
