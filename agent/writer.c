/*
 * writer.c - group-committing spool writer (see writer.h): the queue,
 * gathering, groups and the public calls; the committed mark and the gaps
 * are in writer_gap.c, the shared state in writer_int.h.
 *
 * The queue is a FIFO list of malloc'd records (header + payload); the
 * writer swaps the whole list out under the queue lock and works on it
 * under the spool lock alone, so appends never wait for SQLite (only for
 * room in the queue).  Within a group, records go in in queue order: the
 * order the pipeline accepted them.  The spool is opened by vigild with
 * commit_every = UINT32_MAX, so within a group only alert / trip / model
 * records commit early (they commit at once, taking the samples before
 * them); everything else is committed by the group's one commit.  The
 * writer keeps the seqs of the sample batches of the open transaction to
 * know, after each commit or failure, which ones are stored and which were
 * lost.
 *
 * Gathering.  A commit costs about ten WAL frames besides the records' own
 * pages (the b-tree right edges, the tally, the pointer map, page 1), and
 * under load a writer that commits whatever is queued commits every 2-3
 * batches.  So a group that holds only sample batches and sent-marks waits
 * until gather_min records are queued or its oldest item has waited
 * gather_us; an alert, trip or model record, a flush or the stop makes it
 * due at once.  Appenders wake the writer only for the first item and when
 * the group becomes due early, not for every batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "writer_int.h"

#define WRITER_DEF_GROUP    256
#define WRITER_DEF_BYTES    (8u << 20)
#define WRITER_DEF_GAP      30000
#define WRITER_WAKE_US      500000 /* expiry check period when idle */
#define WRITER_DEF_GATHER   2000   /* us a group waits for more samples */
#define WRITER_DEF_GATHER_N 32     /* queued records that end the wait */

/* ---- the writer thread ------------------------------------------------- */

/* What one group did to the sample seqs. */
struct wgroup {
    struct wseqs txn;  /* appended in the open transaction */
    struct wseqs done; /* committed (or already stored) */
    struct wseqs lost; /* rolled back */
    uint64_t records, lost_records, marks;
    int rc; /* first failure */
    char msg[VG_SPOOL_ERR_MAX];
};

/* The open transaction's samples are committed (ok) or rolled back. */
static void writer__settle(vgd_writer *w, struct wgroup *g, int ok, int rc)
{
    struct wseqs *to = ok ? &g->done : &g->lost;
    for (size_t i = 0; i < g->txn.n; i++)
        writer__push(to, g->txn.v[i]);
    g->txn.n = 0;
    if (!ok) {
        if (g->rc == VG_OK) {
            g->rc = rc;
            memcpy(g->msg, vg_spool_errmsg(w->spool), sizeof g->msg);
            g->msg[sizeof g->msg - 1] = 0;
        }
        vg_spool_commit(w->spool); /* consumes the rolled-back report */
    }
}

/* Appends one record inside the group. */
static void writer__one(vgd_writer *w, struct wgroup *g, const struct wrec *r)
{
    int rc =
        vg_spool_append(w->spool, r->kind, r->seq, r->model_version, r->rx_us, r->payload, r->len);
    int samples = r->kind == VG_ARCH_SAMPLES;
    if (rc == VG_EDUP) {
        if (samples)
            writer__push(&g->done, r->seq);
        return;
    }
    if (rc == VG_OK) {
        g->records++;
        if (samples)
            writer__push(&g->txn, r->seq);
        else
            writer__settle(w, g, 1, VG_OK); /* it committed at once */
        return;
    }
    if (samples)
        writer__push(&g->txn, r->seq);
    g->lost_records++;
    writer__settle(w, g, 0, rc);
}

/* Applies what a group did to the seq state; returns 1 when the mark moved
 * (new value in *mark). */
