/*
 * helper_prog.c - a helper program for check_helper: speaks Squid's
 * helper protocol on stdin/stdout and misbehaves on demand.
 *
 *	helper_prog echo	"OK tag=<request>" for each request
 *	helper_prog rev N	concurrent: reads N "ID request" lines, then
 *				answers them last first ("ID OK tag=...")
 *	helper_prog die N	echo, but exits on every Nth request it
 *				reads, without answering it
 *	helper_prog mute	reads, never answers
 *	helper_prog garbage	answers "hello there" to everything
 *	helper_prog stderr	says "complaint: <request>" on stderr, then
 *				answers as echo
 *	helper_prog crash	exits at once
 *	helper_prog fds		answers "OK tag=<n>": descriptors above 2
 *				it holds
 *	helper_prog auth	a basic auth helper: OK for "alice secret"
 *				and "a%20b p:%25", ERR for the rest
 *	helper_prog pid		concurrent: "ID OK tag=<its pid>" for each
 *				"ID request"
 *	helper_prog grow	concurrent: "ID OK tag=N xxx...": N x's for
 *				each "ID N", answers longer than questions
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXREQ	64

int
main(int argc, char **argv)
{
	char line[4096], *held[MAXREQ], *sp;
	const char *mode = argc > 1 ? argv[1] : "echo";
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0, seen = 0, i, k;
	struct dirent *de;
	DIR *d;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "crash") == 0)
		return (1);
	while (fgets(line, sizeof line, stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		seen++;
		if (strcmp(mode, "mute") == 0)
			continue;
		if (strcmp(mode, "auth") == 0) {
			printf("%s\n", strcmp(line, "alice secret") == 0 ||
			    strcmp(line, "a%20b p:%25") == 0 ? "OK" :
			    "ERR message=\"wrong\"");
		} else if (strcmp(mode, "pid") == 0) {
			line[strcspn(line, " ")] = '\0';
			printf("%s OK tag=%ld\n", line, (long)getpid());
		} else if (strcmp(mode, "grow") == 0) {
			sp = strchr(line, ' ');
			*sp++ = '\0';
			k = strtol(sp, NULL, 10);
			printf("%s OK tag=%ld ", line, k);
			for (i = 0; i < k; i++)
				putchar('x');
			putchar('\n');
		} else if (strcmp(mode, "garbage") == 0) {
			printf("hello there\n");
		} else if (strcmp(mode, "die") == 0 && seen % n == 0) {
			return (3);
		} else if (strcmp(mode, "rev") == 0) {
			held[(seen - 1) % n] = strdup(line);
			if (seen % n != 0)
				continue;
			for (i = n; i-- > 0;) {
				sp = strchr(held[i], ' ');
				*sp = '\0';
				printf("%s OK tag=%s\n", held[i], sp + 1);
				free(held[i]);
			}
		} else if (strcmp(mode, "fds") == 0) {
			k = 0;
			d = opendir("/proc/self/fd");
			while (d != NULL && (de = readdir(d)) != NULL)
				k += atoi(de->d_name) > 2;
			if (d != NULL)
				closedir(d);
			printf("OK tag=%ld\n", k - 1);	/* less the DIR's */
		} else {
			if (strcmp(mode, "stderr") == 0)
				fprintf(stderr, "complaint: %s\n", line);
			printf("OK tag=\"%s\" extra_=1 the rest\n", line);
		}
	}
	return (0);
}
