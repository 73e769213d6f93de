/*
 * mqtt.c - Paho MQTTAsync with MQTT 5 (see mqtt.h).  One mutex and one
 * condition variable turn Paho's completion callbacks into waits.
 *
 * Connect failures are told apart by what Paho reports: OpenSSL's error
 * queue (handed to ssl_error_cb during the handshake) means TLS; an MQTT 5
 * CONNACK reason 0x86 (bad user name or password), 0x87 (not authorised),
 * 0x85 (client id not valid) or 0x8C (bad authentication method), or the
 * 3.1.1 codes 2, 4, 5 Paho passes on as `code`, mean the broker refused
 * the login; anything else (refused TCP connection, timeout, the broker
 * closing the socket) is "unreachable".
 */
#include "mqtt.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "vg_paho_tls.h"
#include "vg_uri.h"

struct vb_mqtt {
    MQTTAsync h;          /* the Paho client */
    vb_mqtt_opts o;       /* options (strings borrowed) */
    pthread_mutex_t lock; /* guards the flags below */
    pthread_cond_t cond;  /* signalled on every completion */
    int connected;        /* CONNACK received and not lost since */
    int done;             /* the awaited operation completed */
    int ok;               /* ... successfully */
    int reason;           /* Paho code of a failure */
    int mqtt_reason;      /* MQTT 5 reason code of a failure (0: none) */
    char fail_msg[160];   /* Paho's message of a failure */
    vg_paho_tls tls;      /* TLS options, reason of a failed handshake */
    int is_tls;           /* the URI's scheme is a TLS one */
    char uri[512];        /* URI given to Paho (vg_uri_paho) */
    char subs[16][256];   /* filters of the last vb_mqtt_subscribe, renewed on reconnect */
    int nsubs;            /* entries used in subs */
};

/* Marks the awaited operation complete. */
static void mqtt__complete(vb_mqtt *m, int ok, int reason)
{
    pthread_mutex_lock(&m->lock);
    m->done = 1;
    m->ok = ok;
    m->reason = reason;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void mqtt__on_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    mqtt__complete(ctx, 1, 0);
}

/* SUBACK: success only when every filter was granted (MQTT 5 reason codes
 * below 0x80; a single filter's code is in r->reasonCode). */
static void mqtt__on_suback5(void *ctx, MQTTAsync_successData5 *r)
{
    int bad = r && r->reasonCode >= 0x80;
    for (int i = 0; r && i < r->alt.sub.reasonCodeCount && r->alt.sub.reasonCodes; i++)
        bad |= r->alt.sub.reasonCodes[i] >= 0x80;
    mqtt__complete(ctx, !bad, bad ? 0x80 : 0);
}

static void mqtt__on_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    mqtt__complete(ctx, 0, r ? r->code : -1);
}

/* The connect failed: keep Paho's code, the MQTT 5 reason and message. */
static void mqtt__on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    vb_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->mqtt_reason = r ? (int)r->reasonCode : 0;
    snprintf(m->fail_msg, sizeof m->fail_msg, "%s", r && r->message ? r->message : "");
    pthread_mutex_unlock(&m->lock);
    mqtt__complete(ctx, 0, r ? r->code : -1);
}

/* Renews the subscriptions after an automatic reconnect.  A broker that
 * restarted may restore the session but not its shared subscriptions
 * (mosquitto 2.0 does not save $share subscriptions in its persistence
 * file: the ingest worker got nothing after a restart), and one that lost
 * its state restores nothing, so they are always sent again; a duplicate
 * SUBSCRIBE of a plain filter replaces the restored one (retained messages
 * are sent again: ingest stores them idempotently).  Runs on Paho's
 * thread: fire and forget. */
static void mqtt__resubscribe(vb_mqtt *m)
{
    char *f[16];
    int qos[16];
    for (int i = 0; i < m->nsubs; i++) {
        f[i] = m->subs[i];
        qos[i] = 1;
    }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (MQTTAsync_subscribeMany(m->h, m->nsubs, f, qos, &ro) != MQTTASYNC_SUCCESS)
        fprintf(stderr, "vigil-batch: cannot renew the subscriptions after a reconnect\n");
}

static void mqtt__on_connected(void *ctx, char *cause)
{
    vb_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->connected = 1;
    int renew = cause != NULL && m->nsubs > 0; /* cause is set on a reconnect */
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (renew)
        mqtt__resubscribe(m);
}

static void mqtt__on_lost(void *ctx, char *cause)
{
    vb_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->connected = 0;
    pthread_mutex_unlock(&m->lock);
}

