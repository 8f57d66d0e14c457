/*
 * mgr_stats.c - counters fed by finished transactions, and the ring of
 * per-minute samples that gives Squid's 5- and 60-minute figures.
 *
 * A period's figure is the difference of two samples (counters only
 * grow), so a sample costs one copy a minute and no request pays for the
 * history.  Medians come from the duration histograms the same way.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "mgr/mgr.h"

const double mgr_bucket_le[MGR_NBUCKETS] = {
#define MGR_B(le)	le,
	MGR_DURATION_BUCKETS
#undef MGR_B
	INFINITY
};

enum mgr_kind
mgr_kind_of(enum result_code code, unsigned status)
{
	unsigned f = result_flags(code);

	if ((f & RF_NOT_MOD) || (status == 304 && (f & RF_HIT)))
		return (MGR_KIND_NM);
	if (f & RF_NEAR)
		return (MGR_KIND_NH);
	if (f & RF_HIT)
		return (MGR_KIND_HIT);
	if (f & RF_MISS)
		return (MGR_KIND_MISS);
	return (MGR_KIND_ALL);
}

const char *
mgr_code_name(enum result_code code, enum result_end end, char *buf,
    size_t len)
{
	(void)snprintf(buf, len, "%s%s", result_name(code),
	    result_end_suffix(end));
	return (buf);
}

static unsigned
mgr_bucket(double d)
{
	unsigned i;

	for (i = 0; i < MGR_NBUCKETS - 1; i++)
		if (d <= mgr_bucket_le[i])
			return (i);
	return (MGR_NBUCKETS - 1);
}

void
mgr_stats_txn(struct mgr_stats *st, const struct mgr_txn_rec *rec)
{
	unsigned f = result_flags(rec->code);
	enum mgr_kind k = mgr_kind_of(rec->code, rec->status);
	double d = rec->duration > 0 ? rec->duration : 0;
	unsigned b = mgr_bucket(d);

	st->c[MGR_C_REQUESTS]++;
	if (f & RF_HIT)
		st->c[MGR_C_HITS]++;
	if (f & RF_MEM)
		st->c[MGR_C_MEM_HITS]++;
	if (f & RF_DENIED)
		st->c[MGR_C_DENIED]++;
	if (rec->errpage)
		st->c[MGR_C_ERRORS]++;
	if (rec->forwarded)
		st->c[MGR_C_FORWARDED]++;
	if (rec->end != RESULT_END_OK)
		st->c[MGR_C_ABORTED]++;
	st->hist[MGR_KIND_ALL][b]++;
	if (k != MGR_KIND_ALL)
		st->hist[k][b]++;
	st->dur_sum += d;
	if (rec->code < RESULT__COUNT && rec->end < RESULT_END__COUNT)
		st->by_code[rec->code][rec->end]++;
}

void
mgr_sample_take(struct mgr_sample *s, const struct mgr_stats *st, double now)
{
	s->t = now;
	memcpy(s->c, st->c, sizeof s->c);
	memcpy(s->hist, st->hist, sizeof s->hist);
}

void
mgr_history_push(struct mgr_history *h, const struct mgr_sample *s)
{
	h->s[h->head] = *s;
	h->head = (h->head + 1) % MGR_HISTORY;
	if (h->n < MGR_HISTORY)
		h->n++;
}

const struct mgr_sample *
mgr_history_ago(const struct mgr_history *h, double now, unsigned minutes)
{
	const struct mgr_sample *s;
	unsigned i;

	if (h->n == 0)
		return (NULL);
	/* Newest first; the first one old enough wins.  Samples are a
	 * minute apart, give or take the loop's lateness: half a second
	 * of slack keeps "5 minutes ago" from slipping to 6. */
	for (i = 1; i <= h->n; i++) {
		s = &h->s[(h->head + MGR_HISTORY - i) % MGR_HISTORY];
		if (now - s->t >= minutes * 60.0 - 0.5)
			return (s);
	}
	return (&h->s[(h->head + MGR_HISTORY - h->n) % MGR_HISTORY]);
}

void
mgr_period(struct mgr_period *p, const struct mgr_sample *from,
    const struct mgr_sample *to)
{
	unsigned i, k;

	p->seconds = to->t - from->t;
	for (i = 0; i < MGR_C__COUNT; i++)
		p->c[i] = to->c[i] - from->c[i];
	for (k = 0; k < MGR_KIND__COUNT; k++)
		for (i = 0; i < MGR_NBUCKETS; i++)
			p->hist[k][i] = to->hist[k][i] - from->hist[k][i];
}

double
mgr_ratio(uint64_t part, uint64_t whole)
{
	return (whole == 0 ? 0.0 : 100.0 * (double)part / (double)whole);
}

double
mgr_hist_median(const uint64_t hist[MGR_NBUCKETS])
{
	uint64_t total = 0, seen = 0;
	double half, lo;
	unsigned i;

	for (i = 0; i < MGR_NBUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return (0);
	half = (double)total / 2.0;
	for (i = 0; i < MGR_NBUCKETS; i++) {
		if ((double)(seen + hist[i]) >= half && hist[i] > 0) {
			if (i == MGR_NBUCKETS - 1)
				return (mgr_bucket_le[MGR_NBUCKETS - 2]);
			lo = i == 0 ? 0.0 : mgr_bucket_le[i - 1];
			return (lo + (mgr_bucket_le[i] - lo) *
			    (half - (double)seen) / (double)hist[i]);
		}
		seen += hist[i];
	}
	return (mgr_bucket_le[MGR_NBUCKETS - 2]);
}

/* FNV-1a: a cheap filter before the string compare. */
static uint32_t
mgr_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return (h);
}

void
mgr_top_add(struct mgr_top *t, const char *key, size_t len, uint64_t bytes)
{
	unsigned i, min = 0;
	uint32_t h;

	if (len >= MGR_TOP_KEY)
		len = MGR_TOP_KEY - 1;
	h = mgr_hash(key, len);
	for (i = 0; i < t->n; i++) {
		if (t->v[i].hash == h && strlen(t->v[i].key) == len &&
		    memcmp(t->v[i].key, key, len) == 0) {
			t->v[i].n++;
			t->v[i].bytes += bytes;
			return;
		}
		if (t->v[i].n < t->v[min].n)
			min = i;
	}
	if (t->n < MGR_TOP_SLOTS) {
		i = t->n++;
		t->v[i].n = 0;
		t->v[i].over = 0;
	} else {
		i = min;
		t->v[i].over = t->v[i].n;
	}
	t->v[i].hash = h;
	memcpy(t->v[i].key, key, len);
	t->v[i].key[len] = '\0';
	t->v[i].n++;
	t->v[i].bytes = bytes;
}

unsigned
mgr_top_sorted(const struct mgr_top *t, unsigned *idx, unsigned max)
{
	unsigned i, j, k, n = 0;

	/* Insertion into a short sorted prefix: 64 slots at most. */
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < n && t->v[idx[j]].n >= t->v[i].n; j++)
			continue;
		if (j >= max)
			continue;
		if (n < max)
			n++;
		for (k = n - 1; k > j; k--)
			idx[k] = idx[k - 1];
		idx[j] = i;
	}
	return (n);
}
