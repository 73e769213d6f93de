/*
 * fx_pipeline.h - the fixture shared by the vgd_pipeline unit tests
 * (test_vgd_pipeline.c, test_vgd_pipeline_mvar.c): a pipeline on a real
 * spool in a fresh directory under /tmp, a real spool writer, model
 * manager and local action (a sysfs write to a temp file), and a sink
 * that records what the pipeline publishes (alerts decoded).  Each test
 * owns its fixture: pfx_new ... pfx_free.
 */
#ifndef VG_FX_PIPELINE_H
#define VG_FX_PIPELINE_H
#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"
#include "vg_conf.h"

/* What the pipeline published (the sink of every fixture). */
struct rec {
    int n;           /* publishes */
    char last[32];   /* last suffix */
    size_t last_len; /* last payload length */
    int last_retain; /* last retain flag */
    int shutdowns;   /* non-empty cmd/shutdown */
    int clears;      /* empty retained cmd/shutdown */
    int mv_raised;   /* decoded alerts of channel "mvar", raised */
    int mv_cleared;  /* ... and cleared */
    int mv_bad;      /* "mvar" alerts with another detector or device */
    vg_alert mv;     /* the last "mvar" alert */
    char edges[128]; /* every alert edge in order: "chan+ " raised, "chan- " cleared */
};

/* One pipeline and everything it borrows; dir is removed by pfx_free. */
struct fixture {
    char dir[64];
    char gpio[96];
    char key[96]; /* trust key file, "" = none (every bundle refused) */
    vg_conf conf;
    vg_spool *spool;
    vgd_writer *w;
    vgd_model_mgr mm;
    vgd_action act;
    vgd_metrics met;
    struct rec rec;
    vgd_pipeline *p;
    uint64_t mv_seq; /* last seq fed by mv_feed */
    uint32_t mv_row; /* next row index of mv_row */
};

/* A fixture in a new directory with channel "temp" (hi 95, trips) and
 * unknown channels refused, its pipeline open; CUnit-fatal on failure. */
struct fixture *pfx_new(void);
/* Closes the pipeline and removes the directory; frees f. */
void pfx_free(struct fixture *f);
/* Opens spool, writer, model manager, action and pipeline on f->dir
 * (again after pfx_close: a restart on the same data). */
void pfx_open(struct fixture *f);
/* Closes what pfx_open opened (the directory stays). */
void pfx_close(struct fixture *f);
/* Encodes and feeds one single-channel batch of n <= 16 values; returns
 * vgd_pipeline_samples' status. */
int pfx_feed(struct fixture *f, uint64_t seq, const char *chan, const double *v, uint32_t n);
/* Trip records in the spool, after the writer's commit. */
uint64_t pfx_trip_records(struct fixture *f);
/* Decodes the latch file into *sd; VG_EMISSING when there is none. */
int pfx_read_latch(const struct fixture *f, vg_shutdown *sd);
#endif
