/*
 * mqtt.c - Paho MQTTAsync connections; see mqtt.h.
 *
 * State machine of a connection: "connecting" after sim_conn_open(), then
 * connected (on_connected callback, first connect and every automatic
 * reconnect) -> subscribe -> ready (SUBACK).  A lost connection goes back to
 * connecting; Paho's automatic reconnect takes it from there and resends
 * unacknowledged QoS 1 publications of the persistent session.  A first
 * connect that fails is retried here by sim_conn_wait_ready(), unless
 * the broker refused the login (CONNACK 4 bad user name or password, 5 not
 * authorised, 2 client id rejected) or the TLS handshake failed (OpenSSL's
 * error queue, handed to ssl_error_cb): those do not heal by retrying.
 */
#include "mqtt.h"

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simtime.h"
#include "vg_error.h"
#include "vg_paho_tls.h"
#include "vg_uri.h"

#define MQTT_KEEPALIVE_S    10
#define MQTT_RETRY_MIN_S    1
#define MQTT_RETRY_MAX_S    4
#define MQTT_CONNECT_TMO_S  5
#define MQTT_BUFFER_SLACK   16
#define MQTT_RETRY_FIRST_US 500000 /* pause before retrying a failed first connect */
#define MQTT_REFUSALS_SHOWN 5      /* connections whose refusal is explained */

static atomic_int mqtt_refusals; /* refused connections so far (all of them) */

struct sim_conn {
    MQTTAsync h;    /* the Paho client */
    sim_sync *sync; /* shared lock (borrowed) */
    char *uri;      /* owned copies of the options (URI: vg_uri_paho) */
    char *client_id;
    char *auth[5];        /* user, password, CA, certificate, key (NULL = unset) */
    int tls;              /* a TLS scheme */
    vg_paho_tls tls_opts; /* TLS options, reason of a failed handshake */
    char *subs[SIM_CONN_SUBS_MAX];
    int qos[SIM_CONN_SUBS_MAX]; /* all 1 */
    uint32_t nsub;
    bool clean;
    uint32_t max_inflight;
    sim_msg_fn *on_msg;
    void *msg_ctx;
    /* under sync->lock: */
    bool connected;      /* TCP + CONNACK up */
    bool subscribed;     /* SUBACK for this connection */
    bool first_failed;   /* the first connect failed: retry */
    bool ever_connected; /* Paho reconnects by itself from now on */
    bool disconnected;   /* our disconnect completed */
    bool refused;        /* the first connect was refused (login or TLS): final */
    uint64_t connects;   /* successful connects */
};

/* See mqtt.h. */
int sim_sync_init(sim_sync *s)
{
    pthread_condattr_t a;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return VG_ENOMEM;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->cond, &a);
    pthread_condattr_destroy(&a);
    if (rc != 0) {
        pthread_mutex_destroy(&s->lock);
        return VG_ENOMEM;
    }
    return VG_OK;
}

/* See mqtt.h. */
void sim_sync_destroy(sim_sync *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* See mqtt.h. */
void sim_sync_wait(sim_sync *s, int64_t deadline_us)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_us / 1000000),
                          .tv_nsec = (long)(deadline_us % 1000000) * 1000};
    pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/* Sets a flag under the lock and wakes waiters. */
static void mqtt__signal(sim_conn *c, bool *flag, bool value)
{
    pthread_mutex_lock(&c->sync->lock);
    *flag = value;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
}

/* SUBACK. */
static void mqtt__on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    sim_conn *c = ctx;
    mqtt__signal(c, &c->subscribed, true);
}

/* Subscription refused: leave subscribed false (wait_ready times out). */
static void mqtt__on_sub_failed(void *ctx, MQTTAsync_failureData *r)
{
    sim_conn *c = ctx;
    fprintf(stderr, "vigil-sim: %s: subscribe failed (%d)\n", c->client_id, r ? r->code : -1);
}

