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
 *
 * Renewal: Paho 1.3.12 can wedge a persistent session.  A QoS 1 publish
 * whose write failed as the connection died is kept in Paho's outbound
 * list with an empty topic and resent first after every reconnect, so
 * the broker drops each connection at once ("malformed packet" in
 * mosquitto's log), forever.  A connection lost within MQTT_WEDGE_US of
 * its CONNACK, MQTT_WEDGE_LOSSES times in a row, marks the client for
 * renewal (mqtt__on_lost); sim_conn_renew(), called by the thread that
 * publishes, then swaps in a fresh Paho client with the same client id
 * (the broker keeps the session), retires the old one and connects the
 * new one, retrying that first connect every MQTT_RETRY_FIRST_US while it
 * fails.  The caller resends what it had handed to the old client.
 *
 * A retired client is never destroyed: the broken message's topic and
 * payload were already freed by Paho (the publish command's failure path
 * frees them while the stored publication still points at them), so
 * MQTTAsync_destroy, or any clean session, frees them a second time (seen
 * as a crash in MQTTAsync_send after a destroy).  Instead its reconnects
 * are pointed at MQTT_DEAD_URI with automatic reconnect off (a second
 * MQTTAsync_connect replaces both), and its callbacks are ignored from
 * then on: every callback gets an mqtt_client (or, for a publication, an
 * mqtt_send naming its client) and checks `retired`.  Cost: one client
 * creation per renewal and a few kB that stay allocated; per publication
 * one 16-byte mqtt_send allocation.
 */
#include "mqtt.h"

#include <MQTTAsync.h>
#include <sched.h>
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
/* A session is taken for wedged after MQTT_WEDGE_LOSSES connections in a
 * row that were lost within MQTT_WEDGE_US of their CONNACK. */
#define MQTT_WEDGE_US     2000000
#define MQTT_WEDGE_LOSSES 2
#define MQTT_DEAD_URI     "tcp://127.0.0.1:1" /* where a retired client's connects go */

/* One Paho client of a connection, the context of its callbacks.  Retired
 * by sim_conn_renew: its callbacks return at once, and it stays allocated
 * (Paho may still call one of them). */
typedef struct mqtt_client {
    sim_conn *c;               /* owner (not touched once retired) */
    MQTTAsync h;               /* the Paho client */
    atomic_bool retired;       /* replaced: ignore its callbacks */
    atomic_int busy;           /* publication completions under way */
    struct mqtt_client *older; /* clients retired before it */
} mqtt_client;

/* One publication handed to Paho: the context of its completion, freed
 * there (or never, when its client is retired and never completes it). */
typedef struct mqtt_send {
    mqtt_client *via; /* the client it went through */
    sim_pub *pub;     /* the caller's hook, may be NULL */
} mqtt_send;

static atomic_int mqtt_refusals; /* refused connections so far (all of them) */

struct sim_conn {
    mqtt_client *cli;     /* the current Paho client (replaced by sim_conn_renew) */
    mqtt_client *retired; /* retired clients, newest first (never freed) */
    sim_sync *sync;       /* shared lock (borrowed) */
    char *uri;            /* owned copies of the options (URI: vg_uri_paho) */
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
    int64_t retry_us;    /* first_failed: retry the connect from then on */
    int64_t connack_us;  /* monotonic time of the last CONNACK */
    uint32_t quick;      /* connections lost in a row soon after their CONNACK */
    bool renew_due;      /* the session looks wedged: sim_conn_renew replaces cli */
    uint64_t renewals;   /* clients replaced */
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

/* The connection of client k, or NULL when k is retired (its callbacks
 * are ignored). */
static sim_conn *mqtt__live(mqtt_client *k)
{
    return atomic_load(&k->retired) ? NULL : k->c;
}

/* SUBACK. */
static void mqtt__on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    sim_conn *c = mqtt__live(ctx);
    if (c)
        mqtt__signal(c, &c->subscribed, true);
}

/* Subscription refused: leave subscribed false (wait_ready times out). */
static void mqtt__on_sub_failed(void *ctx, MQTTAsync_failureData *r)
{
    sim_conn *c = mqtt__live(ctx);
    if (c)
        fprintf(stderr, "vigil-sim: %s: subscribe failed (%d)\n", c->client_id, r ? r->code : -1);
}

/* Connected (first connect and every automatic reconnect). */
static void mqtt__on_connected(void *ctx, char *cause)
{
    mqtt_client *k = ctx;
    sim_conn *c = mqtt__live(k);
    if (!c)
        return;
    pthread_mutex_lock(&c->sync->lock);
    if (c->cli != k) { /* retired meanwhile */
        pthread_mutex_unlock(&c->sync->lock);
        return;
    }
    c->connack_us = sim_mono_us();
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
    ro.context = k;
    int rc = MQTTAsync_subscribeMany(k->h, (int)c->nsub, c->subs, c->qos, &ro);
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
    sim_conn *c = mqtt__live(ctx);
    if (!c)
        return;
    int code = r ? r->code : MQTTASYNC_FAILURE;
    char tls_err[VG_PAHO_TLS_REASON_MAX];
    vg_paho_tls_take(&c->tls_opts, tls_err, sizeof tls_err);
    pthread_mutex_lock(&c->sync->lock);
    bool refused = !c->ever_connected && (tls_err[0] || code == 2 || code == 4 || code == 5);
    if (!c->ever_connected) {
        c->first_failed = true;
        c->retry_us = sim_mono_us() + MQTT_RETRY_FIRST_US;
    }
    c->refused |= refused;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
    if (refused)
        mqtt__explain(c, code, tls_err);
}

/* Connection lost: Paho reconnects automatically.  A connection lost
 * within MQTT_WEDGE_US of its CONNACK, MQTT_WEDGE_LOSSES times in a row,
 * asks sim_conn_renew for a fresh client (see the header comment). */
static void mqtt__on_lost(void *ctx, char *cause)
{
    sim_conn *c = mqtt__live(ctx);
    if (!c)
        return;
    pthread_mutex_lock(&c->sync->lock);
    if (c->cli != ctx) { /* retired meanwhile */
        pthread_mutex_unlock(&c->sync->lock);
        return;
    }
    bool quick = c->connected && sim_mono_us() - c->connack_us < MQTT_WEDGE_US;
    c->quick = quick ? c->quick + 1 : 0;
    c->renew_due |= c->quick >= MQTT_WEDGE_LOSSES;
    c->connected = false;
    c->subscribed = false;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
}

/* A message arrived: hand it over, then free Paho's copies. */
static int mqtt__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    sim_conn *c = mqtt__live(ctx);
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    if (c && c->on_msg)
        c->on_msg(c->msg_ctx, topic, tl, m->payload, (size_t)m->payloadlen);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* Completion of publication s (ok: PUBACK): handed to its hook unless its
 * client was retired meanwhile (mqtt__retire waits for `busy` to drop, so
 * no hook runs once a retirement has returned). */
static void mqtt__pub_done(mqtt_send *s, int ok)
{
    mqtt_client *k = s->via;
    sim_pub *p = s->pub;
    free(s);
    atomic_fetch_add(&k->busy, 1);
    if (p && !atomic_load(&k->retired))
        p->done(p, ok);
    atomic_fetch_sub(&k->busy, 1);
}

/* PUBACK for a publication. */
static void mqtt__on_pub_ok(void *ctx, MQTTAsync_successData *r)
{
    mqtt__pub_done(ctx, 1);
}

/* A publication failed (Paho will not send it again). */
static void mqtt__on_pub_failed(void *ctx, MQTTAsync_failureData *r)
{
    mqtt__pub_done(ctx, 0);
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
    co.context = c->cli;
    co.username = c->auth[0];
    co.password = c->auth[1];
    vg_paho_tls_apply(&c->tls_opts, c->tls, &co, c->auth[2], c->auth[3], c->auth[4]);
    int rc = MQTTAsync_connect(c->cli->h, &co);
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

/* Creates a Paho client for c into *out and installs the callbacks (not
 * connected).  VG_OK, VG_ENOMEM or VG_EINVAL (said on stderr). */
static int mqtt__create(sim_conn *c, mqtt_client **out)
{
    mqtt_client *k = calloc(1, sizeof *k);
    if (!k)
        return VG_ENOMEM;
    k->c = c;
    MQTTAsync *h = &k->h;
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer;
    cr.sendWhileDisconnected = 1;
    cr.maxBufferedMessages = (int)(c->max_inflight + MQTT_BUFFER_SLACK);
    cr.MQTTVersion = MQTTVERSION_3_1_1;
    cr.allowDisconnectedSendAtAnyTime = 1;
    cr.deleteOldestMessages = 0;
    int rc = MQTTAsync_createWithOptions(h, c->uri, c->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                         &cr);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "vigil-sim: cannot create an MQTT client for %s (%d)\n", c->uri, rc);
        free(k);
        return VG_EINVAL;
    }
    if (MQTTAsync_setCallbacks(*h, k, mqtt__on_lost, mqtt__on_message, NULL) != MQTTASYNC_SUCCESS ||
        MQTTAsync_setConnected(*h, k, mqtt__on_connected) != MQTTASYNC_SUCCESS) {
        MQTTAsync_destroy(h);
        free(k);
        return VG_EINVAL;
    }
    *out = k;
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
        rc = mqtt__create(c, &c->cli);
    if (rc != VG_OK) {
        mqtt__free(c);
        return rc;
    }
    rc = mqtt__connect(c);
    if (rc != VG_OK) {
        MQTTAsync_destroy(&c->cli->h);
        free(c->cli);
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
    mqtt_send *s = malloc(sizeof *s);
    if (!s)
        return VG_ENOSPC; /* as a full buffer: the caller tries again later */
    s->via = c->cli;
    s->pub = pub;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = mqtt__on_pub_ok;
    ro.onFailure = mqtt__on_pub_failed;
    ro.context = s;
    int rc = MQTTAsync_sendMessage(c->cli->h, topic, &m, &ro);
    if (rc == MQTTASYNC_SUCCESS)
        return VG_OK;
    free(s);
    return rc == MQTTASYNC_MAX_BUFFERED_MESSAGES ? VG_ENOSPC : VG_EINVAL;
}

/* Retires client k (the caller's thread, lock not held): from now on its
 * callbacks are ignored, and once no completion of it is running its
 * reconnects go to MQTT_DEAD_URI with automatic reconnect off, so it never
 * resends its broken message again nor takes the session over.  It is not
 * destroyed (see the header comment). */
static void mqtt__retire(sim_conn *c, mqtt_client *k)
{
    atomic_store(&k->retired, true);
    while (atomic_load(&k->busy) > 0)
        sched_yield(); /* a completion that saw k live is finishing */
    char *dead[1] = {MQTT_DEAD_URI};
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = MQTT_KEEPALIVE_S;
    co.cleansession = 0; /* a clean session would free the broken message */
    co.connectTimeout = 1;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.automaticReconnect = 0;
    co.serverURIs = dead;
    co.serverURIcount = 1;
    co.context = k;
    vg_paho_tls_apply(&c->tls_opts, c->tls, &co, c->auth[2], c->auth[3], c->auth[4]);
    MQTTAsync_connect(k->h, &co);
    k->older = c->retired;
    c->retired = k;
}

/* Swaps a fresh client in for the wedged one, retires the old one and
 * connects the new one as a first connect (sim_conn_renew retries it).
 * False when no client could be created (said on stderr; the old one is
 * kept and renew_due stays set: tried again on the next call). */
static bool mqtt__replace(sim_conn *c)
{
    mqtt_client *fresh = NULL, *old;
    if (mqtt__create(c, &fresh) != VG_OK)
        return false;
    pthread_mutex_lock(&c->sync->lock);
    uint32_t quick = c->quick;
    old = c->cli;
    c->cli = fresh;
    c->renew_due = false;
    c->quick = 0;
    c->renewals++;
    c->connected = c->subscribed = false;
    c->ever_connected = c->first_failed = false;
    pthread_cond_broadcast(&c->sync->cond);
    pthread_mutex_unlock(&c->sync->lock);
    mqtt__retire(c, old);
    fprintf(stderr,
            "vigil-sim: WARN: %s: the broker dropped the last %u connections right after "
            "accepting them (what a Paho session wedged by a broken message does): replaced the "
            "MQTT client; its unacknowledged batches are sent again\n",
            c->client_id, quick);
    mqtt__connect(c);
    return true;
}

/* See mqtt.h. */
bool sim_conn_renew(sim_conn *c)
{
    pthread_mutex_lock(&c->sync->lock);
    bool due = c->renew_due;
    bool retry =
        !due && c->first_failed && !c->refused && c->renewals > 0 && sim_mono_us() >= c->retry_us;
    if (retry)
        c->first_failed = false;
    pthread_mutex_unlock(&c->sync->lock);
    if (retry)
        mqtt__connect(c); /* the renewed client's first connect failed */
    return due && mqtt__replace(c);
}

/* See mqtt.h. */
uint64_t sim_conn_renewals(sim_conn *c)
{
    pthread_mutex_lock(&c->sync->lock);
    uint64_t n = c->renewals;
    pthread_mutex_unlock(&c->sync->lock);
    return n;
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
    if (MQTTAsync_disconnect(c->cli->h, &d) == MQTTASYNC_SUCCESS) {
        int64_t deadline = sim_mono_us() + (int64_t)timeout_ms * 1000 + 1000000;
        pthread_mutex_lock(&c->sync->lock);
        while (!c->disconnected && sim_mono_us() < deadline)
            sim_sync_wait(c->sync, deadline);
        pthread_mutex_unlock(&c->sync->lock);
    }
    pthread_mutex_lock(&c->sync->lock);
    bool suspect = c->quick > 0 || c->renew_due;
    pthread_mutex_unlock(&c->sync->lock);
    if (suspect) {
        mqtt__retire(c, c->cli); /* may hold a broken message: not destroyed */
    } else {
        MQTTAsync_destroy(&c->cli->h);
        free(c->cli);
    }
    mqtt__free(c);
}
