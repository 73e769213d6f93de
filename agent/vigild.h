/*
 * vigild.h - the edge daemon's state and its internal interfaces, shared by
 * vigild_main.c (command line, signals, start and stop), vigild_io.c (Paho
 * handlers, outgoing messages, spool writer callbacks) and vigild_loop.c
 * (the main loop and its periodic work).  Not a library interface.
 *
 * Threads and locks.  Paho calls messageArrived, connected, lost and the
 * archive completions on its own thread, one at a time.  Every handler and
 * the main loop's pipeline step take `d.lock`, so the engine and the
 * pipeline are only ever used by one thread at a time; a model swap
 * therefore happens between two batches, never inside one.  A batch is
 * scored, acted upon and handed to the spool writer (agent/writer.h: its
 * own thread, group commits, the committed mark) before messageArrived
 * returns.  A trip is acted upon, latched and published there; the main
 * loop waits for its record's commit and fsyncs the latch right after,
 * without d.lock, while Paho writes the shutdown (which it cannot do before
 * the handler returns; pipeline.h, vgd_pipeline_sync).  The spool and the
 * uplink are guarded by the writer's spool lock, which the main loop takes
 * WITHOUT d.lock (uplink pump, quota, statistics), so the receive thread
 * never waits behind a group commit.  Lock order: d.lock, spool lock,
 * writer queue lock; wake_lock is a leaf.  Neither the writer nor the main
 * loop calls Paho while holding a lock a Paho callback may wait for: Paho's
 * receive thread can be inside one of our handlers (waiting for d.lock, or
 * for room in the writer's queue) while holding Paho's own lock, so such a
 * call would deadlock.  The writer therefore only hands the committed mark
 * to the main loop, which publishes it on ROOT/DEV/samples/ack.
 *
 * The main loop wakes when a handler, the writer or a PUBACK signals work,
 * every 10 ms while it has work in hand, and otherwise at its next deadline
 * (every tick_ms when idle), and, under d.lock: runs the stale watchdog every
 * tick_ms (wall clock: the trip path needs no broker, so a silent critical
 * sensor trips with the network down), reaps trip actions and enforces
 * their timeout, publishes the status heartbeat and writes the metrics
 * file; then, without d.lock: sends what it queued, makes a trip durable
 * (vgd_pipeline_sync), publishes the committed mark, pumps the uplink,
 * enforces the quota and refreshes the spool statistics every second.
 *
 * Memory: mallopt(M_ARENA_MAX, 1) at start keeps glibc from giving each of
 * Paho's threads its own malloc arena (64 MiB of address space and a few
 * hundred KiB resident each); vigild's threads are serialised by the one
 * lock anyway, so one arena costs no contention worth measuring.
 * vg_spool_lean_memory() before the spool opens: SQLite allocates cache
 * pages one by one instead of a 20-page block on the first read (~87 kB
 * of heap of which an idle spool uses a few pages).
 */
#ifndef VGD_VIGILD_H
#define VGD_VIGILD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent_conf.h"
#include "log.h"
#include "metrics.h"
#include "model_mgr.h"
#include "mqtt_link.h"
#include "pipeline.h"
#include "spool.h"
#include "trip.h"
#include "uplink.h"
#include "writer.h"

#define MAIN_WAKE_US    10000   /* longest sleep while there is work in hand */
#define MAIN_IDLE_US    1000000 /* longest sleep when idle */
#define MAIN_QUOTA_US   1000000 /* quota enforcement period */
#define MAIN_STATS_US   1000000 /* spool statistics refresh period */
#define MAIN_STATUS_MAX 8192    /* encoded status */

/* A message the main thread queued under the lock, sent after unlocking:
 * the main thread never calls Paho while holding the lock, because Paho may
 * be inside one of our handlers waiting for it (lock-order deadlock).
 * Handlers, which run on Paho's thread, call Paho directly (allowed). */
struct outmsg {
    char suffix[16]; /* topic suffix */
    uint8_t *buf;    /* owned copy */
    size_t len;      /* its length */
    int retain;      /* retained publish */
    vgd_chunk *ctx;  /* archive chunk context, or NULL */
};