/* Connected (first connect and every automatic reconnect). */
static void mqtt__on_connected(void *ctx, char *cause)
{
    sim_conn *c = ctx;
    pthread_mutex_lock(&c->sync->lock);
    c->connected = true;
    c->ever_connected = true;
    c->subscribed = c->nsub == 0;
    c->connects++;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
    if (c->nsub == 0)
        return;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = mqtt__on_subscribed;
    ro.onFailure = mqtt__on_sub_failed;
    ro.context = c;
    int rc = MQTTAsync_subscribeMany(c->h, (int)c->nsub, c->subs, c->qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        fprintf(stderr, "vigil-sim: %s: subscribe refused (%d)\n", c->client_id, rc);
}

/* Explains a refused first connect on stderr (the first few only). */
static void mqtt__explain(const sim_conn *c, int code, const char *tls_err)
{
    int n = atomic_fetch_add(&mqtt_refusals, 1);
    if (n > MQTT_REFUSALS_SHOWN)
        return;
    if (n == MQTT_REFUSALS_SHOWN) {
        fprintf(stderr, "vigil-sim: (further refused connections not shown)\n");
        return;
    }
    const char *user = c->auth[0] ? c->auth[0] : "(anonymous)";
    if (tls_err[0])
        fprintf(stderr,
                "vigil-sim: %s: broker %s: TLS handshake failed: %s (check --ca-file, "
                "--cert-file, --key-file and the broker's name)\n",
                c->client_id, c->uri, tls_err);
    else if (code == 2)
        fprintf(stderr, "vigil-sim: %s: broker %s refused the client id: not authorised\n",
                c->client_id, c->uri);
    else
        fprintf(stderr,
                "vigil-sim: %s: broker %s refused the connection as user %s: not "
                "authorised%s\n",
                c->client_id, c->uri, user, code == 4 ? " (bad user name or password)" : "");
}

/* The first connect failed (Paho does not retry it by itself): retried by
 * sim_conn_wait_ready() unless the login was refused or TLS failed. */
static void mqtt__on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    sim_conn *c = ctx;
    int code = r ? r->code : MQTTASYNC_FAILURE;
    char tls_err[VG_PAHO_TLS_REASON_MAX];
    vg_paho_tls_take(&c->tls_opts, tls_err, sizeof tls_err);
    pthread_mutex_lock(&c->sync->lock);
    bool refused = !c->ever_connected && (tls_err[0] || code == 2 || code == 4 || code == 5);
    if (!c->ever_connected)
        c->first_failed = true;
    c->refused |= refused;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
    if (refused)
        mqtt__explain(c, code, tls_err);
}

/* Connection lost: Paho reconnects automatically. */
static void mqtt__on_lost(void *ctx, char *cause)
{
    sim_conn *c = ctx;
    pthread_mutex_lock(&c->sync->lock);
    c->connected = false;
    c->subscribed = false;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
}

/* A message arrived: hand it over, then free Paho's copies. */
static int mqtt__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    sim_conn *c = ctx;
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    if (c->on_msg)
        c->on_msg(c->msg_ctx, topic, tl, m->payload, (size_t)m->payloadlen);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* PUBACK for a publication. */
static void mqtt__on_pub_ok(void *ctx, MQTTAsync_successData *r)
{
    sim_pub *p = ctx;
    if (p)
        p->done(p, 1);
}

/* A publication failed (Paho will not send it again). */
static void mqtt__on_pub_failed(void *ctx, MQTTAsync_failureData *r)
{
    sim_pub *p = ctx;
    if (p)
        p->done(p, 0);
}

/* Issues MQTTAsync_connect with the connection's options. */
static int mqtt__connect(sim_conn *c)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = MQTT_KEEPALIVE_S;
    co.cleansession = c->clean;
    co.maxInflight = (int)c->max_inflight;
    co.connectTimeout = MQTT_CONNECT_TMO_S;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.automaticReconnect = 1;
    co.minRetryInterval = MQTT_RETRY_MIN_S;
    co.maxRetryInterval = MQTT_RETRY_MAX_S;
    co.onFailure = mqtt__on_connect_failed;
    co.context = c;
    co.username = c->auth[0];
    co.password = c->auth[1];
    vg_paho_tls_apply(&c->tls_opts, c->tls, &co, c->auth[2], c->auth[3], c->auth[4]);
    int rc = MQTTAsync_connect(c->h, &co);
    if (rc != MQTTASYNC_SUCCESS)
        fprintf(stderr, "vigil-sim: %s: connect refused by the client library (%d)\n", c->client_id,
                rc);
    return rc == MQTTASYNC_SUCCESS ? VG_OK : VG_EINVAL;
}

