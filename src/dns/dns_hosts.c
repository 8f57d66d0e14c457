/*
 * dns_hosts.c - what is answered without asking anyone: host names checked
 * and folded to their cache key, address literals, hosts_file.
 *
 * Lifecycle of hosts_file:
 *	dns_hosts_load()	read once by dns_resolver_new(), into
 *				r->hosts (by name) and r->hosts_order (file
 *				order); DONE entries that never expire
 *	dns_resolver_free()	released with the resolver
 *
 * The file has the format of hosts(5): an address, then names, '#' to the
 * end of a line.  A name on several lines collects every address, in
 * file order, so "127.0.0.1 localhost" and "::1 localhost" give both.
 * Lines that do not parse are logged with file:line and skipped.
 *
 * "localhost" and the names under it are loopback addresses and never
 * asked of a name server (RFC 6761 6.3; c-ares 1.18 refuses to ask
 * anyway): hosts_file's "localhost" answers them if it has one, else
 * 127.0.0.1 and ::1, in that order (services listen on the first more
 * often than on the second).
 *
 * Backwards (dns_lookup_addr()): an address is named by the first name
 * hosts_file gives it (r->hosts_rev, keyed by the address's text);
 * 127.0.0.1 and ::1, unless it names them, are "localhost" (r->loopback):
 * the addresses "localhost" has, and the only ones in 127/8 and ::1 whose
 * name is fixed (RFC 6303 4.2 and 4.3: the rest of 127.in-addr.arpa is
 * NXDOMAIN by a local server's zone, or whatever a hosts file there
 * says, so those are asked).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "dns/dns_int.h"

/*
 * Fold host[0..len) into out (DNS_NAME_MAX + 1 bytes): lower case, no
 * final dot.  A name is labels of 1 to 63 letters, digits, '-' or '_'
 * (seen in the wild), 253 bytes at most (RFC 1035 2.3.4); a last label
 * of digits only is no name (RFC 3696 2: top-level domains are not
 * numeric) but an address that did not parse ("127.1"), and no name
 * server should be asked about it.  0 or -EINVAL.
 */
int
dns_name_normalize(const char *host, size_t len, char *out, size_t *outlen)
{
	size_t i, label = 0;
	bool digits = true;
	char c;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return (-EINVAL);
	for (i = 0; i < len; i++) {
		c = host[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return (-EINVAL);
			label = 0;
			digits = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (++label > 63)
				return (-EINVAL);
			if (c < '0' || c > '9')
				digits = false;
		} else
			return (-EINVAL);
		out[i] = c;
	}
	if (digits)
		return (-EINVAL);
	out[len] = '\0';
	*outlen = len;
	return (0);
}

/*
 * Is host[0..len) an address: dotted-quad IPv4, or IPv6 with or without
 * the brackets of a URL?  If so, fill a (port 0) and text (its canonical
 * form, the answer's name).  Zone ids ("fe80::1%eth0") are not accepted.
 */
bool
dns_literal_parse(const char *host, size_t len, union dns_addr *a,
    char *text, size_t textsize)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	bool bracket = false;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		bracket = true;
	}
	if (len == 0 || len >= sizeof tmp)
		return (false);
	memcpy(tmp, host, len);
	tmp[len] = '\0';
	memset(a, 0, sizeof *a);
	if (!bracket && inet_pton(AF_INET, tmp, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		AN(inet_ntop(AF_INET, &a->sin.sin_addr, text,
		    (socklen_t)textsize));
		return (true);
	}
	if (inet_pton(AF_INET6, tmp, &a->sin6.sin6_addr) == 1) {
		a->sin6.sin6_family = AF_INET6;
		AN(inet_ntop(AF_INET6, &a->sin6.sin6_addr, text,
		    (socklen_t)textsize));
		return (true);
	}
	return (false);
}

/* A reverse entry for a, named name (copied), keyed by text.  NULL on
 * ENOMEM. */
static struct dns_entry *
hosts_rev_new(const char *text, const union dns_addr *a, const char *name)
{
	struct dns_entry *e;

	e = dns_entry_new(text, strlen(text), DNS_SRC_HOSTS);
	if (e == NULL)
		return (NULL);
	e->reverse = true;
	if ((e->ptr = strdup(name)) == NULL || dns_entry_add(e, &a->sa) != 0) {
		dns_entry_release(&e);
		return (NULL);
	}
	return (e);
}

/* The first name of a hosts line names its address, unless an earlier
 * line named it.  0 or -ENOMEM. */
static int
hosts_add_rev(struct dns_resolver *r, const char *text,
    const union dns_addr *a, const char *name)
{
	struct dns_entry *e;
	uint32_t hash;

	hash = dns_name_hash(text, strlen(text));
	if (dns_tab_find(&r->hosts_rev, text, strlen(text), hash) != NULL)
		return (0);
	if ((e = hosts_rev_new(text, a, name)) == NULL)
		return (-ENOMEM);
	dns_tab_insert(&r->hosts_rev, e);
	list_insert_tail(&r->hosts_rev_order, &e->link);
	return (0);
}

