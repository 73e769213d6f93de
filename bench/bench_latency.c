/*
 * bench_latency.c - vigil-bench-latency: how long a limit violation takes
 * from its publication to the shutdown command's arrival at a subscriber,
 * through a running vigild, beside the broker's own publish-to-subscriber
 * latency for a message of the same size, interleaved in one run.
 *
 *   vigil-bench-latency --broker URI --device DEV [--channel CH] [--hi X]
 *                       [--iters N] [--root ROOT]
 *
 * vigild must run for DEV with CH configured as hi = X, debounce 1-of-1,
 * trip = true (bench/bench_vigild_latency.sh does it all).  Two plain Paho
 * MQTTAsync clients (MQTT 3.1.1, QoS 1 everywhere): P publishes, S
 * subscribes to ROOT/DEV/cmd/shutdown and to a private plain topic.  Each
 * of N iterations:
 *
 *   1. plain: P publishes a payload of the trip batch's size on the plain
 *      topic; latency = S's arrival - the time just before the publish call;
 *   2. trip:  P publishes a one-sample batch on ROOT/DEV/samples whose
 *      value is X + 10; latency = arrival of the (non-empty, retained)
 *      shutdown at S - the time just before the publish call;
 *   3. reset (not timed): P publishes a normal sample (0.0, so the cause
 *      has cleared) and a cmd/reset; S waits for the empty retained message
 *      that clears the shutdown.  QoS 1 on one connection keeps the order.
 *
 * Output: p50 / p99 / max in microseconds for both paths, and the number of
 * iterations that timed out (1 s).  Times are CLOCK_MONOTONIC, taken in
 * the same process, so no clock sync is involved.  Cost per iteration:
 * 5 publishes and 3 deliveries, about 1-3 ms on loopback.
 */
#include <MQTTAsync.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "vg_msg.h"

#define LAT_TOPIC_MAX 256
#define LAT_BUF       1024
#define LAT_WAIT_US   1000000 /* per step */

enum lat_ev { LAT_NONE = 0, LAT_PLAIN, LAT_TRIP, LAT_CLEAR };

/* Shared between S's callback thread and main; guarded by lock. */
struct lat {
    pthread_mutex_t lock; /* guards ev, t_ev, ready, failed */
    pthread_cond_t cond;  /* signalled on every event */
    enum lat_ev ev;       /* last event seen */
    int64_t t_ev;         /* its arrival time, monotonic us */
    int ready;            /* connects + SUBACK done (count) */
    int failed;           /* a connect or subscribe failed */
    char shutdown[LAT_TOPIC_MAX], plain[LAT_TOPIC_MAX], samples[LAT_TOPIC_MAX],
        reset[LAT_TOPIC_MAX]; /* topics */
    MQTTAsync pub, sub;       /* the two clients */
};

