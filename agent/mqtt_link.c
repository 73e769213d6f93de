/*
 * mqtt_link.c - the Paho MQTTAsync shell (see mqtt_link.h).  Paho is not
 * linked: every call goes through the table of paho.h, loaded at create
 * time for the URI's scheme (plain or TLS variant).  Costs: a publish is
 * one MQTTAsync_sendMessage (Paho copies the payload and writes it from its
 * own thread); an incoming message is one callback.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "log.h"
#include "mqtt_link.h"
#include "paho.h"
#include "vg_error.h"
#include "vg_paho_tls.h"
#include "vg_uri.h"

#define LINK_TOPIC_MAX 512 /* root + device + suffix */
#define LINK_NSUB      3
/* A session is taken for wedged after LINK_WEDGE_LOSSES connections in a
 * row that were lost within LINK_WEDGE_US of their CONNACK (see
 * link__on_lost). */
#define LINK_WEDGE_US     2000000
#define LINK_WEDGE_LOSSES 2
#define LINK_DEAD_URI     "tcp://127.0.0.1:1" /* where a retired client's connects go */

/* One Paho client of a link: the current one, or one retired by
 * link__renew, which is kept and never destroyed (see link__retire).
 * Every Paho callback of the client gets it as its context. */
struct link_cli {
    struct vgd_link *l;     /* owner */
    MQTTAsync h;            /* the Paho client */
    atomic_int retired;     /* replaced: its callbacks are ignored */
    struct link_cli *older; /* clients retired before it (l->retired list) */
};

struct vgd_link {
    const vgd_paho *api;                 /* Paho, loaded for the URI's scheme */
    struct link_cli *cli;                /* current client (swapped under `users`) */
    struct link_cli *retired;            /* retired clients, newest first */
    const vgd_conf *c;                   /* borrowed */
    vgd_link_handlers hd;                /* callbacks */
    char uri[VGD_STR_MAX];               /* URI given to Paho (vg_uri_paho) */
    char client_id[VG_DEVICE_MAX + 8];   /* "vigild-<dev>" */
    char prefix[LINK_TOPIC_MAX - 32];    /* "ROOT/DEV/" (room for suffixes) */
    char sub[LINK_NSUB][LINK_TOPIC_MAX]; /* subscriptions, by enum vgd_in */
    char will_topic[LINK_TOPIC_MAX];     /* ROOT/DEV/status */
    void *will;                          /* will payload (owned) */
    size_t will_len;                     /* its length */
    int tls;                             /* a TLS scheme (vg_uri_paho) */
    vg_paho_tls tls_opts;                /* TLS options, handshake failure reason */
    atomic_int connected;                /* 1 while connected */
    atomic_int ever_connected;           /* Paho reconnects by itself after */
    atomic_int connecting;               /* a first connect is under way */
    int64_t next_try_us;                 /* next first-connect attempt */
    uint32_t backoff_s;                  /* current first-connect backoff */
    atomic_llong connected_us;           /* monotonic time of the last CONNACK */
    atomic_uint quick_losses;            /* losses in a row soon after CONNACK; at
                                            LINK_WEDGE_LOSSES vgd_link_poll renews */
    atomic_ullong renewals;              /* clients replaced (vgd_link_renewals) */
    atomic_int closed;                   /* vgd_link_destroy called: no handler runs */
};

static int64_t link__mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Lost (Paho reconnects by itself).  Paho 1.3.12 can wedge a persistent
 * session: a QoS 1 publish whose write failed as the connection died is
 * kept with a broken topic and resent first after every reconnect, so
 * the broker drops the connection at once ("malformed packet"), forever.
 * A connection lost within LINK_WEDGE_US of its CONNACK, LINK_WEDGE_LOSSES
 * times in a row, asks vgd_link_poll for a fresh client (link__renew). */
static void link__on_lost(void *ctx, char *cause)
{
    struct link_cli *k = ctx;
    vgd_link *l = k->l;
    if (atomic_load(&k->retired))
        return;
    atomic_store(&l->connected, 0);
    int quick = link__mono_us() - atomic_load(&l->connected_us) < LINK_WEDGE_US;
    atomic_store(&l->quick_losses, quick ? atomic_load(&l->quick_losses) + 1 : 0);
    vgd_log(VGD_WARN, "connection to %s lost%s%s; reconnecting", l->c->broker, cause ? ": " : "",
            cause ? cause : "");
    l->hd.lost(l->hd.user);
}

/* A message (from a retired client too: Paho has acknowledged it). */
static int link__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    vgd_link *l = ((struct link_cli *)ctx)->l;
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    for (int i = 0; i < LINK_NSUB && !atomic_load(&l->closed); i++) {
        if (strlen(l->sub[i]) == tl && memcmp(l->sub[i], topic, tl) == 0) {
            l->hd.message(l->hd.user, i, m->payload, (size_t)m->payloadlen);
            break;
        }
    }
    l->api->freeMessage(&m);
    l->api->free(topic);
    return 1;
}

