/*
 * conn.h - vigilctl's broker connection: one Paho MQTTAsync client, the
 * same connection options as vigild (TLS CA / certificate / key,
 * username / password, optionally read from vigild's own config file), a
 * clean session, and a queue that hands arriving messages to the calling
 * thread, so subcommands stay single-threaded.
 *
 * Failures are classified for the exit code: a TCP, TLS or timeout failure
 * is CTL_EXIT_UNREACHABLE (a failed TLS handshake is told with OpenSSL's
 * reason, vg_paho_tls), a CONNACK refusal (bad user name or password, not
 * authorised, client id rejected) is CTL_EXIT_AUTH.  Broker URIs: tcp://,
 * mqtt://, ssl://, mqtts:// (vg_uri_paho); another is CTL_EXIT_USAGE.
 *
 * Cost: one Paho client (two threads); each message is copied once into
 * the queue and freed by the consumer.  The queue is unbounded: a consumer
 * that stops reading while the broker floods it grows memory.
 */
#ifndef CTL_CONN_H
#define CTL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

/* One received message, owned by the caller of ctl_conn_next. */
typedef struct ctl_msg {
    char *topic;          /* NUL-terminated */
    uint8_t *payload;     /* len bytes (NULL when len is 0) */
    size_t len;           /* payload bytes */
    int retained;         /* delivered from the broker's retained store */
    int64_t rx_us;        /* wall clock at arrival */
    struct ctl_msg *next; /* queue link (internal) */
} ctl_msg;

typedef struct ctl_conn ctl_conn;

/* Applies --config FILE (vigild's [mqtt] and [agent] root) to the options
 * the command line left unset, and $VIGIL_PASSWORD when no password is
 * given.  CTL_EXIT_OK, or CTL_EXIT_INPUT with a message when the file does
 * not load. */
int ctl_conn_options(ctl_opts *o);

/* Connects to o->broker and waits for the CONNACK (up to
 * o->connect_timeout_s).  Returns CTL_EXIT_OK with *out, or
 * CTL_EXIT_UNREACHABLE / CTL_EXIT_AUTH / CTL_EXIT_USAGE with a message on
 * stderr. */
int ctl_conn_open(const ctl_opts *o, ctl_conn **out);

/* Subscribes to `filter` at QoS 1 and waits for the SUBACK. */
int ctl_conn_subscribe(ctl_conn *c, const char *filter);

/* Publishes at QoS 1 and waits for the PUBACK.  CTL_EXIT_OK or
 * CTL_EXIT_FAIL with a message. */
int ctl_conn_publish(ctl_conn *c, const char *topic, const void *buf, size_t len, int retain);

/* Waits up to timeout_ms for the next message: *m is the message (free
 * with ctl_msg_free) or NULL on timeout.  Returns CTL_EXIT_OK, or
 * CTL_EXIT_UNREACHABLE once the connection is lost (queued messages are
 * handed out first). */
int ctl_conn_next(ctl_conn *c, int timeout_ms, ctl_msg **m);

void ctl_msg_free(ctl_msg *m);

/* Disconnects and frees everything; queued messages are dropped. */
void ctl_conn_close(ctl_conn *c);

#endif
