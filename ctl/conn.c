/*
 * conn.c - the Paho MQTTAsync shell of vigilctl (contract in conn.h).
 *
 * Design: Paho's callbacks (its threads) only fill a mutex-protected
 * state block: connect/subscribe/publish outcomes and a FIFO of copied
 * messages; the calling thread waits on one condition variable with a
 * deadline.  Client id "vigilctl-<pid>" by default, clean session, MQTT
 * 3.1.1 (no silent fallback to 3.1, so a CONNACK code is what the broker
 * said), keep-alive 20 s, no automatic reconnect: a one-shot tool reports a
 * lost connection instead of hiding it.
 * Cost: O(1) per message besides one copy of it.
 */
#include "conn.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_conf.h"
#include "conf_file.h"
#include "vg_error.h"
#include "vg_paho_tls.h"
#include "vg_uri.h"

#define CONN_URI_MAX 512

enum conn_state { CONN_WAIT = 0, CONN_DONE = 1, CONN_FAILED = 2 };

struct ctl_conn {
    MQTTAsync h;            /* Paho client */
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t cond;    /* signalled on every change */
    int op;                 /* outcome of the pending operation (enum conn_state) */
    int op_code;            /* Paho / CONNACK code of a failure */
    char op_msg[160];       /* Paho's message for a failure */
    int lost;               /* the connection was lost */
    ctl_msg *head, *tail;   /* received messages, oldest first */
    char uri[CONN_URI_MAX]; /* URI given to Paho (vg_uri_paho) */
    int tls;                /* a TLS scheme */
    vg_paho_tls tls_opts;   /* TLS options, reason of a failed handshake */
    const char *broker;     /* URI as given, for messages */
};

static vgd_conf conn_conf; /* --config FILE: owns the strings we point at */

/* libinih callback: the daemon's sections go to its own table. */
static int conn__other(void *user, const char *section, const char *key, const char *value)
{
    return vgd_conf_set(user, section, key, value);
}

/* Points *dst at src when *dst is unset and src is not empty. */
static void conn__fill(const char **dst, const char *src)
{
    if (!*dst && src[0])
        *dst = src;
}

int ctl_conn_options(ctl_opts *o)
{
    if (o->config) {
        char err[512];
        vgd_conf_init(&conn_conf);
        int rc = vg_conf_load(&conn_conf.det, o->config, conn__other, &conn_conf, err, sizeof err);
        if (rc != VG_OK) {
            fprintf(stderr, "vigilctl: %s\n", err);
            return CTL_EXIT_INPUT;
        }
        conn__fill(&o->username, conn_conf.username);
        conn__fill(&o->password, conn_conf.password);
        conn__fill(&o->ca_file, conn_conf.ca_file);
        conn__fill(&o->cert_file, conn_conf.cert_file);
        conn__fill(&o->key_file, conn_conf.key_file);
        conn__fill(&o->root, conn_conf.root);
    }
    if (!o->password && getenv("VIGIL_PASSWORD") && getenv("VIGIL_PASSWORD")[0])
        o->password = getenv("VIGIL_PASSWORD");
    if (!o->root)
        o->root = CTL_ROOT_DEFAULT;
    return CTL_EXIT_OK;
}

/* ---- Paho callbacks (Paho's threads) ----------------------------------- */