static void link__on_sub_failed(void *ctx, MQTTAsync_failureData *r)
{
    vgd_log(VGD_ERR, "subscription refused by the broker (%d)", r ? r->code : 0);
}

/* Connected (first time or after an automatic reconnect): subscribe. */
static void link__on_connected(void *ctx, char *cause)
{
    struct link_cli *k = ctx;
    vgd_link *l = k->l;
    if (atomic_load(&k->retired))
        return;
    atomic_store(&l->connected_us, link__mono_us());
    char *topics[LINK_NSUB];
    int qos[LINK_NSUB];
    for (int i = 0; i < LINK_NSUB; i++) {
        topics[i] = l->sub[i];
        qos[i] = 1;
    }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onFailure = link__on_sub_failed;
    ro.context = l;
    int rc = l->api->subscribeMany(k->h, LINK_NSUB, topics, qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        vgd_log(VGD_ERR, "cannot subscribe (%d)", rc);
    atomic_store(&l->ever_connected, 1);
    atomic_store(&l->connecting, 0);
    atomic_store(&l->connected, 1);
    l->backoff_s = l->c->retry_min_s;
    vgd_log(VGD_INFO, "connected to %s as %s", l->c->broker, l->client_id);
    l->hd.connected(l->hd.user);
}

/* A first connect failed: says why (the TLS handshake's reason when there
 * is one) and lets vgd_link_poll try again. */
static void link__on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    struct link_cli *k = ctx;
    vgd_link *l = k->l;
    if (atomic_load(&k->retired))
        return;
    char why[VG_PAHO_TLS_REASON_MAX];
    if (vg_paho_tls_take(&l->tls_opts, why, sizeof why))
        vgd_log(VGD_WARN, "cannot connect to %s (TLS handshake failed: %s); retrying in %u s",
                l->c->broker, why, l->backoff_s);
    else
        vgd_log(VGD_WARN, "cannot connect to %s (%d%s%s); retrying in %u s", l->c->broker,
                r ? r->code : 0, r && r->message ? ": " : "", r && r->message ? r->message : "",
                l->backoff_s);
    atomic_store(&l->connecting, 0);
}

/* Archive chunk completions: the chunk carries the link (vgd_chunk.link). */
static void link__chunk_ok(void *ctx, MQTTAsync_successData *r)
{
    vgd_chunk *c = ctx;
    vgd_link *l = c->link;
    l->hd.chunk_done(l->hd.user, c, 1);
}

static void link__chunk_failed(void *ctx, MQTTAsync_failureData *r)
{
    vgd_chunk *c = ctx;
    vgd_link *l = c->link;
    l->hd.chunk_done(l->hd.user, c, 0);
}

/* Issues MQTTAsync_connect with every option. */
static int link__connect(vgd_link *l)
{
    const vgd_conf *c = l->c;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions wo = MQTTAsync_willOptions_initializer;
    co.keepAliveInterval = (int)c->keepalive_s;
    co.cleansession = 0;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.automaticReconnect = 1;
    co.minRetryInterval = (int)c->retry_min_s;
    co.maxRetryInterval = (int)c->retry_max_s;
    co.connectTimeout = 10;
    co.maxInflight = 1024;
    co.onFailure = link__on_connect_failed;
    co.context = l->cli;
    wo.topicName = l->will_topic;
    wo.payload.data = l->will;
    wo.payload.len = (int)l->will_len;
    wo.retained = 1;
    wo.qos = 1;
    co.will = &wo;
    if (c->username[0])
        co.username = c->username;
    if (c->password[0])
        co.password = c->password;
    vg_paho_tls_apply(&l->tls_opts, l->tls, &co, c->ca_file, c->cert_file, c->key_file);
    atomic_store(&l->connecting, 1);
    int rc = l->api->connect(l->cli->h, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        atomic_store(&l->connecting, 0);
        vgd_log(VGD_WARN, "connect to %s refused by the client library (%d)", c->broker, rc);
    }
    return rc;
}

/* Creates a Paho client for l with its callbacks (not connected):
 * MQTTASYNC_SUCCESS and *out (owned by l from then on), or Paho's error
 * (MQTTASYNC_FAILURE when out of memory too). */