static int writer__account(vgd_writer *w, const struct wgroup *g, int64_t *mark)
{
    for (size_t i = 0; i < g->done.n; i++) {
        if (w->ngap)
            writer__gap_close(w, g->done.v[i]);
        if ((int64_t)g->done.v[i] > w->committed_hi)
            w->committed_hi = (int64_t)g->done.v[i];
    }
    for (size_t i = 0; i < g->lost.n; i++)
        writer__gap_open(w, g->lost.v[i], g->lost.v[i]);
    writer__gap_expire(w, writer__mono());
    if (g->rc == VG_OK && g->records + g->marks) {
        w->st.groups++;
    } else if (g->rc != VG_OK) {
        w->st.errors++;
        w->err_rc = g->rc;
    }
    w->last_rc = g->rc;
    w->st.records += g->records;
    w->st.marks += g->marks;
    int64_t m = writer__mark(w);
    if (m == w->mark)
        return 0;
    w->mark = *mark = m;
    return 1;
}

/* Runs one group: marks, records, commit; then the accounting. */
static void writer__group(vgd_writer *w, struct wrec *list, vg_spool_item *marks, size_t nmark,
                          struct wgroup *g)
{
    g->txn.n = g->done.n = g->lost.n = 0;
    g->records = g->lost_records = g->marks = 0;
    g->rc = VG_OK;
    pthread_mutex_lock(&w->spool_lock);
    int rc = vg_spool_mark_sent_deferred(w->spool, marks, nmark);
    if (rc == VG_OK)
        g->marks = nmark;
    else
        writer__settle(w, g, 0, rc);
    for (const struct wrec *r = list; r; r = r->next)
        writer__one(w, g, r);
    rc = vg_spool_commit(w->spool);
    if (rc != VG_OK)
        g->marks = 0;
    writer__settle(w, g, rc == VG_OK, rc);
    if (g->rc != VG_OK && nmark) /* sent-marks may be rolled back: forward them again */
        vg_spool_requeue_inflight(w->spool);
    pthread_mutex_unlock(&w->spool_lock);
}

/* Takes up to max_group queued records and every queued mark (queue
 * lock held); *upto = the input count the group completes. */
static struct wrec *writer__take(vgd_writer *w, uint64_t *upto)
{
    struct wrec *head = w->head, **pp = &w->head;
    uint32_t n = 0;
    while (*pp && n < w->o.max_group) {
        w->qbytes -= (*pp)->len;
        w->qn--;
        w->urgent -= (*pp)->kind != VG_ARCH_SAMPLES;
        pp = &(*pp)->next;
        n++;
    }
    w->head = *pp;
    *pp = NULL;
    if (!w->head)
        w->tail = &w->head;
    w->since = 0; /* what is left (over max_group) is due at once */
    w->taken += n + w->mark_calls;
    w->mark_calls = 0;
    *upto = w->taken;
    return head;
}

static void writer__free_list(struct wrec *r)
{
    while (r) {
        struct wrec *n = r->next;
        free(r);
        r = n;
    }
}

/* Waits on `work` until the monotonic time `until_us`; 1 on timeout. */
static int writer__sleep(vgd_writer *w, int64_t until_us)
{
    struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = until_us % 1000000 * 1000};
    return pthread_cond_timedwait(&w->work, &w->q, &ts) == ETIMEDOUT;
}

/* Whether the queued work is to be committed now (queue lock held): an
 * alert / trip / model record, a flush or the stop waits for it, enough
 * records are queued, or the oldest has waited gather_us. */
static int writer__due(const vgd_writer *w, int64_t now)
{
    return w->stop || w->urgent || w->flushers || w->qn >= w->o.gather_min ||
           now - w->since >= (int64_t)w->o.gather_us;
}

/* Waits for work (queue lock held) and lets a group gather (see
 * writer__due); 0 when stopping with nothing left. */
static int writer__wait(vgd_writer *w)
{
    for (;;) {
        if (w->head || w->nmark) {
            int64_t now = writer__mono();
            if (writer__due(w, now))
                return 1;
            writer__sleep(w, w->since + (int64_t)w->o.gather_us);
        } else if (w->stop) {
            return 0;
        } else if (writer__sleep(w, writer__mono() + WRITER_WAKE_US) && w->ngap) {
            return 1; /* expire gaps */
        }
    }
}

