/*
 * conf.h - squid-style configuration: cuttle.conf into a struct conf.
 *
 * One directive per line, '#' comments; each directive is a row of
 * directives.def, the single source for parsing, defaults and docs.
 * Errors name file:line, the text and the expected form.
 *
 * Lifecycle:
 *	conf_new()	built-in defaults not yet applied
 *	conf_load()	directives from a file (may be called for each file)
 *	conf_finish()	defaults for every directive never given
 *	conf_free()	everything released
 */
#ifndef CUTTLE_CONF_H
#define CUTTLE_CONF_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdio.h>

struct conf_port {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
};

struct conf {
	unsigned		magic;
#define CONF_MAGIC		0xc0f1c0f1U
	struct conf_port	*ports;
	size_t			nports;
	char			*visible_hostname;
	char			*debug_options;
	unsigned		seen[8];	/* bitmap of directives given */
};

struct conf	*conf_new(void);
void		conf_free(struct conf **cp);

/* conf_load() - parse path into c.  Problems are logged with file:line;
 * returns the number of errors (0: the file is good), or -errno when the
 * file cannot be read (also logged). */
int		conf_load(struct conf *c, const char *path);

/* conf_load_string() - as conf_load(), from memory; name is used in
 * messages in place of a file name. */
int		conf_load_string(struct conf *c, const char *name,
		    const char *text);

/* conf_finish() - apply the default of every directive not given; returns
 * the number of errors (a bad built-in default is a bug: 0 expected). */
int		conf_finish(struct conf *c);

/* conf_print_docs() - the documented configuration, from the table. */
void		conf_print_docs(FILE *f);

#endif /* CUTTLE_CONF_H */