static int link__client(vgd_link *l, struct link_cli **out)
{
    struct link_cli *k = calloc(1, sizeof(*k));
    if (!k)
        return MQTTASYNC_FAILURE;
    k->l = l;
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer;
    cr.sendWhileDisconnected = 1;
    cr.allowDisconnectedSendAtAnyTime = 1;
    cr.maxBufferedMessages = (int)l->c->max_buffered;
    cr.MQTTVersion = MQTTVERSION_3_1_1;
    int rc = l->api->createWithOptions(&k->h, l->uri, l->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                       NULL, &cr);
    if (rc == MQTTASYNC_SUCCESS &&
        (l->api->setCallbacks(k->h, k, link__on_lost, link__on_message, NULL) !=
             MQTTASYNC_SUCCESS ||
         l->api->setConnected(k->h, k, link__on_connected) != MQTTASYNC_SUCCESS)) {
        l->api->destroy(&k->h);
        rc = MQTTASYNC_FAILURE;
    }
    if (rc != MQTTASYNC_SUCCESS) {
        free(k);
        return rc;
    }
    *out = k;
    return MQTTASYNC_SUCCESS;
}

/* Retires client k (main thread): its callbacks are ignored from now on
 * (but for messages, which Paho has already acknowledged), and its
 * reconnects go to LINK_DEAD_URI with automatic reconnect off (a second
 * MQTTAsync_connect replaces both), so it never resends its broken message
 * nor takes the session from the new client again.  It is NOT destroyed:
 * Paho has already freed the broken message's topic and payload (the
 * publish command's failure path frees them while the stored publication
 * still points at them), so MQTTAsync_destroy, or a clean session, frees
 * them a second time (a crash in MQTTAsync_send, seen in vigil-sim).  A
 * retired client costs its Paho structures and a few kB for the life of
 * the process. */
static void link__retire(vgd_link *l, struct link_cli *k)
{
    char *dead[1] = {LINK_DEAD_URI};
    atomic_store(&k->retired, 1);
    if (l->api->isConnected(k->h)) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        l->api->disconnect(k->h, &d); /* cleansession 0: frees no message */
    }
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = (int)l->c->keepalive_s;
    co.cleansession = 0;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.automaticReconnect = 0;
    co.connectTimeout = 1;
    co.serverURIs = dead;
    co.serverURIcount = 1;
    co.context = k;
    l->api->connect(k->h, &co);
    k->older = l->retired;
    l->retired = k;
}

/* Replaces a wedged client by a fresh one (main thread, `users` not
 * held).  The new client is made first and swapped in under `users`,
 * which every other thread that publishes holds meanwhile, so no publish
 * is lost from then on; the old one is retired (link__retire).  What it
 * had not sent is dropped: its archive chunks are sent again from the
 * spool (the uplink requeued them when the connection was lost), and what
 * else matters is published again on connect (status, the latched
 * shutdown, the committed mark).  The broker keeps our session: same
 * client id, cleansession 0.  Then the new client connects as a first
 * connect does. */
static void link__renew(vgd_link *l, pthread_mutex_t *users)
{
    struct link_cli *fresh = NULL, *old;
    int rc = link__client(l, &fresh);
    if (rc != MQTTASYNC_SUCCESS) {
        vgd_log(VGD_ERR, "cannot create a fresh MQTT client (Paho %d); keeping the old one", rc);
        return;
    }
    vgd_log(VGD_WARN,
            "the broker dropped the last %u connections right after accepting them: "
            "replacing the MQTT client (its unsent messages are dropped; the spool resends "
            "the archive)",
            atomic_load(&l->quick_losses));
    pthread_mutex_lock(users);
    old = l->cli;
    l->cli = fresh;
    pthread_mutex_unlock(users);
    link__retire(l, old);
    atomic_store(&l->connected, 0);
    atomic_store(&l->ever_connected, 0);
    atomic_store(&l->connecting, 0);
    atomic_fetch_add(&l->renewals, 1);
    atomic_store(&l->quick_losses, 0);
    l->next_try_us = 0;
    l->backoff_s = l->c->retry_min_s;
}

uint64_t vgd_link_renewals(const vgd_link *l)
{
    return atomic_load(&l->renewals);
}

void vgd_link_poll(vgd_link *l, int64_t now_us, pthread_mutex_t *users)
{
    if (atomic_load(&l->quick_losses) >= LINK_WEDGE_LOSSES)
        link__renew(l, users);
    if (atomic_load(&l->ever_connected) || atomic_load(&l->connecting) || now_us < l->next_try_us)
        return;
    if (l->next_try_us != 0) {
        l->backoff_s = l->backoff_s * 2 > l->c->retry_max_s ? l->c->retry_max_s : l->backoff_s * 2;
    }
    l->next_try_us = now_us + (int64_t)l->backoff_s * 1000000;
    link__connect(l);
}

/* Fills the topic strings and the URI given to Paho (vg_uri_paho, which
 * also tells whether it is TLS).  VG_OK, or VG_ETOOBIG / VG_EINVAL with a
 * message in err. */