/* Something was queued (queue lock held): starts the gathering clock when
 * the queue was empty; wakes the writer when it has to look (the first
 * item, and whenever the group is due early). */
static void writer__queued(vgd_writer *w, int was_empty)
{
    if (was_empty)
        w->since = writer__mono();
    if (was_empty || w->urgent || w->qn == w->o.gather_min)
        pthread_cond_signal(&w->work);
}

static void *writer__main(void *arg)
{
    vgd_writer *w = arg;
    struct wgroup g = {0};
    vg_spool_item *marks = NULL;
    size_t mark_cap = 0;
    pthread_mutex_lock(&w->q);
    while (writer__wait(w)) {
        uint64_t upto;
        struct wrec *list = writer__take(w, &upto);
        vg_spool_item *m = w->marks;
        size_t nmark = w->nmark, cap = w->mark_cap;
        w->marks = marks; /* swap the mark arrays */
        w->mark_cap = mark_cap;
        w->nmark = 0;
        pthread_cond_broadcast(&w->done); /* room in the queue */
        pthread_mutex_unlock(&w->q);
        writer__group(w, list, m, nmark, &g);
        writer__free_list(list);
        marks = m;
        mark_cap = cap;
        int64_t mark = 0;
        pthread_mutex_lock(&w->q);
        int moved = writer__account(w, &g, &mark);
        pthread_mutex_unlock(&w->q);
        if (g.rc != VG_OK && w->o.failed)
            w->o.failed(w->o.user, g.rc, g.msg, g.lost_records);
        if (moved && mark >= 0 && w->o.committed)
            w->o.committed(w->o.user, (uint64_t)mark);
        pthread_mutex_lock(&w->q);
        w->done_in = upto; /* after the callbacks: a flush returns once they ran */
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->q);
    free(marks);
    free(g.txn.v);
    free(g.done.v);
    free(g.lost.v);
    return NULL;
}

/* ---- public ------------------------------------------------------------ */

static int writer__sync_init(vgd_writer *w)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&w->q, NULL) || pthread_mutex_init(&w->spool_lock, NULL) ||
              pthread_cond_init(&w->work, &ca) || pthread_cond_init(&w->done, &ca);
    pthread_condattr_destroy(&ca);
    return bad ? VG_ENOMEM : VG_OK;
}

vgd_writer *vgd_writer_create(vg_spool *spool, const vgd_writer_opts *o, int *rc)
{
    vgd_writer *w = calloc(1, sizeof *w);
    if (!w) {
        *rc = VG_ENOMEM;
        return NULL;
    }
    w->o = *o;
    if (!w->o.max_group)
        w->o.max_group = WRITER_DEF_GROUP;
    if (!w->o.queue_bytes)
        w->o.queue_bytes = WRITER_DEF_BYTES;
    if (!w->o.gap_ms)
        w->o.gap_ms = WRITER_DEF_GAP;
    if (!w->o.gather_us)
        w->o.gather_us = WRITER_DEF_GATHER;
    if (!w->o.gather_min)
        w->o.gather_min = WRITER_DEF_GATHER_N;
    w->spool = spool;
    w->tail = &w->head;
    int64_t last = -1;
    *rc = vg_spool_last_seq(spool, VG_ARCH_SAMPLES, &last);
    w->last = w->committed_hi = last;
    if (*rc == VG_OK)
        *rc = writer__restore_gaps(w);
    w->mark = writer__mark(w);
    if (*rc == VG_OK)
        *rc = writer__sync_init(w);
    if (*rc == VG_OK)
        *rc = pthread_create(&w->thread, NULL, writer__main, w) == 0 ? VG_OK : VG_ENOMEM;
    if (*rc != VG_OK) {
        free(w);
        return NULL;
    }
    w->started = 1;
    return w;
}