struct daemon {
    pthread_mutex_t lock;      /* guards everything below */
    pthread_t main_thread;     /* the thread that runs main__loop */
    struct outmsg *out;        /* queued by the main thread */
    size_t nout, out_cap;      /* entries used / allocated */
    struct outmsg *chunk_q;    /* archive chunks of one pump (main thread only, no lock) */
    size_t nchunk, chunk_cap;  /* entries used / allocated */
    pthread_mutex_t wake_lock; /* leaf lock of the main loop's wake-up */
    pthread_cond_t wake;       /* work for the main loop */
    int woken;                 /* a wake-up is pending (wake_lock) */
    vgd_conf *conf;            /* settings (reloadable parts updated in place) */
    int argc;                  /* for SIGHUP reloads */
    char **argv;
    vg_spool *spool;
    vgd_writer *writer; /* owns the spool's writes; its own locks */
    vgd_model_mgr models;
    vgd_action action;
    vgd_metrics met;
    vgd_pipeline *pipe;
    vgd_uplink *up;
    vgd_link *link;
    int just_connected;       /* connected callback seen, main loop to greet */
    _Atomic int64_t ack_mark; /* committed mark to publish, -1 none (writer -> main) */
    int64_t ack_published;    /* last mark published (main thread) */
    uint64_t writer_errors;   /* writer's failed groups already counted */
    vgd_burst spool_burst;    /* log suppression of spool failures (writer thread) */
    uint8_t ack_buf[256];     /* samples ack encode buffer (main thread) */
    int64_t next_tick;        /* monotonic deadlines, us */
    int64_t next_status;
    int status_latched; /* latched flag of the last status published */
    int64_t next_metrics;
    int64_t next_quota;              /* main thread only (main__spool_work) */
    int64_t next_spool_st;           /* main thread only (main__spool_work) */
    vg_spool_stats spool_st;         /* last spool statistics (daemon lock) */
    int spool_st_ok;                 /* spool_st is filled */
    uint8_t status[MAIN_STATUS_MAX]; /* status encode buffer */
};

/* SIGTERM/SIGINT and SIGHUP seen (set by the handler in vigild_main.c). */
extern volatile sig_atomic_t main__sig_stop;
extern volatile sig_atomic_t main__sig_hup;

/* ---- vigild_loop.c ---- */

/* CLOCK_MONOTONIC or CLOCK_REALTIME in microseconds. */
int64_t main__clock(clockid_t id);

/* Wakes the main loop (any thread, any lock held: wake_lock is a leaf). */
void main__wake(struct daemon *d);

/* Runs until SIGTERM/SIGINT (main thread, no lock held on entry). */
void main__loop(struct daemon *d);

/* Refreshes d->spool_st (main thread, WITHOUT the daemon lock). */
void main__spool_stats(struct daemon *d);

/* Copies the pipeline's and the spool's state into d->met (lock held). */
void main__gauges(struct daemon *d, int64_t now);

/* Encodes the status (online or the Last Will's offline) into d->status;
 * returns its length, 0 when it does not fit (lock held). */
size_t main__status(struct daemon *d, int online, int64_t now);

/* Publishes the retained status (lock held; the send is queued). */
void main__publish_status(struct daemon *d, int online, int64_t now);

/* Enforces the spool quota (main thread, without the daemon lock). */
void main__quota(struct daemon *d);

/* ---- vigild_io.c ---- */

/* Paho handlers (Paho's thread; see mqtt_link.h). */
void main__on_message(void *user, int which, const void *buf, size_t len);
void main__on_connected(void *user);
void main__on_lost(void *user);
void main__on_chunk(void *user, vgd_chunk *c, int ok);

/* The pipeline's sink: publishes directly on Paho's thread, queues on the
 * main thread (sent by main__flush after the lock is released). */
int main__publish(void *user, const char *suffix, const void *buf, size_t len, int retain);

/* The uplink's send: queues an archive chunk for main__pump. */
int main__send_chunk(void *user, const void *buf, size_t len, vgd_chunk *c);

/* Sends the n queued messages of out and frees their copies (WITHOUT the
 * daemon lock). */
void main__flush(struct daemon *d, struct outmsg *out, size_t n);

/* Forwards spooled records on archive (main thread, without the lock);
 * returns the chunks sent. */
int main__pump(struct daemon *d);

/* Encodes the samples ack for mark into buf; its length, 0 if too long. */
size_t main__ack(const struct daemon *d, uint64_t mark, uint8_t *buf, size_t cap);

/* Publishes the committed mark when it moved (main thread, no lock). */
void main__publish_ack(struct daemon *d);

/* Spool writer callbacks (writer thread, no lock held; writer.h). */
void main__on_committed(void *user, uint64_t mark);
void main__on_spool_failed(void *user, int rc, const char *msg, uint64_t lost);

#endif
