/*
 * report.h - `vigil-batch report`: one self-contained HTML page and a JSON
 * summary of the fleet's models, from the warehouse.
 *
 * Per device: the published model (new) and the one before it (old), the
 * held-back candidates with their reasons, and per channel an inline SVG
 * chart of the most recent data (min/max per pixel column) with the old and
 * new robust-z alert bands (loc +- z_thr * scale), the alerts (dots) and
 * trips (red lines) in that window, and a table of what changed and why
 * (parameters old -> new, training range, backtest figures).  No scripts,
 * fonts or images are loaded: the page is one file with no external
 * resources.
 *
 * Cost: per channel one read of the recent window and O(window) to
 * downsample it; output size O(devices x channels x chart width).
 */
#ifndef VB_REPORT_H
#define VB_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "warehouse.h"

typedef struct vb_report_opts {
    const char *html_path; /* output page */
    const char *json_path; /* JSON summary (NULL: <html>.json) */
    double recent_hours;   /* chart window ending at each channel's newest sample (24) */
    uint32_t width;        /* chart columns in pixels (720) */
} vb_report_opts;

/* Writes the report.  On failure a message in err. */
int vb_report_write(vb_wh *w, const vb_report_opts *o, char *err, size_t errlen);

#endif
