/*
 * replay.h - reads a vigil-replay CSV file row by row for --replay.
 *
 * The dialect is the core's (vg_csv.h): a header row whose first cell names
 * the timestamp column and whose other cells name the channels (each must be
 * a valid channel name), then one row per instant: a timestamp and one
 * numeric cell per channel, an empty or NaN cell being a missing sample.
 * Rows must have exactly as many cells as the header.  Timestamps need not
 * be increasing (they are published as recorded), but pacing waits only for
 * rows later than the latest seen.
 *
 * Cost: O(line length) per row; memory is one line buffer (grown by
 * getline) plus the header names, allocated by sim_csv_open().
 */
#ifndef SIM_REPLAY_H
#define SIM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vg_csv.h"
#include "vg_msg.h"

#define SIM_CSV_ERR_MAX 160 /* bytes for an error message */

typedef struct sim_csv {
    FILE *f;                                /* the file (borrowed) */
    char *line;                             /* getline buffer (owned) */
    size_t line_cap;                        /* its capacity */
    uint64_t lineno;                        /* 1-based number of the last line read */
    uint32_t nchan;                         /* channel columns */
    char **names;                           /* channel names, [nchan] (owned) */
    char *fields[VG_BATCH_MAX_CHANNEL + 1]; /* split storage */
    uint32_t lens[VG_BATCH_MAX_CHANNEL + 1];
    char err[SIM_CSV_ERR_MAX]; /* the last error, for messages */
} sim_csv;

/* Reads the header of f (borrowed; must stay open).  VG_OK; VG_ESYNTAX
 * (empty file, bad channel name, duplicate name, fewer than 2 columns),
 * VG_ETOOBIG (more than VG_BATCH_MAX_CHANNEL channels) or VG_ENOMEM, with
 * r->err describing it.  Call sim_csv_close() in every case. */
int sim_csv_open(sim_csv *r, FILE *f);

/* Reads the next row: *t_us, v[0..nchan) and present[0..nchan).  VG_OK, or
 * VG_OK with *eof true at the end, or VG_ESYNTAX with r->err set.  Blank
 * lines are skipped. */
int sim_csv_next(sim_csv *r, int64_t *t_us, double *v, bool *present, bool *eof);

/* Frees what the reader owns (not the file). */
void sim_csv_close(sim_csv *r);

#endif
