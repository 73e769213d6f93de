/*
 * mqtt.h - the one Paho MQTTAsync connection of vigil-batch (MQTT 5).
 *
 * Connect is synchronous from the caller's view (waits for CONNACK);
 * subscribe waits for SUBACK, publish for PUBACK.  Incoming messages are
 * handed to the callback on Paho's thread; the callback returns 1 when it
 * has processed the message (Paho then frees it) or 0 to have it handed
 * out again later (e.g. the warehouse is locked).  Note: Paho C sends the
 * PUBACK of an incoming QoS 1 message when it receives it, before the
 * callback (see docs/BATCH.md for what that means for ingest).
 * Reconnects are automatic (1..8 s back-off); a persistent session
 * (clean start off, session expiry) keeps subscriptions and queued QoS 1
 * messages on the broker across them and across restarts.
 */
#ifndef VB_MQTT_H
#define VB_MQTT_H

#include <stddef.h>
#include <stdint.h>

typedef struct vb_mqtt vb_mqtt;

/* Message callback: returns 1 when the message was processed. */
typedef int (*vb_mqtt_msg_fn)(void *ctx, const char *topic, size_t topic_len, const void *p,
                              size_t len);

typedef struct vb_mqtt_opts {
    const char *uri;         /* tcp://host:port */
    const char *client_id;   /* client id (stable for a persistent session) */
    uint32_t session_expiry; /* seconds; 0 = clean session */
    vb_mqtt_msg_fn on_msg;   /* may be NULL */
    void *ctx;               /* passed to on_msg */
    int timeout_s;           /* connect / ack wait limit (10) */
} vb_mqtt_opts;

/* Connects; on failure a message in err.  The caller owns *out. */
int vb_mqtt_open(const vb_mqtt_opts *o, vb_mqtt **out, char *err, size_t errlen);

/* Subscribes to `n` filters at QoS 1 and waits for the SUBACK. */
int vb_mqtt_subscribe(vb_mqtt *m, char *const *filters, int n);

/* Publishes at QoS 1 (retained when asked) and waits for the PUBACK. */
int vb_mqtt_publish(vb_mqtt *m, const char *topic, const void *p, size_t len, int retained);

/* Disconnects and frees.  NULL ok. */
void vb_mqtt_close(vb_mqtt *m);

#endif
