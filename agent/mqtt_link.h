/*
 * mqtt_link.h - vigild's connection to the broker: the only file (with
 * vigild_*.c) that knows Paho.  Kept out of vigil-agent-lib so the unit
 * tests need no MQTT library and no broker.
 *
 * One Paho MQTTAsync client (MQTT 3.1.1):
 *   - client id "vigild-<dev>", persistent session (cleansession 0) so the
 *     broker queues QoS 1 samples, models and resets while we are away;
 *   - automatic reconnect with backoff retry_min_s .. retry_max_s; a failed
 *     *first* connect is retried by vgd_link_poll with the same backoff;
 *   - Last Will: a retained CBOR status "offline" on ROOT/DEV/status;
 *   - broker URI tcp://, mqtt://, ssl:// or mqtts:// (vg_uri_paho); TLS
 *     for the TLS schemes (CA, client cert and key from [mqtt], options
 *     filled by vg_paho_tls), the handshake's failure reason in the log;
 *     username/password when configured;
 *   - publishing while disconnected: up to max_buffered messages are kept
 *     by Paho and sent after the reconnect (a trip decided with the broker
 *     down reaches it once it is back);
 *   - a wedged session (the broker drops LINK_WEDGE_LOSSES connections in
 *     a row right after accepting them: what Paho 1.3.12 does after a
 *     publish was cut by a dying connection) gets a fresh Paho client; the
 *     old one is retired, its reconnects sent to a dead port;
 *   - subscriptions (QoS 1) to ROOT/DEV/samples, ROOT/DEV/model and
 *     ROOT/DEV/cmd/reset, renewed on every connect (a broker that lost its
 *     state, e.g. restarted without persistence, gets them again).
 *
 * Paho's callbacks run on its threads; the handlers given here are called
 * from them and must do their own locking.  Paho serialises them.
 *
 * Acknowledgement: Paho's C client sends the PUBACK of an incoming QoS 1
 * message as soon as it has read it, before calling messageArrived (see
 * docs/OPERATIONS.md for what that means for durability).
 */
#ifndef VGD_MQTT_LINK_H
#define VGD_MQTT_LINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_conf.h"
#include "uplink.h"

enum vgd_in { VGD_IN_SAMPLES = 0, VGD_IN_MODEL = 1, VGD_IN_RESET = 2 };

typedef struct vgd_link_handlers {
    void *user; /* passed back */
    /* A message on one of our subscriptions (enum vgd_in); the payload is
     * valid during the call only. */
    void (*message)(void *user, int which, const void *buf, size_t len);
    void (*connected)(void *user);                        /* (re)connected and subscribing */
    void (*lost)(void *user);                             /* connection lost */
    void (*chunk_done)(void *user, vgd_chunk *c, int ok); /* archive outcome */
} vgd_link_handlers;

typedef struct vgd_link vgd_link;

/* Creates the client (no connection yet).  `will` is the CBOR status to
 * leave as Last Will (copied).  The conf is borrowed for the link's life.
 * VG_EINVAL with a message in err when Paho refuses the options. */
int vgd_link_create(const vgd_conf *c, const vgd_link_handlers *h, const void *will,
                    size_t will_len, vgd_link **out, char *err, size_t errlen);

/* Starts or retries the first connection when due (monotonic now_us),
 * and replaces a wedged client (see below); call from the main loop, not
 * holding `users`: the lock that every other thread holds while it calls
 * vgd_link_publish (taken for the instant of the swap). */
void vgd_link_poll(vgd_link *l, int64_t now_us, pthread_mutex_t *users);
/* Clients replaced so far because the session was wedged. */
uint64_t vgd_link_renewals(const vgd_link *l);

/* 1 while connected. */
int vgd_link_connected(const vgd_link *l);

/* Publishes on ROOT/DEV/<suffix> at QoS 1 (retained when asked), without
 * waiting; buffered while disconnected.  VG_OK when queued. */
int vgd_link_publish(vgd_link *l, const char *suffix, const void *buf, size_t len, int retain);

/* Publishes an archive chunk; chunk_done(ctx, ok) follows on its PUBACK
 * or failure.  Only while connected (VG_EINVAL otherwise). */
int vgd_link_send_chunk(vgd_link *l, const void *buf, size_t len, vgd_chunk *ctx);

/* Disconnects (waiting up to timeout_ms for in-flight publishes) and
 * destroys the client; no handler runs after it returns.  A client that
 * may hold Paho's broken message, and any replaced one, is retired instead
 * (never destroyed: Paho would free that message twice), and the link's
 * memory then stays allocated for the life of the process. */
void vgd_link_destroy(vgd_link *l, int timeout_ms);

#endif
