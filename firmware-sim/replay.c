/*
 * replay.c - the --replay CSV reader over the core's vg_csv; see replay.h.
 */
#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "vg_error.h"
#include "vg_model.h"

/* Reads the next non-blank line and splits it into r->fields.  Returns
 * VG_OK (n set), VG_EMISSING at the end of the file, or a split error. */
static int replay__line(sim_csv *r, uint32_t *n)
{
    for (;;) {
        ssize_t len = getline(&r->line, &r->line_cap, r->f);
        if (len < 0)
            return VG_EMISSING;
        r->lineno++;
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        vg_csv_row row = {.cap = VG_BATCH_MAX_CHANNEL + 1, .field = r->fields, .len = r->lens};
        int rc = vg_csv_split(r->line, (size_t)len, &row);
        if (rc != VG_OK) {
            snprintf(r->err, sizeof r->err, "line %llu: %s", (unsigned long long)r->lineno,
                     rc == VG_ETOOBIG ? "too many columns" : "bad quoting");
            return rc;
        }
        *n = row.n;
        return VG_OK;
    }
}

/* Checks and copies header cell i (channel i - 1). */
static int replay__name(sim_csv *r, uint32_t i)
{
    const char *s = r->fields[i];
    if (!vg_valid_channel(s, r->lens[i])) {
        snprintf(r->err, sizeof r->err, "column %u: \"%.40s\" is not a valid channel name", i + 1,
                 s);
        return VG_ESYNTAX;
    }
    for (uint32_t k = 0; k + 1 < i; k++) {
        if (strcmp(r->names[k], s) == 0) {
            snprintf(r->err, sizeof r->err, "column %u: channel \"%s\" appears twice", i + 1, s);
            return VG_ESYNTAX;
        }
    }
    r->names[i - 1] = strdup(s);
    return r->names[i - 1] ? VG_OK : VG_ENOMEM;
}

/* See replay.h. */
int sim_csv_open(sim_csv *r, FILE *f)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    uint32_t n = 0;
    int rc = replay__line(r, &n);
    if (rc == VG_EMISSING) {
        snprintf(r->err, sizeof r->err, "empty file: no header row");
        return VG_ESYNTAX;
    }
    if (rc != VG_OK)
        return rc == VG_ETOOBIG ? VG_ETOOBIG : VG_ESYNTAX;
    if (n < 2) {
        snprintf(r->err, sizeof r->err, "header: a timestamp and at least one channel needed");
        return VG_ESYNTAX;
    }
    r->names = calloc(n - 1, sizeof *r->names);
    if (!r->names)
        return VG_ENOMEM;
    r->nchan = n - 1;
    for (uint32_t i = 1; i < n && rc == VG_OK; i++)
        rc = replay__name(r, i);
    return rc;
}

/* Parses the cells of a split row of n fields. */
static int replay__cells(sim_csv *r, uint32_t n, int64_t *t_us, double *v, bool *present)
{
    if (n != r->nchan + 1) {
        snprintf(r->err, sizeof r->err, "line %llu: %u cells, the header has %u",
                 (unsigned long long)r->lineno, n, r->nchan + 1);
        return VG_ESYNTAX;
    }
    if (vg_csv_parse_time(r->fields[0], r->lens[0], t_us) != VG_OK) {
        snprintf(r->err, sizeof r->err, "line %llu: bad timestamp \"%.40s\"",
                 (unsigned long long)r->lineno, r->fields[0]);
        return VG_ESYNTAX;
    }
    for (uint32_t c = 0; c < r->nchan; c++) {
        int rc = vg_csv_parse_value(r->fields[c + 1], r->lens[c + 1], &v[c]);
        if (rc != VG_OK && rc != VG_ENAN) {
            snprintf(r->err, sizeof r->err, "line %llu, column %u: not a number \"%.40s\"",
                     (unsigned long long)r->lineno, c + 2, r->fields[c + 1]);
            return VG_ESYNTAX;
        }
        present[c] = rc == VG_OK;
    }
    return VG_OK;
}

/* See replay.h. */
int sim_csv_next(sim_csv *r, int64_t *t_us, double *v, bool *present, bool *eof)
{
    uint32_t n = 0;
    *eof = false;
    int rc = replay__line(r, &n);
    if (rc == VG_EMISSING) {
        *eof = true;
        return VG_OK;
    }
    if (rc != VG_OK)
        return VG_ESYNTAX;
    return replay__cells(r, n, t_us, v, present);
}

/* See replay.h. */
void sim_csv_close(sim_csv *r)
{
    for (uint32_t i = 0; r->names && i < r->nchan; i++)
        free(r->names[i]);
    free(r->names);
    free(r->line);
    r->names = NULL;
    r->line = NULL;
}