/* strdup of s, or NULL for NULL / "" (*bad set when out of memory). */
static char *mqtt__dup(const char *s, bool *bad)
{
    char *d = s && s[0] ? strdup(s) : NULL;
    *bad |= s && s[0] && !d;
    return d;
}

/* Copies the URI as Paho wants it (vg_uri_paho), the login and the TLS
 * files into c.  VG_OK, VG_EINVAL (no known scheme; said on stderr) or
 * VG_ENOMEM. */
static int mqtt__copy_auth(sim_conn *c, const sim_conn_opts *o)
{
    bool bad = false;
    size_t n = strlen(o->uri) + 8;
    c->uri = malloc(n);
    if (!c->uri)
        return VG_ENOMEM;
    if (vg_uri_paho(o->uri, c->uri, n, &c->tls) != VG_OK) {
        fprintf(stderr, "vigil-sim: cannot use broker URI '%s' (expected " VG_URI_EXPECTED ")\n",
                o->uri);
        return VG_EINVAL;
    }
    const sim_conn_auth *a = &o->auth;
    c->auth[0] = mqtt__dup(a->username ? a->username : o->default_user, &bad);
    c->auth[1] = mqtt__dup(a->password, &bad);
    c->auth[2] = mqtt__dup(a->ca_file, &bad);
    c->auth[3] = mqtt__dup(a->cert_file, &bad);
    c->auth[4] = mqtt__dup(a->key_file, &bad);
    return bad ? VG_ENOMEM : VG_OK;
}

/* Copies the options into c. */
static int mqtt__copy_opts(sim_conn *c, const sim_conn_opts *o)
{
    c->sync = o->sync;
    c->client_id = strdup(o->client_id);
    int rc = c->client_id ? mqtt__copy_auth(c, o) : VG_ENOMEM;
    if (rc != VG_OK)
        return rc;
    for (uint32_t i = 0; i < o->nsub && i < SIM_CONN_SUBS_MAX; i++) {
        c->subs[i] = strdup(o->subs[i]);
        if (!c->subs[i])
            return VG_ENOMEM;
        c->qos[i] = 1;
        c->nsub++;
    }
    c->clean = o->clean_session;
    c->max_inflight = o->max_inflight ? o->max_inflight : 1;
    c->on_msg = o->on_msg;
    c->msg_ctx = o->msg_ctx;
    return VG_OK;
}

/* Frees c's memory (the Paho client must be destroyed already). */
static void mqtt__free(sim_conn *c)
{
    for (uint32_t i = 0; i < c->nsub; i++)
        free(c->subs[i]);
    for (size_t i = 0; i < sizeof c->auth / sizeof c->auth[0]; i++)
        free(c->auth[i]);
    free(c->uri);
    free(c->client_id);
    free(c);
}

