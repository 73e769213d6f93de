/*
 * bench_export.c - vigil-bench-export: the retrain benchmark's data and
 * results in a form the DuckDB baseline (bench/duckdb_quantiles.mjs) reads.
 *
 *   vigil-bench-export samples --warehouse FILE --out FILE.csv [--days D]
 *       writes every sample retrain would train on as CSV with header
 *       "d,c,t,v" (device name, channel name, epoch microseconds, value
 *       printed with %.17g so it reads back bit-identical), devices and
 *       channels in name order, each channel in time order.  The samples
 *       are read with retrain's own reader (vb_series_load) over retrain's
 *       default range: [newest t_last + 1 - D days, newest t_last + 1),
 *       D = 28.  Labelled incidents and trips are NOT excluded; their
 *       number is reported on stderr so a mismatch is visible.
 *   vigil-bench-export model FILE.model...
 *       decodes unsigned models written by `vigil-batch retrain` without
 *       --sign-key and prints one line per channel:
 *       "device channel loc scale z_thr rate_max ewma_l cusum_h stuck_n"
 *       (%.17g).
 *
 * Exit status 0 on success, 1 on a failure (message on stderr), 2 on a bad
 * command line.  Benchmark tool only: never installed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "vg_error.h"
#include "vg_msg.h"
#include "warehouse.h"

#define US_PER_DAY 86400000000LL

/* A device or channel: warehouse id and name. */
typedef struct ex_name {
    int64_t id;
    char name[64];
} ex_name;

/* Reads "SELECT id, name ... ORDER BY name" into a new array *out of *n
 * entries (caller frees).  VG_OK, VG_EIO or VG_ENOMEM. */
static int ex_names(vb_wh *w, const char *sql, ex_name **out, size_t *n)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 16;
    *n = 0;
    *out = malloc(cap * sizeof **out);
    if (!*out)
        return VG_ENOMEM;
    if (sqlite3_prepare_v2(vb_wh_db(w), sql, -1, &s, NULL) != SQLITE_OK)
        return VG_EIO;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (*n == cap) {
            ex_name *p = realloc(*out, 2 * cap * sizeof *p);
            if (!p) {
                sqlite3_finalize(s);
                return VG_ENOMEM;
            }
            *out = p;
            cap *= 2;
        }
        (*out)[*n].id = sqlite3_column_int64(s, 0);
        snprintf((*out)[*n].name, sizeof(*out)[*n].name, "%s",
                 (const char *)sqlite3_column_text(s, 1));
        (*n)++;
    }
    return sqlite3_finalize(s) == SQLITE_OK ? VG_OK : VG_EIO;
}

/* Writes the samples of every (device, channel) in [from, to) to f as
 * CSV rows; adds the row count to *rows.  VG_OK or the reader's error. */
static int ex_write(vb_wh *w, const ex_name *dev, size_t nd, const ex_name *ch, size_t nc,
                    int64_t from, int64_t to, FILE *f, uint64_t *rows)
{
    vb_series s = {0};
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < nd; i++)
        for (size_t j = 0; rc == VG_OK && j < nc; j++) {
            rc = vb_series_load(w, dev[i].id, ch[j].id, from, to, 0, &s);
            for (size_t k = 0; rc == VG_OK && k < s.n; k++)
                fprintf(f, "%s,%s,%lld,%.17g\n", dev[i].name, ch[j].name, (long long)s.t[k],
                        s.v[k]);
            *rows += s.n;
        }
    vb_series_free(&s);
    return rc;
}

/* samples mode: argv = --warehouse FILE --out FILE [--days D]. */
static int ex_samples(int argc, char **argv)
{
    const char *wh = NULL, *out = NULL;
    double days = 28;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--warehouse") == 0)
            wh = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else if (strcmp(argv[i], "--days") == 0)
            days = strtod(argv[i + 1], NULL);
        else
            return 2;
    }
    if (!wh || !out || argc % 2 || !(days > 0))
        return 2;
    char err[VB_WH_ERRMAX];
    vb_wh_opts wo = {.readonly = 1};
    vb_wh *w = NULL;
    if (vb_wh_open(wh, &wo, &w, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-bench-export: %s: %s\n", wh, err);
        return 1;
    }
    int64_t to = vb_wh_scalar(w, "SELECT coalesce(max(t_last) + 1, 0) FROM samples");
    int64_t from = to - (int64_t)(days * (double)US_PER_DAY);
    int64_t labels = vb_wh_scalar(w, "SELECT count(*) FROM labels");
    int64_t trips = vb_wh_scalar(w, "SELECT count(*) FROM trips");
    ex_name *dev = NULL, *ch = NULL;
    size_t nd = 0, nc = 0;
    uint64_t rows = 0;
    int rc = ex_names(w, "SELECT id, name FROM devices ORDER BY name", &dev, &nd);
    if (rc == VG_OK)
        rc = ex_names(w, "SELECT id, name FROM channels ORDER BY name", &ch, &nc);
    FILE *f = rc == VG_OK ? fopen(out, "w") : NULL;
    if (rc == VG_OK && !f)
        rc = VG_EIO;
    if (rc == VG_OK) {
        static char buf[1 << 20];
        setvbuf(f, buf, _IOFBF, sizeof buf);
        fputs("d,c,t,v\n", f);
        rc = ex_write(w, dev, nd, ch, nc, from, to, f, &rows);
    }
    if (f && fclose(f) != 0 && rc == VG_OK)
        rc = VG_EIO;
    if (rc == VG_OK)
        fprintf(stderr,
                "vigil-bench-export: %llu samples of %zu devices x %zu channels in "
                "[%lld, %lld) us; not excluded: %lld labels, %lld trips\n",
                (unsigned long long)rows, nd, nc, (long long)from, (long long)to, (long long)labels,
                (long long)trips);
    else
        fprintf(stderr, "vigil-bench-export: %s: %s\n", out, vg_strerror(rc));
    free(dev);
    free(ch);
    vb_wh_close(w);
    return rc == VG_OK ? 0 : 1;
}

/* model mode: prints every channel of each unsigned model file. */
static int ex_models(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    static vg_model m;
    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        int rc = f ? vg_model_decode(buf, len, &m) : VG_EIO;
        if (rc != VG_OK) {
            fprintf(stderr, "vigil-bench-export: %s: %s\n", argv[i], vg_strerror(rc));
            return 1;
        }
        for (uint32_t k = 0; k < m.nchan; k++) {
            const vg_chan_model *c = &m.chan[k];
            printf("%s %s %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n", m.device, c->name, c->loc,
                   c->scale, c->z_thr, c->rate_max, c->ewma_l, c->cusum_h, c->stuck_n);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "samples") == 0)
        rc = ex_samples(argc - 2, argv + 2);
    else if (argc >= 3 && strcmp(argv[1], "model") == 0)
        rc = ex_models(argc - 2, argv + 2);
    if (rc == 2)
        fprintf(stderr, "usage: vigil-bench-export samples --warehouse FILE --out FILE.csv "
                        "[--days D]\n       vigil-bench-export model FILE.model...\n");
    return rc;
}
