/*
 * mqtt.h - the Paho async (MQTTAsync) shell of vigil-sim.
 *
 * One sim_conn is one MQTT client session: a stable client id, a
 * persistent session (cleansession = 0) unless asked otherwise, automatic
 * reconnect (1 s doubling to 4 s), publishing while disconnected (Paho
 * buffers up to max_inflight + 16 messages), MQTT 3.1.1.  On every
 * (re)connect it subscribes to its topics at QoS 1, so commands keep
 * arriving after a broker restart that lost the session.
 *
 * Threads: Paho runs callbacks on its own threads.  Connection state lives
 * under the shared sim_sync lock, which is broadcast on every change; the
 * lock is never held while calling into Paho (Paho may be inside one of
 * our callbacks waiting for it).  Publish completions are delivered to the
 * sim_pub hook embedded in the caller's record, PUBACK (QoS 1) = ok.
 *
 * TLS and login (as vigild's [mqtt] keys): an ssl:// or mqtts:// URI
 * connects over TLS (vigil-sim links Paho's TLS variant, paho-mqtt3as) with
 * trustStore = ca_file, keyStore = cert_file, privateKey = key_file, and
 * the server certificate verified against the CA including its host name
 * (always on, as in vigild); mqtt:// is tcp://.  A user name and password
 * go into the CONNECT when given.  A first connect the broker refuses (not
 * authorised, bad user name or password) or whose TLS handshake fails is
 * not retried: the reason is printed on stderr (the first few connections
 * only) and sim_conn_wait_ready() returns at once.
 *
 * Renewal (sim_conn_renew): Paho 1.3.12 can wedge a persistent session
 * (a QoS 1 publish cut by a dying connection is kept with an empty topic
 * and resent first after every reconnect; the broker drops each
 * connection as malformed).  Two connections in a row lost within 2 s of
 * their CONNACK mark the session wedged; the publishing thread then
 * replaces the Paho client by a fresh one with the same client id and
 * retires the old one (kept allocated, never connected again).
 *
 * Cost: a publish is one Paho call (which copies the payload); memory per
 * connection is Paho's plus a few hundred bytes here.
 */
#ifndef SIM_MQTT_H
#define SIM_MQTT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_CONN_SUBS_MAX 4

/* A mutex and a condition (CLOCK_MONOTONIC) shared by connections and
 * outboxes of one run. */
typedef struct sim_sync {
    pthread_mutex_t lock; /* guards connection state and outbox counters */
    pthread_cond_t cond;  /* broadcast on acks, failures, (dis)connects */
} sim_sync;

/* Completion hook of one publish: embed as the FIRST member of a record. */
typedef struct sim_pub sim_pub;
typedef void sim_pub_done_fn(sim_pub *pub, int ok);
struct sim_pub {
    sim_pub_done_fn *done; /* called on a Paho thread: 1 acked, 0 failed */
};

/* Called on a Paho thread for every message received. */
typedef void sim_msg_fn(void *ctx, const char *topic, size_t topic_len, const void *payload,
                        size_t len);

/* Login and TLS files (--username --password --ca-file --cert-file
 * --key-file); NULL = not used. */
typedef struct sim_conn_auth {
    const char *username;  /* CONNECT user name */
    const char *password;  /* CONNECT password */
    const char *ca_file;   /* PEM CA bundle the broker's certificate chains to */
    const char *cert_file; /* PEM client certificate */
    const char *key_file;  /* PEM client key (unencrypted) */
} sim_conn_auth;

/* How to open a connection. */
typedef struct sim_conn_opts {
    const char *uri;                     /* tcp://, mqtt://, ssl:// or mqtts://host:port */
    const char *client_id;               /* stable id */
    bool clean_session;                  /* true: throw the session away */
    uint32_t max_inflight;               /* in-flight window (>= 1) */
    const char *subs[SIM_CONN_SUBS_MAX]; /* topics subscribed on every connect */
    uint32_t nsub;                       /* entries used in subs[] */
    sim_msg_fn *on_msg;                  /* message handler, may be NULL */
    void *msg_ctx;                       /* its context */
    sim_sync *sync;                      /* shared lock (borrowed) */
    sim_conn_auth auth;                  /* login and TLS files */
    const char *default_user;            /* user name when auth.username is NULL (a
                                            device's id; NULL = none) */
} sim_conn_opts;

typedef struct sim_conn sim_conn;

/* Initialises the lock and condition.  VG_OK or VG_ENOMEM. */
int sim_sync_init(sim_sync *s);

/* Destroys them. */
void sim_sync_destroy(sim_sync *s);

/* Waits on s->cond, lock held, until signalled or CLOCK_MONOTONIC reaches
 * deadline_us. */
void sim_sync_wait(sim_sync *s, int64_t deadline_us);

/* Creates a client and starts connecting (does not wait).  The strings of
 * *o are copied.  VG_OK, VG_EINVAL (Paho refused the URI or options; a
 * message goes to stderr) or VG_ENOMEM. */
int sim_conn_open(sim_conn **out, const sim_conn_opts *o);

/* Waits until connected and subscribed, retrying failed first connects,
 * until CLOCK_MONOTONIC reaches deadline_us.  VG_OK, VG_EMISSING (time
 * out) or VG_EIO (the broker refused the login or TLS failed; explained on
 * stderr). */
int sim_conn_wait_ready(sim_conn *c, int64_t deadline_us);

/* Publishes payload[0..len) to topic at QoS 1 (from the thread that calls
 * sim_conn_renew, if any).  `pub` (may be NULL) gets
 * the completion.  VG_OK when Paho accepted it; VG_ENOSPC when Paho's
 * buffer is full; VG_EINVAL on any other refusal (no completion then). */
int sim_conn_publish(sim_conn *c, const char *topic, const void *payload, size_t len, bool retained,
                     sim_pub *pub);

/* Replaces a wedged client (see the header comment) and retries the
 * replacement's failed first connect every 0.5 s; cheap otherwise.  Call
 * it periodically from the one thread that publishes on c, holding no
 * lock.  True when the client was replaced: no completion comes any more
 * for a publication handed to the old one (the old client is retired, not
 * destroyed: Paho 1.3.12 would free the broken message twice); the caller
 * sends again what it still holds. */
bool sim_conn_renew(sim_conn *c);

/* Clients replaced by sim_conn_renew so far. */
uint64_t sim_conn_renewals(sim_conn *c);

/* Successful connects so far (the first included). */
uint64_t sim_conn_connects(sim_conn *c);

/* Disconnects (waiting up to timeout_ms for in-flight messages) and frees
 * everything.  No callback runs for c afterwards.  NULL is a no-op. */
void sim_conn_close(sim_conn *c, int timeout_ms);

#endif