static int mqtt__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    vb_mqtt *m = ctx;
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    int done =
        m->o.on_msg ? m->o.on_msg(m->o.ctx, topic, tl, msg->payload, (size_t)msg->payloadlen) : 1;
    if (!done)
        return 0; /* Paho keeps it and hands it out again */
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* Waits for the awaited operation (or the connection when `conn`: until
 * connected or the connect failed). */
static int mqtt__wait(vb_mqtt *m, int conn)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (m->o.timeout_s > 0 ? m->o.timeout_s : 10) + (conn ? 1 : 0);
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    while (rc == 0 && !(conn ? m->connected || m->done : m->done))
        rc = pthread_cond_timedwait(&m->cond, &m->lock, &dl);
    int ok = conn ? m->connected || (m->done && m->ok) : m->done && m->ok;
    pthread_mutex_unlock(&m->lock);
    return ok ? VG_OK : VG_EIO;
}

/* Arms the wait for the next operation. */
static void mqtt__arm(vb_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    m->done = m->ok = 0;
    pthread_mutex_unlock(&m->lock);
}

/* Creates the client and sets the callbacks (a URI of no known scheme is
 * refused as Paho would: MQTTASYNC_BAD_PROTOCOL). */
static int mqtt__create(vb_mqtt *m)
{
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer5;
    if (vg_uri_paho(m->o.uri, m->uri, sizeof m->uri, &m->is_tls) != VG_OK) {
        m->reason = MQTTASYNC_BAD_PROTOCOL;
        return VG_EINVAL;
    }
    int rc = MQTTAsync_createWithOptions(&m->h, m->uri, m->o.client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &cr);
    if (rc != MQTTASYNC_SUCCESS) {
        m->reason = rc;
        m->h = NULL;
        return VG_EINVAL;
    }
    if (MQTTAsync_setCallbacks(m->h, m, mqtt__on_lost, mqtt__on_message, NULL) !=
            MQTTASYNC_SUCCESS ||
        MQTTAsync_setConnected(m->h, m, mqtt__on_connected) != MQTTASYNC_SUCCESS)
        return VG_EINVAL;
    return VG_OK;
}

/* "" -> NULL, for Paho's optional strings. */
static const char *mqtt__opt(const char *s)
{
    return s && s[0] ? s : NULL;
}

/* Fills the login and, for a TLS scheme, the TLS options (vg_paho_tls, as
 * every vigil client does). */
static void mqtt__auth(vb_mqtt *m, MQTTAsync_connectOptions *co)
{
    static const vb_mqtt_auth none = {0};
    const vb_mqtt_auth *a = m->o.auth ? m->o.auth : &none;
    co->username = mqtt__opt(a->username);
    co->password = mqtt__opt(a->password);
    vg_paho_tls_apply(&m->tls, m->is_tls, co, a->ca_file, a->cert_file, a->key_file);
}

/* Starts the MQTT 5 connect with a persistent session when asked. */
static int mqtt__connect(vb_mqtt *m)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer5;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
    p.value.integer4 = m->o.session_expiry;
    if (m->o.session_expiry)
        MQTTProperties_add(&props, &p);
    co.cleanstart = m->o.session_expiry == 0;
    co.connectProperties = &props;
    co.keepAliveInterval = 10;
    co.automaticReconnect = 1;
    co.minRetryInterval = 1;
    co.maxRetryInterval = 8;
    co.connectTimeout = m->o.timeout_s > 0 ? m->o.timeout_s : 10;
    co.onSuccess5 = mqtt__on_ok5;
    co.onFailure5 = mqtt__on_connect_fail5;
    co.context = m;
    mqtt__auth(m, &co);
    mqtt__arm(m);
    int rc = MQTTAsync_connect(m->h, &co);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS)
        m->reason = rc;
    return rc == MQTTASYNC_SUCCESS ? VG_OK : VG_EIO;
}