/* Creates the Paho client of c and installs the callbacks. */
static int mqtt__create(sim_conn *c)
{
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer;
    cr.sendWhileDisconnected = 1;
    cr.maxBufferedMessages = (int)(c->max_inflight + MQTT_BUFFER_SLACK);
    cr.MQTTVersion = MQTTVERSION_3_1_1;
    cr.allowDisconnectedSendAtAnyTime = 1;
    cr.deleteOldestMessages = 0;
    int rc = MQTTAsync_createWithOptions(&c->h, c->uri, c->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &cr);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "vigil-sim: cannot create an MQTT client for %s (%d)\n", c->uri, rc);
        return VG_EINVAL;
    }
    if (MQTTAsync_setCallbacks(c->h, c, mqtt__on_lost, mqtt__on_message, NULL) !=
            MQTTASYNC_SUCCESS ||
        MQTTAsync_setConnected(c->h, c, mqtt__on_connected) != MQTTASYNC_SUCCESS) {
        MQTTAsync_destroy(&c->h);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* See mqtt.h. */
int sim_conn_open(sim_conn **out, const sim_conn_opts *o)
{
    *out = NULL;
    sim_conn *c = calloc(1, sizeof *c);
    if (!c)
        return VG_ENOMEM;
    int rc = mqtt__copy_opts(c, o);
    if (rc == VG_OK)
        rc = mqtt__create(c);
    if (rc != VG_OK) {
        mqtt__free(c);
        return rc;
    }
    rc = mqtt__connect(c);
    if (rc != VG_OK) {
        MQTTAsync_destroy(&c->h);
        mqtt__free(c);
        return rc;
    }
    *out = c;
    return VG_OK;
}

/* See mqtt.h. */
int sim_conn_wait_ready(sim_conn *c, int64_t deadline_us)
{
    pthread_mutex_lock(&c->sync->lock);
    while (!(c->connected && c->subscribed) && !c->refused && sim_mono_us() < deadline_us) {
        if (c->first_failed) {
            c->first_failed = false;
            pthread_mutex_unlock(&c->sync->lock);
            sim_sleep_until(sim_mono_us() + MQTT_RETRY_FIRST_US, NULL);
            mqtt__connect(c);
            pthread_mutex_lock(&c->sync->lock);
            continue;
        }
        sim_sync_wait(c->sync, deadline_us);
    }
    bool ok = c->connected && c->subscribed, refused = c->refused;
    pthread_mutex_unlock(&c->sync->lock);
    return ok ? VG_OK : refused ? VG_EIO : VG_EMISSING;
}

/* See mqtt.h. */
int sim_conn_publish(sim_conn *c, const char *topic, const void *payload, size_t len, bool retained,
                     sim_pub *pub)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)(uintptr_t)payload;
    m.payloadlen = (int)len;
    m.qos = 1;
    m.retained = retained;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = mqtt__on_pub_ok;
    ro.onFailure = mqtt__on_pub_failed;
    ro.context = pub;
    int rc = MQTTAsync_sendMessage(c->h, topic, &m, &ro);
    if (rc == MQTTASYNC_SUCCESS)
        return VG_OK;
    return rc == MQTTASYNC_MAX_BUFFERED_MESSAGES ? VG_ENOSPC : VG_EINVAL;
}

/* See mqtt.h. */
uint64_t sim_conn_connects(sim_conn *c)
{
    pthread_mutex_lock(&c->sync->lock);
    uint64_t n = c->connects;
    pthread_mutex_unlock(&c->sync->lock);
    return n;
}

/* Our disconnect completed (or failed: either way we are done). */
static void mqtt__on_disconnected(void *ctx, MQTTAsync_successData *r)
{
    sim_conn *c = ctx;
    mqtt__signal(c, &c->disconnected, true);
}

/* Disconnect failure: treated as done. */
static void mqtt__on_disconnect_failed(void *ctx, MQTTAsync_failureData *r)
{
    sim_conn *c = ctx;
    mqtt__signal(c, &c->disconnected, true);
}

/* See mqtt.h. */
void sim_conn_close(sim_conn *c, int timeout_ms)
{
    if (!c)
        return;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = timeout_ms;
    d.onSuccess = mqtt__on_disconnected;
    d.onFailure = mqtt__on_disconnect_failed;
    d.context = c;
    if (MQTTAsync_disconnect(c->h, &d) == MQTTASYNC_SUCCESS) {
        int64_t deadline = sim_mono_us() + (int64_t)timeout_ms * 1000 + 1000000;
        pthread_mutex_lock(&c->sync->lock);
        while (!c->disconnected && sim_mono_us() < deadline)
            sim_sync_wait(c->sync, deadline);
        pthread_mutex_unlock(&c->sync->lock);
    }
    MQTTAsync_destroy(&c->h);
    mqtt__free(c);
}
