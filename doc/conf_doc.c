/*
 * conf_doc.c - print cuttle.conf.documented from the directive table.
 */
#include "config.h"

#include <stdio.h>

#include "conf/conf.h"

int
main(void)
{
	conf_print_docs(stdout);
	return (ferror(stdout) ? 1 : 0);
}