/* Classifies a failed connect (enum vb_mqtt_fail) and explains it. */
static int mqtt__explain(vb_mqtt *m, int created, char *err, size_t errlen)
{
    const vb_mqtt_opts *o = &m->o;
    const char *user =
        o->auth && o->auth->username && o->auth->username[0] ? o->auth->username : "(anonymous)";
    char tls_err[VG_PAHO_TLS_REASON_MAX];
    vg_paho_tls_take(&m->tls, tls_err, sizeof tls_err);
    pthread_mutex_lock(&m->lock);
    int code = m->reason, done = m->done;
    int cr = m->mqtt_reason >= 0x80 ? m->mqtt_reason : code; /* Paho 1.3 puts it in `code` */
    int bad_id = cr == 2 || cr == 0x85, bad_pw = cr == 4 || cr == 0x86;
    int auth = bad_id || bad_pw || cr == 5 || cr == 0x87 || cr == 0x8C;
    int fail = VB_MQTT_FAIL_UNREACHABLE;
    if (!created || code == MQTTASYNC_BAD_PROTOCOL || code == MQTTASYNC_NULL_PARAMETER ||
        code == MQTTASYNC_BAD_STRUCTURE || code == MQTTASYNC_SSL_NOT_SUPPORTED) {
        fail = VB_MQTT_FAIL_URI;
        snprintf(err, errlen, "cannot use broker URI '%s' (Paho %d; expected " VG_URI_EXPECTED ")",
                 o->uri, code);
    } else if (tls_err[0]) {
        fail = VB_MQTT_FAIL_TLS;
        snprintf(err, errlen,
                 "broker %s: TLS handshake failed: %s (check --ca-file, --cert-file, "
                 "--key-file and the broker's name)",
                 o->uri, tls_err);
    } else if (bad_id) {
        fail = VB_MQTT_FAIL_AUTH;
        snprintf(err, errlen, "broker %s refused the client id '%s': not authorised", o->uri,
                 o->client_id);
    } else if (auth) {
        fail = VB_MQTT_FAIL_AUTH;
        snprintf(err, errlen, "broker %s refused the connection as user %s: not authorised%s",
                 o->uri, user, bad_pw ? " (bad user name or password)" : "");
    } else {
        snprintf(err, errlen, "broker %s unreachable%s%s%s (Paho %d)%s", o->uri,
                 done ? "" : ": no answer in time", m->fail_msg[0] ? ": " : "", m->fail_msg, code,
                 m->is_tls && !(o->auth && o->auth->cert_file && o->auth->cert_file[0])
                     ? "; no --cert-file: the broker may require a client certificate"
                     : "");
    }
    pthread_mutex_unlock(&m->lock);
    return fail;
}

/* See mqtt.h. */
int vb_mqtt_open(const vb_mqtt_opts *o, vb_mqtt **out, int *fail, char *err, size_t errlen)
{
    *out = NULL;
    if (fail)
        *fail = VB_MQTT_FAIL_NONE;
    vb_mqtt *m = calloc(1, sizeof *m);
    if (!m)
        return VG_ENOMEM;
    m->o = *o;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    int rc = mqtt__create(m);
    int created = rc == VG_OK;
    if (rc == VG_OK)
        rc = mqtt__connect(m);
    if (rc == VG_OK)
        rc = mqtt__wait(m, 1);
    if (rc != VG_OK) {
        int why = mqtt__explain(m, created, err, errlen);
        if (fail)
            *fail = why;
        vb_mqtt_close(m);
        return VG_EIO;
    }
    *out = m;
    return VG_OK;
}

/* See mqtt.h. */
int vb_mqtt_subscribe(vb_mqtt *m, char *const *filters, int n)
{
    int qos[16];
    if (n > 16)
        return VG_EINVAL;
    pthread_mutex_lock(&m->lock);
    m->nsubs = 0;
    for (int i = 0; i < n; i++) {
        qos[i] = 1;
        if (strlen(filters[i]) < sizeof m->subs[0])
            strcpy(m->subs[m->nsubs++], filters[i]);
    }
    pthread_mutex_unlock(&m->lock);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = mqtt__on_suback5;
    ro.onFailure5 = mqtt__on_fail5;
    ro.context = m;
    mqtt__arm(m);
    if (MQTTAsync_subscribeMany(m->h, n, (char *const *)filters, qos, &ro) != MQTTASYNC_SUCCESS)
        return VG_EIO;
    return mqtt__wait(m, 0);
}

/* See mqtt.h. */
int vb_mqtt_publish(vb_mqtt *m, const char *topic, const void *p, size_t len, int retained)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = mqtt__on_ok5;
    ro.onFailure5 = mqtt__on_fail5;
    ro.context = m;
    mqtt__arm(m);
    if (MQTTAsync_send(m->h, topic, (int)len, p, 1, retained, &ro) != MQTTASYNC_SUCCESS)
        return VG_EIO;
    return mqtt__wait(m, 0);
}

/* See mqtt.h. */
void vb_mqtt_close(vb_mqtt *m)
{
    if (!m)
        return;
    if (m->h) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = 2000;
        if (MQTTAsync_isConnected(m->h))
            MQTTAsync_disconnect(m->h, &d);
        for (int i = 0; i < 40 && MQTTAsync_isConnected(m->h); i++) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        MQTTAsync_destroy(&m->h);
    }
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
