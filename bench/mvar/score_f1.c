/*
 * score_f1.c - vigil-mvar-score: per-row F1 of a detector's output against
 * the corpus labels (bench/mvar/gen_pump.c).
 *
 *   vigil-mvar-score --manifest FILE --data DIR --res DIR --det NAME
 *                    [--part tune|held|all]
 *
 * For every series of the part: DIR(data)/<name>.labels (one "anomaly
 * changepoint" line per row) and DIR(res)/<name>.<NAME>.csv (a header, then
 * timestamp,anomaly_score,alert,...; one row per input row).  The training
 * rows (the manifest's probation column) are not scored.  Rows of every
 * series of the part are pooled.  Two lines are printed:
 *
 *   NAME PART alert  thr f1 precision recall far mar rows
 *   NAME PART swept  thr f1 precision recall far mar rows
 *
 * "alert" scores the alert column as it is; "swept" the anomaly_score at
 * the one threshold that maximises F1 over the part (an upper bound the
 * alert column is compared with).  FAR = FP / (FP + TN) and MAR =
 * FN / (FN + TP), as in the usual multivariate benchmark reports.
 * Cost: O(R log R) for R pooled rows (the sort of the sweep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    double score; /* anomaly_score */
    int alert;    /* alert column */
    int label;    /* anomaly label */
} row;

typedef struct pool {
    row *r;
    size_t n, cap;
} pool;

static int sf__push(pool *p, row x)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? 2 * p->cap : 4096;
        row *q = realloc(p->r, c * sizeof *q);
        if (!q)
            return -1;
        p->r = q;
        p->cap = c;
    }
    p->r[p->n++] = x;
    return 0;
}

/* Adds series `name`'s scored rows (after `train`) to the pool. */
static int sf__series(pool *p, const char *data, const char *res, const char *det, const char *name,
                      long train)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/%s.labels", data, name);
    FILE *l = fopen(path, "r");
    snprintf(path, sizeof path, "%s/%s.%s.csv", res, name, det);
    FILE *o = fopen(path, "r");
    int rc = l && o && fgets(line, sizeof line, o) ? 0 : -1; /* skip the header */
    for (long i = 0; rc == 0 && fgets(line, sizeof line, o); i++) {
        int an, cp;
        row x;
        char *c1 = strchr(line, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2 || fscanf(l, "%d %d", &an, &cp) != 2) {
            rc = -1;
            break;
        }
        x.score = strtod(c1 + 1, NULL);
        x.alert = atoi(c2 + 1);
        x.label = an;
        if (i >= train)
            rc = sf__push(p, x);
    }
    if (rc)
        fprintf(stderr, "vigil-mvar-score: %s: missing or short output/labels\n", name);
    if (l)
        fclose(l);
    if (o)
        fclose(o);
    return rc;
}

static void sf__print(const char *det, const char *part, const char *what, double thr, long tp,
                      long fp, long fn, long tn)
{
    double prec = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    double rec = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
    double far = fp + tn ? (double)fp / (double)(fp + tn) : 0;
    double mar = fn + tp ? (double)fn / (double)(fn + tp) : 0;
    printf("%-12s %-4s %-5s %.4f %.3f %.3f %.3f %.4f %.3f %ld\n", det, part, what, thr, f1, prec,
           rec, far, mar, tp + fp + fn + tn);
}

static int sf__cmp(const void *a, const void *b)
{
    double x = ((const row *)a)->score, y = ((const row *)b)->score;
    return (x < y) - (x > y); /* descending */
}

/* Best-F1 threshold over the pooled scores. */
static void sf__sweep(pool *p, const char *det, const char *part)
{
    long pos = 0;
    for (size_t i = 0; i < p->n; i++)
        pos += p->r[i].label;
    qsort(p->r, p->n, sizeof *p->r, sf__cmp);
    long tp = 0, fp = 0, btp = 0, bfp = 0;
    double best = -1, bthr = 1;
    for (size_t i = 0; i < p->n; i++) {
        tp += p->r[i].label;
        fp += !p->r[i].label;
        if (i + 1 < p->n && p->r[i + 1].score == p->r[i].score)
            continue;
        double f1 = 2.0 * (double)tp / (double)(tp + fp + pos);
        if (f1 > best) {
            best = f1;
            bthr = p->r[i].score;
            btp = tp;
            bfp = fp;
        }
    }
    long neg = (long)p->n - pos;
    sf__print(det, part, "swept", bthr, btp, bfp, pos - btp, neg - bfp);
}

int main(int argc, char **argv)
{
    const char *man = NULL, *data = NULL, *res = NULL, *det = NULL, *part = "all";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--manifest"))
            man = v;
        else if (!strcmp(k, "--data"))
            data = v;
        else if (!strcmp(k, "--res"))
            res = v;
        else if (!strcmp(k, "--det"))
            det = v;
        else if (!strcmp(k, "--part"))
            part = v;
    }
    FILE *m = man ? fopen(man, "r") : NULL;
    if (!m || !data || !res || !det) {
        fprintf(stderr, "usage: vigil-mvar-score --manifest F --data D --res D --det NAME "
                        "[--part tune|held|all]\n");
        return 2;
    }
    pool p = {0};
    char line[4096], name[256], pt[16];
    long rows, train;
    while (fgets(line, sizeof line, m)) {
        if (sscanf(line, "%255[^,],%15[^,],%ld,%ld", name, pt, &rows, &train) != 4)
            continue;
        if (strcmp(part, "all") && strcmp(part, pt))
            continue;
        if (sf__series(&p, data, res, det, name, train) != 0)
            return 1;
    }
    fclose(m);
    long tp = 0, fp = 0, fn = 0, tn = 0;
    for (size_t i = 0; i < p.n; i++) {
        const row *x = &p.r[i];
        tp += x->alert && x->label;
        fp += x->alert && !x->label;
        fn += !x->alert && x->label;
        tn += !x->alert && !x->label;
    }
    sf__print(det, part, "alert", 0.5, tp, fp, fn, tn);
    sf__sweep(&p, det, part);
    free(p.r);
    return 0;
}