int vgd_writer_destroy(vgd_writer *w)
{
    if (!w)
        return VG_OK;
    pthread_mutex_lock(&w->q);
    w->stop = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->q);
    pthread_join(w->thread, NULL);
    int rc = w->last_rc;
    writer__free_list(w->head);
    free(w->marks);
    pthread_mutex_destroy(&w->q);
    pthread_mutex_destroy(&w->spool_lock);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    free(w);
    return rc;
}

int vgd_writer_seq_check(vgd_writer *w, uint64_t seq)
{
    if (seq > INT64_MAX)
        return VG_EINVAL;
    pthread_mutex_lock(&w->q);
    int rc = VG_OK;
    if ((int64_t)seq <= w->last && writer__gap_find(w, seq) < 0)
        rc = (int64_t)seq == w->last ? VG_EDUP : VG_EORDER;
    pthread_mutex_unlock(&w->q);
    return rc;
}

int vgd_writer_append(vgd_writer *w, int kind, uint64_t seq, uint64_t model_version, int64_t rx_us,
                      const void *payload, size_t len)
{
    if (kind < 0 || kind >= VG_SPOOL_NKIND || seq > INT64_MAX)
        return VG_EINVAL;
    struct wrec *r = malloc(sizeof *r + (len ? len : 1));
    if (!r)
        return VG_ENOMEM;
    *r = (struct wrec){NULL, kind, seq, model_version, rx_us, len};
    if (len)
        memcpy(r->payload, payload, len);
    pthread_mutex_lock(&w->q);
    while (w->qbytes > w->o.queue_bytes && !w->stop)
        pthread_cond_wait(&w->done, &w->q);
    if (kind == VG_ARCH_SAMPLES)
        writer__accept(w, seq);
    int was_empty = !w->head && !w->nmark;
    *w->tail = r;
    w->tail = &r->next;
    w->qbytes += len;
    w->qn++;
    w->nin++;
    w->urgent += kind != VG_ARCH_SAMPLES;
    writer__queued(w, was_empty);
    pthread_mutex_unlock(&w->q);
    return VG_OK;
}

int vgd_writer_mark_sent(vgd_writer *w, const vg_spool_item *items, size_t n)
{
    if (n == 0)
        return VG_OK;
    pthread_mutex_lock(&w->q);
    if (w->nmark + n > w->mark_cap) {
        size_t cap = w->mark_cap ? w->mark_cap : 256;
        while (cap < w->nmark + n)
            cap *= 2;
        vg_spool_item *m = realloc(w->marks, cap * sizeof *m);
        if (!m) {
            pthread_mutex_unlock(&w->q);
            return VG_ENOMEM;
        }
        w->marks = m;
        w->mark_cap = cap;
    }
    int was_empty = !w->head && !w->nmark;
    for (size_t i = 0; i < n; i++) {
        w->marks[w->nmark] = items[i];
        w->marks[w->nmark++].payload = NULL;
    }
    w->nin++;
    w->mark_calls++;
    writer__queued(w, was_empty);
    pthread_mutex_unlock(&w->q);
    return VG_OK;
}

int vgd_writer_flush(vgd_writer *w)
{
    pthread_mutex_lock(&w->q);
    uint64_t want = w->nin, err0 = w->st.errors;
    w->flushers++;
    pthread_cond_signal(&w->work);
    while (w->done_in < want)
        pthread_cond_wait(&w->done, &w->q);
    w->flushers--;
    int rc = w->st.errors != err0 ? w->err_rc : VG_OK;
    pthread_mutex_unlock(&w->q);
    return rc;
}

void vgd_writer_lock_spool(vgd_writer *w)
{
    pthread_mutex_lock(&w->spool_lock);
}

void vgd_writer_unlock_spool(vgd_writer *w)
{
    pthread_mutex_unlock(&w->spool_lock);
}

void vgd_writer_stats_get(vgd_writer *w, vgd_writer_stats *st)
{
    pthread_mutex_lock(&w->q);
    *st = w->st;
    st->queued = w->qn;
    st->queued_bytes = w->qbytes;
    st->mark = w->mark;
    pthread_mutex_unlock(&w->q);
}
