/*-------------------------------------------------------------------------
 *
 * checker_micro.c
 *	  Micro-benchmark of the deciding core (src/core/checker*.c), no server:
 *	  nanoseconds per tg_check() on the rows the SQL benchmarks use.
 *
 *	  Row sets (generated here with a fixed seed, shaped like the SQL):
 *	    insert   bench/insert.sh's real-looking tenants ("Blue Harbor
 *	             Robotics", "blue-harbor-robotics-rstv", "jane.doe123@proton.me")
 *	    checker  bench/checker.sh's mix (7.5 % test data, some accents)
 *	    row      one fixed row, the brief's example
 *
 *	  Built like test/unit (see bench/checker_micro.sh):
 *	    gcc -O2 -Isrc/core src/core/checker*.c bench/checker_micro.c $(icu libs)
 *	  usage: checker_micro [insert|checker|row] [rows] [rounds]
 *	  Prints the median of the rounds, in ns per check, and how many
 *	  rows were flagged (a check on the row set staying what it was).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checker.h"

/* One row of three fields. */
typedef struct Row
{
	char	   *f[TG_NUM_FIELDS];
} Row;

static unsigned long long rng_state = 42;

/* A small deterministic random number generator (xorshift64*). */
static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned) ((rng_state * 2685821657736338717ULL) >> 33) % n;
}

/* strdup of a formatted string. */
static char *
fmt(const char *f, const char *a, const char *b, const char *c)
{
	char		buf[512];

	snprintf(buf, sizeof(buf), f, a, b, c);
	return strdup(buf);
}