static int link__names(vgd_link *l, const vgd_conf *c, char *err, size_t errlen)
{
    static const char *const suffix[LINK_NSUB] = {"samples", "model", "cmd/reset"};
    int n = snprintf(l->prefix, sizeof l->prefix, "%s/%s/", c->root, c->device);
    if (n < 0 || (size_t)n >= sizeof l->prefix) {
        snprintf(err, errlen, "topic root and device id too long");
        return VG_ETOOBIG;
    }
    if (vg_uri_paho(c->broker, l->uri, sizeof l->uri, &l->tls) != VG_OK) {
        snprintf(err, errlen, "cannot use broker URI '%s' (expected " VG_URI_EXPECTED ")",
                 c->broker);
        return VG_EINVAL;
    }
    for (int i = 0; i < LINK_NSUB; i++)
        snprintf(l->sub[i], sizeof l->sub[i], "%s%s", l->prefix, suffix[i]);
    snprintf(l->will_topic, sizeof l->will_topic, "%sstatus", l->prefix);
    snprintf(l->client_id, sizeof l->client_id, "vigild-%.*s", VG_DEVICE_MAX, c->device);
    return VG_OK;
}

int vgd_link_create(const vgd_conf *c, const vgd_link_handlers *h, const void *will,
                    size_t will_len, vgd_link **out, char *err, size_t errlen)
{
    *out = NULL;
    vgd_link *l = calloc(1, sizeof(*l));
    if (!l || !(l->will = malloc(will_len ? will_len : 1))) {
        free(l);
        return VG_ENOMEM;
    }
    memcpy(l->will, will, will_len);
    l->will_len = will_len;
    l->c = c;
    l->hd = *h;
    l->backoff_s = c->retry_min_s;
    int names = link__names(l, c, err, errlen);
    if (names != VG_OK) {
        vgd_link_destroy(l, 0);
        return names;
    }
    if (vgd_paho_load(l->tls, &l->api, err, errlen) != VG_OK) {
        vgd_link_destroy(l, 0);
        return VG_EMISSING;
    }
    /* Paho records every packet and most calls in a 125 kB trace ring
     * (400 entries) that nothing here reads: errors only keeps it
     * untouched (idle RSS).  MQTT_C_CLIENT_TRACE_LEVEL still overrides. */
    l->api->setTraceLevel(MQTTASYNC_TRACE_ERROR);
    int rc = link__client(l, &l->cli);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "cannot create an MQTT client for %s (Paho %d)", c->broker, rc);
        vgd_link_destroy(l, 0);
        return VG_EINVAL;
    }
    *out = l;
    return VG_OK;
}

int vgd_link_connected(const vgd_link *l)
{
    return atomic_load(&l->connected);
}

/* Sends with the given response options. */
static int link__send(vgd_link *l, const char *suffix, const void *buf, size_t len, int retain,
                      MQTTAsync_responseOptions *ro)
{
    char topic[LINK_TOPIC_MAX];
    snprintf(topic, sizeof topic, "%s%s", l->prefix, suffix);
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)buf;
    m.payloadlen = (int)len;
    m.qos = 1;
    m.retained = retain;
    int rc = l->api->sendMessage(l->cli->h, topic, &m, ro);
    return rc == MQTTASYNC_SUCCESS ? VG_OK : VG_ENOSPC;
}

int vgd_link_publish(vgd_link *l, const char *suffix, const void *buf, size_t len, int retain)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    return link__send(l, suffix, buf, len, retain, &ro);
}

int vgd_link_send_chunk(vgd_link *l, const void *buf, size_t len, vgd_chunk *ctx)
{
    if (!atomic_load(&l->connected))
        return VG_EINVAL;
    ctx->link = l;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = link__chunk_ok;
    ro.onFailure = link__chunk_failed;
    ro.context = ctx;
    return link__send(l, "archive", buf, len, 0, &ro);
}

/* Disconnects client k, waiting up to timeout_ms for in-flight publishes. */
static void link__disconnect(vgd_link *l, struct link_cli *k, int timeout_ms)
{
    if (!l->api->isConnected(k->h))
        return;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = timeout_ms;
    l->api->disconnect(k->h, &d);
    for (int i = 0; i < timeout_ms / 10 + 50 && l->api->isConnected(k->h); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

/* A client that was just dropped right after its CONNACK may hold a broken
 * message: it is retired, not destroyed (link__retire).  A link with
 * retired clients stays allocated (their callbacks point to it), closed. */
void vgd_link_destroy(vgd_link *l, int timeout_ms)
{
    if (!l)
        return;
    atomic_store(&l->closed, 1);
    if (l->cli) {
        link__disconnect(l, l->cli, timeout_ms);
        if (atomic_load(&l->quick_losses)) {
            link__retire(l, l->cli);
        } else {
            l->api->destroy(&l->cli->h);
            free(l->cli);
        }
        l->cli = NULL;
    }
    if (l->retired)
        return;
    free(l->will);
    free(l);
}
