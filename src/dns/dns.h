/*
 * dns.h - asynchronous name resolution (c-ares) and the ipcache.
 */
#ifndef CUTTLE_DNS_H
#define CUTTLE_DNS_H

#include <stdio.h>

/* dns_print_versions() - the c-ares library in use, for cuttle -v. */
void	dns_print_versions(FILE *f);

#endif /* CUTTLE_DNS_H */
