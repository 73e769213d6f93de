/*
 * bench_paho_pair.c - vigil-bench-paho-pair: the plain-client side of the
 * vigild throughput benchmark (bench/bench_vigild.sh), and the archive
 * counter of its vigild runs.
 *
 *   vigil-bench-paho-pair --broker URI --topic T --count N
 *                         [--archive] [--timeout S] [--id CLIENT]
 *
 * One plain Paho MQTTAsync client (MQTT 3.1.1, clean session) subscribes
 * to T at QoS 1 and counts what arrives until it has N units, then prints
 *
 *   msgs M bytes B units U t_first T1 t_last T2
 *
 * (T1, T2: CLOCK_REALTIME seconds of the first and last arrival) and exits
 * 0; 1 on a timeout (default 120 s) or a connection failure.  It prints
 * "ready" on stdout once the broker has acknowledged the subscription, so
 * a script can start the publisher after it.
 *
 *   plain mode (default): a unit is a message.  The callback does nothing
 *     but count: this is "two plain Paho clients" (vigil-sim --max-rate is
 *     the other one, publishing the same batches vigild gets).
 *   --archive: T is a vigild archive topic; each message is decoded as a
 *     vg_archive chunk and a unit is a distinct sample batch in it (by
 *     seq; at-least-once redeliveries counted once), so N is the number
 *     of batches the publisher sent and the run proves they were carried.
 *
 * Cost: plain mode O(1) per message under one mutex; archive mode
 * O(bytes) per chunk (decode) plus a bitmap of 1 bit per batch seq.
 */
#include <MQTTAsync.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "vg_msg.h"

#define PAIR_ITEMS 8192 /* archive items per chunk decoded */

/* The run's state; everything below `lock` is guarded by it. */
struct pair {
    const char *topic;      /* subscription */
    uint64_t want;          /* units to wait for */
    int archive;            /* count archive sample batches */
    MQTTAsync h;            /* the client */
    pthread_mutex_t lock;   /* Paho's thread vs main */
    pthread_cond_t cond;    /* signalled on ready / done / failure */
    int ready;              /* SUBACK seen */
    int failed;             /* connect or subscribe failed */
    int done;               /* units >= want */
    uint64_t msgs;          /* messages received */
    uint64_t bytes;         /* their payload bytes */
    uint64_t units;         /* messages, or distinct archived batches */
    double t_first;         /* first arrival, wall seconds */
    double t_last;          /* arrival of the unit that completed the count */
    uint8_t *seen;          /* archive: bitmap by batch seq */
    size_t seen_bytes;      /* its size */
    vg_archive_item *items; /* archive decode target */
};

static double pair__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Marks batch seq seen; returns 1 when it is new (lock held). */
static int pair__mark(struct pair *p, uint64_t seq)
{
    size_t byte = (size_t)(seq / 8);
    if (byte >= p->seen_bytes) {
        size_t n = (byte + 1) * 2;
        uint8_t *s = realloc(p->seen, n);
        if (!s)
            return 0;
        memset(s + p->seen_bytes, 0, n - p->seen_bytes);
        p->seen = s;
        p->seen_bytes = n;
    }
    uint8_t bit = (uint8_t)(1u << (seq % 8));
    if (p->seen[byte] & bit)
        return 0;
    p->seen[byte] |= bit;
    return 1;
}

/* Distinct sample batches in one archive chunk (lock held). */
static uint64_t pair__archive_units(struct pair *p, const void *buf, size_t len)
{
    vg_archive a = {.item = p->items, .item_cap = PAIR_ITEMS};
    if (vg_archive_decode(buf, len, &a) != VG_OK)
        return 0;
    uint64_t n = 0;
    for (uint32_t i = 0; i < a.nitem; i++)
        if (a.item[i].kind == VG_ARCH_SAMPLES)
            n += (uint64_t)pair__mark(p, a.item[i].seq);
    return n;
}