/* bench/insert.sh's rows. */
static void
gen_insert(Row *rows, int n)
{
	static const char *const p[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli",
		"Vandelay", "Stark", "Wayne", "Wonka", "Cyberdyne", "Soylent", "Tyrell",
		"Gringotts", "Oscorp", "Monarch", "Nakatomi", "Pied Piper", "Dunder Mifflin",
	"Blue Harbor", "Northwind", "Contoso", "Fabrikam", "Bluth", "Prestige", "Sterling"};
	static const char *const s[] = {"Logistics", "Partners", "Foods", "Analytics",
		"Robotics", "Media", "Health", "Energy", "Studios", "Holdings", "Labs", "Bakery",
	"Legal", "Dental", "Travel", "Outfitters", "Capital", "Systems"};
	static const char *const l[] = {"info", "hello", "office", "admin", "jane.doe", "ops", "sales"};
	static const char *const d[] = {"gmail.com", "outlook.com", "acme.io", "globex.com",
	"proton.me", "yahoo.co.uk", "company.de"};

	for (int i = 0; i < n; i++)
	{
		char		num[16];
		char		suf[16];
		char	   *name = fmt("%s %s", p[rnd(25)], s[rnd(18)], NULL);
		char	   *slug = strdup(name);

		snprintf(num, sizeof(num), "%d", i + 1);
		for (int k = 0; num[k]; k++)
			suf[k] = "rstvwxyzkm"[num[k] - '0'];
		suf[strlen(num)] = '\0';
		for (char *c = slug; *c; c++)
			*c = (*c == ' ') ? '-' : (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;
		rows[i].f[TG_FIELD_NAME] = name;
		rows[i].f[TG_FIELD_SUBDOMAIN] = fmt("%s-%s", slug, suf, NULL);
		rows[i].f[TG_FIELD_EMAIL] = fmt("%s%s@%s", l[rnd(7)], num, d[rnd(7)]);
		free(slug);
	}
}

/* bench/checker.sh's rows. */
static void
gen_checker(Row *rows, int n)
{
	static const char *const p[] = {"Acme", "Globex", "Initech", "Blue", "Bright",
		"North", "Silver", "Green", "Summit", "Harbor", "Contest", "Latest", "Pioneer",
	"Granite", "Maple"};
	static const char *const s[] = {"Labs", "Foods", "Consulting", "Partners", "Studio",
	"Logistics", "Bakery", "Dental", "Motors", "Design", "Media", "Analytics", "Builders"};
	static const char *const t[] = {"Test Company", "Demo Org", "QA Tenant", "Sample Co", "Fake Ltd"};
	static const char *const a[] = {"M\xc3\xbcller", "Caf\xc3\xa9", "\xc3\x98rsted",
	"Soci\xc3\xa9t\xc3\xa9", "\xc5\x81\xc3\xb3\xc5\xba"};
	static const char *const g[] = {"Inc", "LLC", "Ltd", "GmbH", "Co"};
	static const char *const l[] = {"info", "jane.smith", "ops", "hello", "sales+eu"};

	for (int j = 0; j < n; j++)
	{
		int			i = j + 1;
		const char *pp = p[i % 15];
		const char *ss = s[(i / 15) % 13];
		char		num[16];
		char		buf[512];
		char		lp[64], ls[64];

		snprintf(num, sizeof(num), "%d", i);
		snprintf(lp, sizeof(lp), "%s", pp);
		snprintf(ls, sizeof(ls), "%s", ss);
		for (char *c = lp; *c; c++)
			*c = (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;
		for (char *c = ls; *c; c++)
			*c = (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;
		if (i % 20 == 0)
			rows[j].f[0] = fmt("%s %s", t[i % 5], num, NULL);
		else if (i % 50 == 1)
			rows[j].f[0] = fmt("%s %s", a[i % 5], ss, NULL);
		else if (i % 3 == 0)
			rows[j].f[0] = fmt("%s %s %s", pp, ss, g[i % 5]);
		else
			rows[j].f[0] = fmt("%s %s", pp, ss, NULL);
		rows[j].f[1] = fmt("%s-%s-%s", lp, ls, num);
		if (i % 40 == 3)
			snprintf(buf, sizeof(buf), "%s@mailinator.com", l[i % 5]);
		else if (i % 7 == 0)
			snprintf(buf, sizeof(buf), "%s@gmail.com", l[i % 5]);
		else
			snprintf(buf, sizeof(buf), "%s@%s%s.com", l[i % 5], lp, ls);
		rows[j].f[2] = strdup(buf);
	}
}

/* Nanoseconds now. */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* qsort comparator for doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	const char *set = argc > 1 ? argv[1] : "insert";
	int			n = argc > 2 ? atoi(argv[2]) : 200000;
	int			rounds = argc > 3 ? atoi(argv[3]) : 7;
	Row		   *rows = calloc((size_t) n, sizeof(Row));
	TgText	   *fields = calloc((size_t) n * TG_NUM_FIELDS, sizeof(TgText));
	double	   *ns = calloc((size_t) rounds, sizeof(double));
	const TgRules *rules = tg_rules_new();	/* like a backend: a compiled copy */
	TgVerdict	v;
	long		flagged = 0;

	if (n <= 0 || rounds <= 0 || rows == NULL || fields == NULL || ns == NULL)
		return 2;
	if (strcmp(set, "insert") == 0)
		gen_insert(rows, n);
	else if (strcmp(set, "checker") == 0)
		gen_checker(rows, n);
	else
	{
		for (int i = 0; i < n; i++)
		{
			rows[i].f[0] = "Blue Harbor Robotics";
			rows[i].f[1] = "blue-harbor-robotics-rstv";
			rows[i].f[2] = "jane.doe123@proton.me";
		}
	}
	for (int i = 0; i < n; i++)
		for (int f = 0; f < TG_NUM_FIELDS; f++)
		{
			fields[i * TG_NUM_FIELDS + f].data = rows[i].f[f];
			fields[i * TG_NUM_FIELDS + f].len = strlen(rows[i].f[f]);
		}

	/* warm up: first-use tables, caches */
	for (int i = 0; i < n && i < 1000; i++)
		tg_check(rules, &fields[i * TG_NUM_FIELDS], &v);

	for (int r = 0; r < rounds; r++)
	{
		double		t0 = now_ns();
		long		fl = 0;

		for (int i = 0; i < n; i++)
			fl += tg_check(rules, &fields[i * TG_NUM_FIELDS], &v);
		ns[r] = (now_ns() - t0) / n;
		flagged = fl;
	}
	qsort(ns, (size_t) rounds, sizeof(double), cmp_double);
	printf("%s: %d rows, %d rounds: median %.1f ns per check (min %.1f, max %.1f), %ld flagged\n",
		   set, n, rounds, ns[rounds / 2], ns[0], ns[rounds - 1], flagged);
	return 0;
}
