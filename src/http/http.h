/*
 * http.h - HTTP/1.x messages on top of llhttp.
 */
#ifndef CUTTLE_HTTP_H
#define CUTTLE_HTTP_H

#include <stdio.h>

/* http_print_versions() - the llhttp parser cuttle was built with. */
void	http_print_versions(FILE *f);

#endif /* CUTTLE_HTTP_H */