static int pair__on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    struct pair *p = ctx;
    double t = pair__now();
    (void)tlen;
    pthread_mutex_lock(&p->lock);
    if (!p->msgs)
        p->t_first = t;
    p->msgs++;
    p->bytes += (uint64_t)m->payloadlen;
    uint64_t before = p->units;
    p->units += p->archive ? pair__archive_units(p, m->payload, (size_t)m->payloadlen) : 1;
    if (p->units >= p->want && before < p->want) {
        p->t_last = t;
        p->done = 1;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void pair__fail(void *ctx, MQTTAsync_failureData *r)
{
    struct pair *p = ctx;
    fprintf(stderr, "vigil-bench-paho-pair: connect/subscribe failed (%d)\n", r ? r->code : 0);
    pthread_mutex_lock(&p->lock);
    p->failed = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void pair__subscribed(void *ctx, MQTTAsync_successData *r)
{
    struct pair *p = ctx;
    (void)r;
    pthread_mutex_lock(&p->lock);
    p->ready = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void pair__connected(void *ctx, MQTTAsync_successData *r)
{
    struct pair *p = ctx;
    (void)r;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = pair__subscribed;
    ro.onFailure = pair__fail;
    ro.context = p;
    if (MQTTAsync_subscribe(p->h, p->topic, 1, &ro) != MQTTASYNC_SUCCESS)
        pair__fail(p, NULL);
}

/* Waits (lock held) until *flag, a failure or the deadline; 0 when *flag. */
static int pair__wait(struct pair *p, const int *flag, double deadline)
{
    while (!*flag && !p->failed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 >= deadline)
            return 1;
        ts.tv_nsec += 50000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    return *flag ? 0 : 1;
}

/* Creates and connects the client. */
static int pair__start(struct pair *p, const char *uri, const char *id)
{
    if (MQTTAsync_create(&p->h, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS ||
        MQTTAsync_setCallbacks(p->h, p, NULL, pair__on_message, NULL) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.cleansession = 1;
    co.keepAliveInterval = 30;
    co.maxInflight = 1024;
    co.onSuccess = pair__connected;
    co.onFailure = pair__fail;
    co.context = p;
    return MQTTAsync_connect(p->h, &co) != MQTTASYNC_SUCCESS;
}

static int pair__usage(void)
{
    fprintf(stderr, "usage: vigil-bench-paho-pair --broker URI --topic T --count N "
                    "[--archive] [--timeout S] [--id CLIENT]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct pair p;
    const char *uri = NULL, *id = "vigil-bench-pair";
    double timeout = 120;
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--broker") && more)
            uri = argv[++i];
        else if (!strcmp(argv[i], "--topic") && more)
            p.topic = argv[++i];
        else if (!strcmp(argv[i], "--count") && more)
            p.want = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--timeout") && more)
            timeout = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--id") && more)
            id = argv[++i];
        else if (!strcmp(argv[i], "--archive"))
            p.archive = 1;
        else
            return pair__usage();
    }
    if (!uri || !p.topic || !p.want)
        return pair__usage();
    if (p.archive && !(p.items = calloc(PAIR_ITEMS, sizeof(*p.items))))
        return 1;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    pthread_mutex_lock(&p.lock);
    int rc = pair__start(&p, uri, id) || pair__wait(&p, &p.ready, pair__now() + 10);
    if (!rc) {
        printf("ready\n");
        fflush(stdout);
        rc = pair__wait(&p, &p.done, pair__now() + timeout);
    }
    printf("msgs %llu bytes %llu units %llu t_first %.6f t_last %.6f\n", (unsigned long long)p.msgs,
           (unsigned long long)p.bytes, (unsigned long long)p.units, p.t_first, p.t_last);
    pthread_mutex_unlock(&p.lock);
    if (p.h) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 100;
        MQTTAsync_disconnect(p.h, &d);
    }
    return rc ? 1 : 0;
}
