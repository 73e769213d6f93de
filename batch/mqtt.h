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
 *
 * TLS and login (as vigild's [mqtt] keys and vigilctl's flags): an ssl://
 * or mqtts:// URI connects over TLS (the program links Paho's TLS variant,
 * paho-mqtt3as) with trustStore = ca_file, keyStore = cert_file,
 * privateKey = key_file, the server certificate verified against the CA
 * and its name checked against the URI's host (enableServerCertAuth and
 * verify, always on, as in vigild); mqtt:// is tcp://.  A user name and
 * password go into the CONNECT when given.  A failed connect is classified
 * (enum vb_mqtt_fail) so the program can say why and exit accordingly.
 */
#ifndef VB_MQTT_H
#define VB_MQTT_H

#include <stddef.h>
#include <stdint.h>

typedef struct vb_mqtt vb_mqtt;

/* Message callback: returns 1 when the message was processed. */
typedef int (*vb_mqtt_msg_fn)(void *ctx, const char *topic, size_t topic_len, const void *p,
                              size_t len);

/* Credentials and TLS files; NULL or "" = not used.  Strings borrowed. */
typedef struct vb_mqtt_auth {
    const char *username;  /* CONNECT user name */
    const char *password;  /* CONNECT password */
    const char *ca_file;   /* PEM CA bundle the server certificate must chain to */
    const char *cert_file; /* PEM client certificate */
    const char *key_file;  /* PEM client key (unencrypted) */
} vb_mqtt_auth;

/* Why vb_mqtt_open failed. */
enum vb_mqtt_fail {
    VB_MQTT_FAIL_NONE = 0,    /* it did not */
    VB_MQTT_FAIL_UNREACHABLE, /* no TCP connection, no answer, or another refusal */
    VB_MQTT_FAIL_TLS,         /* TLS handshake failed (certificate, CA, key, protocol) */
    VB_MQTT_FAIL_AUTH,        /* CONNACK: bad user name or password / not authorised */
    VB_MQTT_FAIL_URI          /* Paho refused the URI or a file option */
};

typedef struct vb_mqtt_opts {
    const char *uri;          /* tcp://, mqtt://, ssl:// or mqtts://host:port */
    const char *client_id;    /* client id (stable for a persistent session) */
    uint32_t session_expiry;  /* seconds; 0 = clean session */
    vb_mqtt_msg_fn on_msg;    /* may be NULL */
    void *ctx;                /* passed to on_msg */
    int timeout_s;            /* connect / ack wait limit (10) */
    const vb_mqtt_auth *auth; /* may be NULL: anonymous, no client files */
} vb_mqtt_opts;

/* Connects and waits for the CONNACK (at most timeout_s).  VG_OK, or
 * VG_EIO with *fail set (enum vb_mqtt_fail) and a one-line message in err
 * naming the broker and the cause ("not authorised", "TLS handshake
 * failed: certificate verify failed", "unreachable").  The caller owns
 * *out.  `fail` may be NULL. */
int vb_mqtt_open(const vb_mqtt_opts *o, vb_mqtt **out, int *fail, char *err, size_t errlen);

/* Subscribes to `n` filters at QoS 1 and waits for the SUBACK. */
int vb_mqtt_subscribe(vb_mqtt *m, char *const *filters, int n);

/* Publishes at QoS 1 (retained when asked) and waits for the PUBACK. */
int vb_mqtt_publish(vb_mqtt *m, const char *topic, const void *p, size_t len, int retained);

/* Disconnects and frees.  NULL ok. */
void vb_mqtt_close(vb_mqtt *m);

#endif
