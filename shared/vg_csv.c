/*
 * vg_csv.c - in-place CSV line splitting and cell parsing (see vg_csv.h).
 *
 * Splitting walks the line once, copying unquoted bytes down over the quote
 * characters it removes, so a row costs O(length) and no allocation.  Cell
 * parsers are strict: a cell is accepted only if the whole cell parses.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vg_csv.h"
#include "vg_error.h"

/* Copies one quoted cell starting after its opening quote at *ip into
 * line[*op...], unescaping "".  Leaves *ip after the closing quote.
 * VG_ESYNTAX when the quote is never closed. */
static int csv__quoted(char *line, size_t len, size_t *ip, size_t *op)
{
    size_t i = *ip, o = *op;
    for (;;) {
        if (i >= len)
            return VG_ESYNTAX;
        if (line[i] == '"') {
            if (i + 1 < len && line[i + 1] == '"') {
                line[o++] = '"';
                i += 2;
                continue;
            }
            *ip = i + 1;
            *op = o;
            return VG_OK;
        }
        line[o++] = line[i++];
    }
}

/* Adds field line[start..end) to row and NUL-terminates it. */
static int csv__emit(vg_csv_row *row, char *line, size_t start, size_t end)
{
    if (row->n >= row->cap)
        return VG_ETOOBIG;
    line[end] = '\0';
    row->field[row->n] = line + start;
    row->len[row->n] = (uint32_t)(end - start);
    row->n++;
    return VG_OK;
}

int vg_csv_split(char *line, size_t len, vg_csv_row *row)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    row->n = 0;
    row->bad_col = 0;
    size_t i = 0, o = 0;
    for (;;) {
        size_t start = o;
        if (i < len && line[i] == '"') {
            i++;
            if (csv__quoted(line, len, &i, &o) != VG_OK || (i < len && line[i] != ',')) {
                row->bad_col = row->n + 1;
                return VG_ESYNTAX;
            }
        } else {
            while (i < len && line[i] != ',') {
                if (line[i] == '"') {
                    row->bad_col = row->n + 1;
                    return VG_ESYNTAX;
                }
                line[o++] = line[i++];
            }
        }
        /* The terminator goes where the ',' (or the end) was; o <= i. */
        bool more = i < len;
        int rc = csv__emit(row, line, start, o);
        if (rc != VG_OK)
            return rc;
        if (!more)
            return VG_OK;
        i++; /* skip ',' */
        o++; /* leave room for the NUL just written */
    }
}

int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March so the leap day is last. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n decimal digits at s; -1 if any is not a digit. */
static int64_t csv__digits(const char *s, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool csv__leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Microseconds from a fraction ".f{1,6}" at s[0..len); -1 when malformed. */
static int64_t csv__fraction_us(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    if (s[0] != '.' || len < 2 || len > 7)
        return -1;
    int64_t us = csv__digits(s + 1, (int)(len - 1));
    if (us < 0)
        return -1;
    for (size_t k = len - 1; k < 6; k++)
        us *= 10;
    return us;
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" */
static int csv__parse_datetime(const char *s, size_t len, int64_t *t_us)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
        s[16] != ':')
        return VG_ESYNTAX;
    int64_t y = csv__digits(s, 4), mo = csv__digits(s + 5, 2), d = csv__digits(s + 8, 2);
    int64_t h = csv__digits(s + 11, 2), mi = csv__digits(s + 14, 2), sec = csv__digits(s + 17, 2);
    int64_t frac = csv__fraction_us(s + 19, len - 19);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 60 || frac < 0)
        return VG_ESYNTAX;
    unsigned dim = mdays[mo - 1] + (mo == 2 && csv__leap(y));
    if ((unsigned)d > dim)
        return VG_ESYNTAX;
    int64_t days = vg_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *t_us = ((days * 24 + h) * 60 + mi) * 60 * 1000000 + sec * 1000000 + frac;
    return VG_OK;
}

/* Integer epoch seconds with an optional fraction, e.g. "1700000000.5". */
static int csv__parse_epoch(const char *s, size_t len, int64_t *t_us)
{
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    size_t int_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t ndig = i - int_start;
    if (ndig == 0 || ndig > 12)
        return VG_ESYNTAX;
    int64_t sec = csv__digits(s + int_start, (int)ndig);
    int64_t frac = csv__fraction_us(s + i, len - i);
    if (frac < 0)
        return VG_ESYNTAX;
    int64_t us = sec * 1000000 + frac;
    *t_us = neg ? -us : us;
    return VG_OK;
}

int vg_csv_parse_time(const char *s, size_t len, int64_t *t_us)
{
    if (len >= 19 && s[4] == '-')
        return csv__parse_datetime(s, len, t_us);
    return csv__parse_epoch(s, len, t_us);
}

/* True when s[0..len) spells NaN in a form we accept as "missing". */
static bool csv__is_nan(const char *s, size_t len)
{
    return len == 3 && (s[0] == 'N' || s[0] == 'n') && (s[1] == 'a' || s[1] == 'A') &&
           (s[2] == 'N' || s[2] == 'n');
}

int vg_csv_parse_value(const char *s, size_t len, double *v)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || csv__is_nan(s, len)) {
        *v = NAN;
        return VG_ENAN;
    }
    char buf[64];
    if (len >= sizeof(buf))
        return VG_ESYNTAX;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        /* Digits, sign, point and exponent only: no hex, inf, or nan(...). */
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return VG_ESYNTAX;
        buf[i] = c;
    }
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + len || !isfinite(x))
        return VG_ESYNTAX;
    *v = x;
    return VG_OK;
}
