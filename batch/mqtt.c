/*
 * mqtt.c - Paho MQTTAsync with MQTT 5 (see mqtt.h).  One mutex and one
 * condition variable turn Paho's completion callbacks into waits.
 */
#include "mqtt.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"

struct vb_mqtt {
    MQTTAsync h;          /* the Paho client */
    vb_mqtt_opts o;       /* options (strings borrowed) */
    pthread_mutex_t lock; /* guards the flags below */
    pthread_cond_t cond;  /* signalled on every completion */
    int connected;        /* CONNACK received and not lost since */
    int done;             /* the awaited operation completed */
    int ok;               /* ... successfully */
    int reason;           /* Paho / MQTT reason code of a failure */
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

static void mqtt__on_connected(void *ctx, char *cause)
{
    vb_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->connected = 1;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
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

/* Waits for the awaited operation (or the connection when `conn`). */
static int mqtt__wait(vb_mqtt *m, int conn)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += m->o.timeout_s > 0 ? m->o.timeout_s : 10;
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    while (rc == 0 && !(conn ? m->connected : m->done))
        rc = pthread_cond_timedwait(&m->cond, &m->lock, &dl);
    int ok = conn ? m->connected : m->done && m->ok;
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

/* Creates the client and sets the callbacks. */
static int mqtt__create(vb_mqtt *m)
{
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer5;
    if (MQTTAsync_createWithOptions(&m->h, m->o.uri, m->o.client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                    NULL, &cr) != MQTTASYNC_SUCCESS)
        return VG_EINVAL;
    if (MQTTAsync_setCallbacks(m->h, m, mqtt__on_lost, mqtt__on_message, NULL) !=
            MQTTASYNC_SUCCESS ||
        MQTTAsync_setConnected(m->h, m, mqtt__on_connected) != MQTTASYNC_SUCCESS)
        return VG_EINVAL;
    return VG_OK;
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
    co.onFailure5 = mqtt__on_fail5;
    co.context = m;
    mqtt__arm(m);
    int rc = MQTTAsync_connect(m->h, &co);
    MQTTProperties_free(&props);
    return rc == MQTTASYNC_SUCCESS ? VG_OK : VG_EIO;
}

/* See mqtt.h. */
int vb_mqtt_open(const vb_mqtt_opts *o, vb_mqtt **out, char *err, size_t errlen)
{
    *out = NULL;
    vb_mqtt *m = calloc(1, sizeof *m);
    if (!m)
        return VG_ENOMEM;
    m->o = *o;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    int rc = mqtt__create(m);
    if (rc == VG_OK)
        rc = mqtt__connect(m);
    if (rc == VG_OK)
        rc = mqtt__wait(m, 1);
    if (rc != VG_OK) {
        snprintf(err, errlen, "cannot connect to %s as %s (code %d)", o->uri, o->client_id,
                 m->reason);
        vb_mqtt_close(m);
        return rc;
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
    for (int i = 0; i < n; i++)
        qos[i] = 1;
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
