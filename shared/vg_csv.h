/*
 * vg_csv.h - the CSV dialect of vigil-replay and vigil-sim --replay.
 *
 * Format: comma separated, one header row, first column a timestamp,
 * every other column a numeric channel named by its header cell.
 *
 *   timestamp    "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC; a 'T' may replace the
 *                space) or integer epoch seconds (optionally with a
 *                fraction: "1700000000.25").
 *   value        any number strtod accepts in the C locale except hex,
 *                infinities and NaN spellings other than "NaN"/"nan".
 *                An empty cell or NaN is a *missing sample*, not an error.
 *   quoting      a cell may be wrapped in double quotes ("a,b"); a quote
 *                inside a quoted cell is doubled ("").  Line ends: \n or
 *                \r\n.
 *
 * The reader is a pure line splitter: the caller owns the line buffer and
 * the file; vg_csv_split() rewrites the line in place (unquoting) and
 * returns pointers into it, so it allocates nothing.  Cost: O(line length).
 */
#ifndef VG_CSV_H
#define VG_CSV_H

#include <stddef.h>
#include <stdint.h>

#define VG_CSV_MAX_FIELDS 4096 /* columns per row the tools accept */

/* One split row: field i is fields[i][0..len[i]) (also NUL-terminated). */
typedef struct vg_csv_row {
    uint32_t n;       /* fields found */
    uint32_t cap;     /* capacity of field[] and len[] (caller's) */
    char **field;     /* caller-provided array of cap pointers */
    uint32_t *len;    /* caller-provided array of cap lengths */
    uint32_t bad_col; /* on VG_ESYNTAX: 1-based column of the error */
} vg_csv_row;

/* Splits line[0..len) in place (len excludes any trailing "\n"; a trailing
 * "\r" is dropped).  Every field is NUL-terminated inside `line`, whose
 * buffer must have room for len + 1 bytes.  Returns VG_OK, VG_ETOOBIG when
 * there are more than row->cap fields, or VG_ESYNTAX (row->bad_col set) on
 * an unbalanced quote or text after a closing quote. */
int vg_csv_split(char *line, size_t len, vg_csv_row *row);

/* Parses a timestamp cell into epoch microseconds.  VG_ESYNTAX when the
 * cell is not one of the accepted forms or names an impossible date. */
int vg_csv_parse_time(const char *s, size_t len, int64_t *t_us);

/* Parses a value cell.  VG_OK with *v set; VG_ENAN when the cell is empty
 * or NaN (a missing sample; *v = NAN); VG_ESYNTAX when it is not a number
 * (including "inf"). */
int vg_csv_parse_value(const char *s, size_t len, double *v);

/* Days since 1970-01-01 of a proleptic Gregorian date (no range checks). */
int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
