/*
 * progress.h - progress of a long stage on stderr, only on a terminal.
 *
 * When stderr is a TTY, vb_progress_step redraws one line - "label
 * done/total  rate/s  ETA" - at most 10 times a second; otherwise it
 * prints nothing at all, so logs stay quiet.  Cost per step: one clock
 * read; a redraw is one fprintf.
 */
#ifndef VB_PROGRESS_H
#define VB_PROGRESS_H

#include <stdint.h>

typedef struct vb_progress {
    const char *label; /* stage name (borrowed) */
    const char *unit;  /* what is counted, e.g. "devices" (borrowed) */
    uint64_t total;    /* expected count; 0 = unknown */
    uint64_t done;     /* count so far */
    double t0;         /* start, monotonic seconds */
    double last;       /* last redraw */
    int tty;           /* 1 when stderr is a terminal (or forced) */
} vb_progress;

/* Starts a stage.  VB_PROGRESS=1 in the environment forces the live line
 * (for tests), VB_PROGRESS=0 suppresses it. */
void vb_progress_start(vb_progress *p, const char *label, const char *unit, uint64_t total);

/* Sets the count to `done` and redraws when due. */
void vb_progress_step(vb_progress *p, uint64_t done);

/* Ends the stage: the final line on a terminal, nothing otherwise. */
void vb_progress_end(vb_progress *p);

#endif