static void conn__set(ctl_conn *c, int state, int code, const char *msg)
{
    pthread_mutex_lock(&c->lock);
    c->op = state;
    c->op_code = code;
    snprintf(c->op_msg, sizeof c->op_msg, "%s", msg ? msg : "");
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void conn__ok(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    conn__set(ctx, CONN_DONE, 0, NULL);
}

static void conn__fail(void *ctx, MQTTAsync_failureData *r)
{
    conn__set(ctx, CONN_FAILED, r ? r->code : MQTTASYNC_FAILURE, r ? r->message : NULL);
}

static void conn__lost(void *ctx, char *cause)
{
    ctl_conn *c = ctx;
    (void)cause;
    pthread_mutex_lock(&c->lock);
    c->lost = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Copies one message into the queue; 1 tells Paho it was taken. */
static int conn__arrived(void *ctx, char *topic, int tlen, MQTTAsync_message *pm)
{
    ctl_conn *c = ctx;
    size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
    ctl_msg *m = calloc(1, sizeof *m);
    if (m && (m->topic = malloc(tl + 1)) &&
        (pm->payloadlen == 0 || (m->payload = malloc((size_t)pm->payloadlen)))) {
        memcpy(m->topic, topic, tl);
        m->topic[tl] = '\0';
        m->len = (size_t)pm->payloadlen;
        if (m->len)
            memcpy(m->payload, pm->payload, m->len);
        m->retained = pm->retained;
        m->rx_us = ctl_wall_us();
        pthread_mutex_lock(&c->lock);
        if (c->tail)
            c->tail->next = m;
        else
            c->head = m;
        c->tail = m;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    } else {
        ctl_msg_free(m); /* out of memory: the message is dropped */
    }
    MQTTAsync_freeMessage(&pm);
    MQTTAsync_free(topic);
    return 1;
}

/* ---- the calling thread ------------------------------------------------ */

/* Absolute CLOCK_REALTIME deadline timeout_ms from now. */
static struct timespec conn__deadline(int64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (timeout_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/* Waits for the pending operation; returns its state (CONN_WAIT on timeout). */
static int conn__wait_op(ctl_conn *c, int64_t timeout_ms)
{
    struct timespec dl = conn__deadline(timeout_ms);
    pthread_mutex_lock(&c->lock);
    while (c->op == CONN_WAIT && !c->lost && !ctl_stop)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
            break;
    int st = c->op == CONN_WAIT && c->lost ? CONN_FAILED : c->op;
    pthread_mutex_unlock(&c->lock);
    return st;
}

/* Starts an operation: clears the outcome. */
static void conn__begin(ctl_conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->op = CONN_WAIT;
    c->op_code = 0;
    c->op_msg[0] = '\0';
    pthread_mutex_unlock(&c->lock);
}

/* Explains a connect failure and returns its exit code (a failed TLS
 * handshake, with OpenSSL's reason, is CTL_EXIT_UNREACHABLE). */
static int conn__connect_error(ctl_conn *c, int st)
{
    static const char *const connack[] = {NULL,
                                          "unacceptable protocol version",
                                          "client identifier rejected",
                                          "server unavailable",
                                          "bad user name or password",
                                          "not authorised"};
    char why[VG_PAHO_TLS_REASON_MAX];
    if (st == CONN_WAIT) {
        fprintf(stderr, "vigilctl: broker %s unreachable: no answer in time\n", c->broker);
        return CTL_EXIT_UNREACHABLE;
    }
    if (vg_paho_tls_take(&c->tls_opts, why, sizeof why)) {
        fprintf(stderr,
                "vigilctl: broker %s: TLS handshake failed: %s (check --ca-file, --cert-file, "
                "--key-file and the broker's name)\n",
                c->broker, why);
        return CTL_EXIT_UNREACHABLE;
    }
    if (c->op_code == 2 || c->op_code == 4 || c->op_code == 5) {
        fprintf(stderr, "vigilctl: broker %s refused the connection: %s\n", c->broker,
                connack[c->op_code]);
        return CTL_EXIT_AUTH;
    }
    if (c->op_code > 0 && c->op_code < 6) {
        fprintf(stderr, "vigilctl: broker %s refused the connection: %s\n", c->broker,
                connack[c->op_code]);
        return CTL_EXIT_UNREACHABLE;
    }
    fprintf(stderr, "vigilctl: broker %s unreachable%s%s (Paho %d)\n", c->broker,
            c->op_msg[0] ? ": " : "", c->op_msg, c->op_code);
    return CTL_EXIT_UNREACHABLE;
}

/* Fills Paho's connect options from *o (TLS when the URI asks for it). */
static void conn__options(const ctl_opts *o, ctl_conn *c, MQTTAsync_connectOptions *co)
{
    co->keepAliveInterval = 20;
    co->cleansession = 1;
    co->MQTTVersion = MQTTVERSION_3_1_1;
    co->connectTimeout = (int)(o->connect_timeout_s + 0.999);
    co->onSuccess = conn__ok;
    co->onFailure = conn__fail;
    co->context = c;
    co->username = o->username;
    co->password = o->password;
    vg_paho_tls_apply(&c->tls_opts, c->tls, co, o->ca_file, o->cert_file, o->key_file);
}

/* Creates the Paho client; CTL_EXIT_OK or CTL_EXIT_USAGE (bad URI). */
static int conn__create(const ctl_opts *o, ctl_conn *c)
{
    char id[64];
    if (o->client_id)
        snprintf(id, sizeof id, "%s", o->client_id);
    else
        snprintf(id, sizeof id, "vigilctl-%ld", (long)getpid());
    int rc = MQTTASYNC_BAD_PROTOCOL; /* what Paho says of an unknown scheme */
    if (vg_uri_paho(o->broker, c->uri, sizeof c->uri, &c->tls) == VG_OK)
        rc = MQTTAsync_create(&c->h, c->uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc == MQTTASYNC_SUCCESS)
        rc = MQTTAsync_setCallbacks(c->h, c, conn__lost, conn__arrived, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr,
                "vigilctl: cannot use broker URI '%s' (Paho %d; expected " VG_URI_EXPECTED ")\n",
                o->broker, rc);
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

int ctl_conn_open(const ctl_opts *o, ctl_conn **out)
{
    *out = NULL;
    ctl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return CTL_EXIT_FAIL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->broker = o->broker;
    int rc = conn__create(o, c);
    if (rc != CTL_EXIT_OK) {
        ctl_conn_close(c);
        return rc;
    }
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    conn__options(o, c, &co);
    conn__begin(c);
    int prc = MQTTAsync_connect(c->h, &co);
    int st = prc == MQTTASYNC_SUCCESS
                 ? conn__wait_op(c, (int64_t)(o->connect_timeout_s * 1000) + 1000)
                 : CONN_FAILED;
    if (prc != MQTTASYNC_SUCCESS)
        c->op_code = prc;
    if (st != CONN_DONE) {
        rc = conn__connect_error(c, st);
        ctl_conn_close(c);
        return rc;
    }
    *out = c;
    return CTL_EXIT_OK;
}

int ctl_conn_subscribe(ctl_conn *c, const char *filter)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = conn__ok;
    ro.onFailure = conn__fail;
    ro.context = c;
    conn__begin(c);
    int rc = MQTTAsync_subscribe(c->h, filter, 1, &ro);
    if (rc == MQTTASYNC_SUCCESS && conn__wait_op(c, 10000) == CONN_DONE)
        return CTL_EXIT_OK;
    fprintf(stderr, "vigilctl: subscription to '%s' failed (%s)\n", filter,
            rc == MQTTASYNC_BAD_UTF8_STRING || rc == MQTTASYNC_BAD_STRUCTURE
                ? "bad topic filter"
                : "refused or no answer");
    return rc == MQTTASYNC_SUCCESS ? CTL_EXIT_FAIL : CTL_EXIT_USAGE;
}

int ctl_conn_publish(ctl_conn *c, const char *topic, const void *buf, size_t len, int retain)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = conn__ok;
    ro.onFailure = conn__fail;
    ro.context = c;
    conn__begin(c);
    int rc = MQTTAsync_send(c->h, topic, (int)len, buf, 1, retain, &ro);
    if (rc == MQTTASYNC_SUCCESS && conn__wait_op(c, 10000) == CONN_DONE)
        return CTL_EXIT_OK;
    fprintf(stderr, "vigilctl: publish on '%s' not acknowledged by the broker\n", topic);
    return CTL_EXIT_FAIL;
}

int ctl_conn_next(ctl_conn *c, int timeout_ms, ctl_msg **m)
{
    struct timespec dl = conn__deadline(timeout_ms);
    *m = NULL;
    pthread_mutex_lock(&c->lock);
    while (!c->head && !c->lost && !ctl_stop)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
            break;
    if (c->head) {
        *m = c->head;
        c->head = c->head->next;
        if (!c->head)
            c->tail = NULL;
        (*m)->next = NULL;
    }
    int lost = c->lost && !*m;
    pthread_mutex_unlock(&c->lock);
    return lost ? CTL_EXIT_UNREACHABLE : CTL_EXIT_OK;
}

void ctl_msg_free(ctl_msg *m)
{
    if (!m)
        return;
    free(m->topic);
    free(m->payload);
    free(m);
}

void ctl_conn_close(ctl_conn *c)
{
    if (!c)
        return;
    if (c->h) {
        MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
        dopt.timeout = 1000;
        if (MQTTAsync_isConnected(c->h))
            MQTTAsync_disconnect(c->h, &dopt);
        MQTTAsync_destroy(&c->h);
    }
    while (c->head) {
        ctl_msg *n = c->head->next;
        ctl_msg_free(c->head);
        c->head = n;
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
