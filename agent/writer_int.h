/*
 * writer_int.h - internal to the spool writer (agent/writer*.c): the
 * writer's state and the sequence / gap bookkeeping shared by its parts.
 *
 * writer.c holds the thread (queue, gathering, groups, commits) and the
 * public calls; writer_gap.c the committed mark and the gaps of skipped
 * sample seqs (see writer.h, "Gaps").  Not part of the interface: nothing
 * outside these files includes it.
 *
 * Costs: each gap call and the mark are O(VGD_WRITER_GAPS) at most (a scan
 * of 64 entries), under the queue lock.
 */
#ifndef VGD_WRITER_INT_H
#define VGD_WRITER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "writer.h"

/* One queued record. */
struct wrec {
    struct wrec *next;
    int kind;
    uint64_t seq, model_version;
    int64_t rx_us;
    size_t len;
    uint8_t payload[];
};

/* A range of sample seqs skipped by the device, accepted when they come. */
struct wgap {
    uint64_t lo, hi; /* inclusive */
    int64_t since;   /* monotonic us when opened */
};

/* A growable array of seqs. */
struct wseqs {
    uint64_t *v;
    size_t n, cap;
};

struct vgd_writer {
    vgd_writer_opts o;
    vg_spool *spool;
    pthread_t thread;
    int started;
    pthread_mutex_t spool_lock; /* the spool */
    pthread_mutex_t q;          /* everything below */
    pthread_cond_t work;        /* writer: something queued, or stop */
    pthread_cond_t done;        /* appenders / flushers: a group ended */
    struct wrec *head, **tail;  /* queue */
    size_t qbytes, qn;          /* queued payload bytes, records */
    vg_spool_item *marks;       /* queued sent-marks */
    size_t nmark, mark_cap;
    uint64_t nin;        /* appends + mark_sent calls so far (flush) */
    uint64_t taken;      /* of which taken into groups */
    uint64_t done_in;    /* of which in finished groups */
    uint64_t mark_calls; /* mark_sent calls not yet taken */
    int64_t since;       /* monotonic us the oldest queued item came */
    uint32_t urgent;     /* queued alert / trip / model records */
    uint32_t flushers;   /* vgd_writer_flush calls waiting */
    int stop;
    int last_rc;          /* status of the last group (destroy) */
    int err_rc;           /* status of the last failed group (flush) */
    int64_t last;         /* highest accepted sample seq, -1 none */
    int64_t committed_hi; /* highest committed sample seq, -1 none */
    int64_t mark;         /* published mark, -1 none */
    struct wgap gap[VGD_WRITER_GAPS];
    uint32_t ngap;
    vgd_writer_stats st;
};

/* Monotonic clock, microseconds. */
int64_t writer__mono(void);

/* Appends v to the array (grows it); VG_OK or VG_ENOMEM. */
int writer__push(struct wseqs *s, uint64_t v);

/* Gaps (queue lock held): the index of the gap holding seq, or -1; open a
 * gap [lo, hi]; close seq (the gap shrinks or splits); drop the gaps that
 * waited gap_ms at `now`. */
int writer__gap_find(const vgd_writer *w, uint64_t seq);
void writer__gap_open(vgd_writer *w, uint64_t lo, uint64_t hi);
void writer__gap_close(vgd_writer *w, uint64_t seq);
void writer__gap_expire(vgd_writer *w, int64_t now);

/* The committed mark from the committed seq and the gaps; -1 none. */
int64_t writer__mark(const vgd_writer *w);

/* Re-opens the gaps a previous run left among the stored sample seqs
 * (vg_spool_sample_holes); the status of the spool call. */
int writer__restore_gaps(vgd_writer *w);

/* A sample batch seq is accepted (queue lock held): opens the gap it
 * skipped, or keeps alive the gap it fills. */
void writer__accept(vgd_writer *w, uint64_t seq);

#endif