static int64_t lat__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t lat__wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int lat__on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    struct lat *l = ctx;
    int64_t t = lat__mono();
    (void)tlen;
    enum lat_ev ev = LAT_NONE;
    if (strcmp(topic, l->plain) == 0)
        ev = LAT_PLAIN;
    else if (strcmp(topic, l->shutdown) == 0)
        ev = m->payloadlen > 0 ? LAT_TRIP : LAT_CLEAR;
    pthread_mutex_lock(&l->lock);
    l->ev = ev;
    l->t_ev = t;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void lat__fail(void *ctx, MQTTAsync_failureData *r)
{
    struct lat *l = ctx;
    fprintf(stderr, "vigil-bench-latency: connect/subscribe failed (%d)\n", r ? r->code : 0);
    pthread_mutex_lock(&l->lock);
    l->failed = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

static void lat__ready(void *ctx, MQTTAsync_successData *r)
{
    struct lat *l = ctx;
    (void)r;
    pthread_mutex_lock(&l->lock);
    l->ready++;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

/* S connected: subscribe to the shutdown and the plain topic. */
static void lat__sub_connected(void *ctx, MQTTAsync_successData *r)
{
    struct lat *l = ctx;
    (void)r;
    char *topics[2] = {l->shutdown, l->plain};
    int qos[2] = {1, 1};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = lat__ready;
    ro.onFailure = lat__fail;
    ro.context = l;
    if (MQTTAsync_subscribeMany(l->sub, 2, topics, qos, &ro) != MQTTASYNC_SUCCESS)
        lat__fail(l, NULL);
}

/* Creates and connects one client; on_ok runs on its CONNACK. */
static int lat__client(struct lat *l, MQTTAsync *h, const char *uri, const char *id,
                       MQTTAsync_onSuccess *on_ok)
{
    if (MQTTAsync_create(h, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS ||
        MQTTAsync_setCallbacks(*h, l, NULL, lat__on_message, NULL) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.cleansession = 1;
    co.keepAliveInterval = 30;
    co.onSuccess = on_ok;
    co.onFailure = lat__fail;
    co.context = l;
    return MQTTAsync_connect(*h, &co) != MQTTASYNC_SUCCESS;
}

/* Waits (lock held) for event `ev` until deadline; its time or -1. */
static int64_t lat__wait(struct lat *l, enum lat_ev ev, int64_t deadline)
{
    while (l->ev != ev && !l->failed && lat__mono() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&l->cond, &l->lock, &ts);
    }
    return l->ev == ev ? l->t_ev : -1;
}

/* Publishes at QoS 1 from P; 0 on success. */
static int lat__pub(struct lat *l, const char *topic, const void *buf, size_t len)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)buf;
    m.payloadlen = (int)len;
    m.qos = 1;
    return MQTTAsync_sendMessage(l->pub, topic, &m, NULL) != MQTTASYNC_SUCCESS;
}

/* Encodes a one-sample batch of value v; returns its length (0 on error). */
static size_t lat__batch(const char *dev, const char *ch, uint64_t seq, int64_t *t_last, double v,
                         uint8_t *buf)
{
    int64_t t = lat__wall();
    if (t <= *t_last)
        t = *t_last + 1;
    *t_last = t;
    vg_column col = {ch, 1, &t, &v};
    size_t len;
    return vg_samples_encode(dev, seq, t, &col, 1, buf, LAT_BUF, &len) == VG_OK ? len : 0;
}

static int lat__cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void lat__report(const char *what, int64_t *v, int n)
{
    if (n == 0) {
        printf("%-7s no samples\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof(*v), lat__cmp);
    printf("%-7s n %d p50 %" PRId64 " us p99 %" PRId64 " us max %" PRId64 " us\n", what, n,
           v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[n - 1]);
}

/* Command-line settings. */
struct lat_opts {
    const char *uri, *dev, *ch, *root;
    double hi;
    int iters;
};

static int lat__args(int argc, char **argv, struct lat_opts *o)
{
    *o = (struct lat_opts){NULL, NULL, "temp", "vigil/v1", 100.0, 1000};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--broker"))
            o->uri = argv[i + 1];
        else if (!strcmp(argv[i], "--device"))
            o->dev = argv[i + 1];
        else if (!strcmp(argv[i], "--channel"))
            o->ch = argv[i + 1];
        else if (!strcmp(argv[i], "--root"))
            o->root = argv[i + 1];
        else if (!strcmp(argv[i], "--hi"))
            o->hi = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--iters"))
            o->iters = atoi(argv[i + 1]);
        else
            return 1;
    }
    return !o->uri || !o->dev || o->iters <= 0 || argc % 2 == 0;
}

/* One iteration; fills *plain and *trip (-1 on timeout); 0 when the
 * shutdown was cleared again. */
static int lat__iter(struct lat *l, const struct lat_opts *o, uint64_t *seq, int64_t *t_last,
                     int64_t *plain, int64_t *trip)
{
    static uint8_t b[LAT_BUF], r[LAT_BUF];
    size_t n = lat__batch(o->dev, o->ch, (*seq)++, t_last, o->hi + 10, b);
    l->ev = LAT_NONE;
    int64_t t0 = lat__mono();
    lat__pub(l, l->plain, b, n);
    int64_t t1 = lat__wait(l, LAT_PLAIN, t0 + LAT_WAIT_US);
    *plain = t1 < 0 ? -1 : t1 - t0;
    l->ev = LAT_NONE;
    t0 = lat__mono();
    lat__pub(l, l->samples, b, n);
    t1 = lat__wait(l, LAT_TRIP, t0 + LAT_WAIT_US);
    *trip = t1 < 0 ? -1 : t1 - t0;
    n = lat__batch(o->dev, o->ch, (*seq)++, t_last, 0.0, b);
    vg_reset rs = {.t_us = lat__wall()};
    snprintf(rs.device, sizeof rs.device, "%s", o->dev);
    snprintf(rs.operator_id, sizeof rs.operator_id, "bench");
    size_t rn;
    if (vg_reset_encode(&rs, r, sizeof r, &rn) != VG_OK)
        return 1;
    lat__pub(l, l->samples, b, n);
    lat__pub(l, l->reset, r, rn);
    return lat__wait(l, LAT_CLEAR, lat__mono() + LAT_WAIT_US) < 0;
}

int main(int argc, char **argv)
{
    static struct lat l;
    struct lat_opts o;
    if (lat__args(argc, argv, &o)) {
        fprintf(stderr, "usage: vigil-bench-latency --broker URI --device DEV [--channel CH] "
                        "[--hi X] [--iters N] [--root ROOT]\n");
        return 2;
    }
    snprintf(l.shutdown, sizeof l.shutdown, "%s/%s/cmd/shutdown", o.root, o.dev);
    snprintf(l.samples, sizeof l.samples, "%s/%s/samples", o.root, o.dev);
    snprintf(l.reset, sizeof l.reset, "%s/%s/cmd/reset", o.root, o.dev);
    snprintf(l.plain, sizeof l.plain, "vigil-bench/latency/%s/plain", o.dev);
    pthread_mutex_init(&l.lock, NULL);
    pthread_cond_init(&l.cond, NULL);
    int64_t *plain = calloc((size_t)o.iters, sizeof(*plain));
    int64_t *trip = calloc((size_t)o.iters, sizeof(*trip));
    if (!plain || !trip || lat__client(&l, &l.sub, o.uri, "bench-lat-sub", lat__sub_connected) ||
        lat__client(&l, &l.pub, o.uri, "bench-lat-pub", lat__ready))
        return 1;
    pthread_mutex_lock(&l.lock);
    int64_t deadline = lat__mono() + 5000000;
    while (l.ready < 2 && !l.failed && lat__mono() < deadline)
        lat__wait(&l, LAT_NONE + 100, lat__mono() + 10000);
    if (l.ready < 2)
        return 1;
    lat__wait(&l, LAT_NONE + 100, lat__mono() + 300000); /* drop retained leftovers */
    uint64_t seq = (uint64_t)lat__wall();                /* above any earlier run's */
    int64_t t_last = 0;
    int np = 0, nt = 0, lost = 0;
    for (int i = 0; i < o.iters; i++) {
        int64_t p, t;
        lost += lat__iter(&l, &o, &seq, &t_last, &p, &t);
        if (p >= 0)
            plain[np++] = p;
        if (t >= 0)
            trip[nt++] = t;
    }
    pthread_mutex_unlock(&l.lock);
    lat__report("plain", plain, np);
    lat__report("vigild", trip, nt);
    printf("timeouts: plain %d, trip %d, reset %d of %d\n", o.iters - np, o.iters - nt, lost,
           o.iters);
    return 0;
}