/* One name of a hosts line (text: its address's): its entry gets the
 * address.  0 or -ENOMEM. */
static int
hosts_add(struct dns_resolver *r, const char *path, unsigned lineno,
    const char *word, const union dns_addr *a, const char *text)
{
	char name[DNS_NAME_MAX + 1];
	struct dns_entry *e;
	uint32_t hash;
	size_t len;

	if (dns_name_normalize(word, strlen(word), name, &len) != 0) {
		log_msg(LG_WARN, SEC_DNS, "%s:%u: not a host name: %s", path,
		    lineno, word);
		return (0);
	}
	hash = dns_name_hash(name, len);
	e = dns_tab_find(&r->hosts, name, len, hash);
	if (e == NULL) {
		e = dns_entry_new(name, len, DNS_SRC_HOSTS);
		if (e == NULL)
			return (-ENOMEM);
		dns_tab_insert(&r->hosts, e);
		list_insert_tail(&r->hosts_order, &e->link);
		r->st.hosts++;
	}
	if (hosts_add_rev(r, text, a, name) != 0)
		return (-ENOMEM);
	return (dns_entry_add(e, &a->sa));
}

/* Set r->localhost and r->loopback.  0 or -ENOMEM. */
int
dns_hosts_localhost(struct dns_resolver *r)
{
	static const char name[] = "localhost";
	union dns_addr a;
	struct dns_entry *e;

	memset(&a, 0, sizeof a);
	a.sin.sin_family = AF_INET;
	a.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->loopback = hosts_rev_new("127.0.0.1", &a, name);
	if (r->loopback == NULL)
		return (-ENOMEM);

	e = dns_tab_find(&r->hosts, name, sizeof name - 1,
	    dns_name_hash(name, sizeof name - 1));
	if (e != NULL) {
		dns_entry_hold(e);
		r->localhost = e;
		return (0);
	}
	e = dns_entry_new(name, sizeof name - 1, DNS_SRC_HOSTS);
	if (e == NULL)
		return (-ENOMEM);
	r->localhost = e;
	memset(&a, 0, sizeof a);
	a.sin.sin_family = AF_INET;
	a.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (dns_entry_add(e, &a.sa) != 0)
		return (-ENOMEM);
	memset(&a, 0, sizeof a);
	a.sin6.sin6_family = AF_INET6;
	a.sin6.sin6_addr = in6addr_loopback;
	return (dns_entry_add(e, &a.sa));
}

/* The answer name[0..len) (normalized) has without asking: hosts_file,
 * or loopback for the localhost names.  NULL if none. */
struct dns_entry *
dns_hosts_find(struct dns_resolver *r, const char *name, size_t len,
    uint32_t hash)
{
	static const char dotlocal[] = ".localhost";
	const size_t n = sizeof dotlocal - 1;
	struct dns_entry *e;

	e = dns_tab_find(&r->hosts, name, len, hash);
	if (e != NULL)
		return (e);
	if ((len == n - 1 && memcmp(name, dotlocal + 1, n - 1) == 0) ||
	    (len > n && memcmp(name + len - n, dotlocal, n) == 0))
		return (r->localhost);
	return (NULL);
}

/* The entry naming a (text: its canonical text) without asking:
 * hosts_file, or "localhost" for 127.0.0.1 and ::1.  NULL if none. */
struct dns_entry *
dns_hosts_find_addr(struct dns_resolver *r, const union dns_addr *a,
    const char *text)
{
	struct dns_entry *e;

	e = dns_tab_find(&r->hosts_rev, text, strlen(text),
	    dns_name_hash(text, strlen(text)));
	if (e != NULL)
		return (e);
	if ((a->sa.sa_family == AF_INET &&
	    ntohl(a->sin.sin_addr.s_addr) == INADDR_LOOPBACK) ||
	    (a->sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&a->sin6.sin6_addr)))
		return (r->loopback);
	return (NULL);
}

/* Read path into r->hosts.  0; -errno if it cannot be read (logged, and
 * then it is as good as empty); -ENOMEM. */
int
dns_hosts_load(struct dns_resolver *r, const char *path)
{
	char *line = NULL, *p, *word, *save;
	char text[INET6_ADDRSTRLEN];
	union dns_addr a;
	unsigned lineno = 0;
	size_t cap = 0;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		err = -errno;
		log_msg(LG_WARN, SEC_DNS, "hosts_file %s: %s", path,
		    strerror(errno));
		return (err);
	}
	while (err == 0 && getline(&line, &cap, f) != -1) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		word = strtok_r(line, " \t\r\n", &save);
		if (word == NULL)
			continue;
		if (strchr(word, '[') != NULL ||
		    !dns_literal_parse(word, strlen(word), &a, text,
		    sizeof text)) {
			log_msg(LG_WARN, SEC_DNS, "%s:%u: not an address: %s",
			    path, lineno, word);
			continue;
		}
		while (err == 0 &&
		    (word = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			err = hosts_add(r, path, lineno, word, &a, text);
	}
	free(line);
	fclose(f);
	return (err);
}
