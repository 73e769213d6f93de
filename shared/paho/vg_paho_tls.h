/*
 * vg_paho_tls.h - Paho MQTTAsync's TLS options for a vigil client, and the
 * reason of a failed handshake.  NOT part of the core: it needs MQTTAsync.h
 * (library vigil-paho, shared/CMakeLists.txt), but no Paho library: it only
 * fills structures and never calls Paho, so vigild, which reaches Paho
 * through dlopen (agent/paho.h), uses it as vigil-batch, vigil-sim and
 * vigilctl do.
 *
 * Every vigil client checks the broker's certificate against the CA file
 * (or the system's trust store when none is given), verifies the host name
 * and may present a client certificate and key; OpenSSL's error lines of a
 * failed handshake reach vg_paho_tls's callback, which keeps the reason of
 * the first one ("certificate verify failed", see vg_tlsmsg.h) for the
 * program's message.  The reason is handed over lock-free: the callback
 * (Paho's thread) claims the empty slot, writes it, then publishes it;
 * vg_paho_tls_take (any thread) reads a published reason and empties the
 * slot.  Costs: vg_paho_tls_apply O(1); the callback O(line length), on a
 * failed handshake only; vg_paho_tls_take O(reason length).  No allocation.
 */
#ifndef VG_PAHO_TLS_H
#define VG_PAHO_TLS_H

#include <stdatomic.h>
#include <stddef.h>

#include <MQTTAsync.h>

#define VG_PAHO_TLS_REASON_MAX 256 /* reason kept, NUL included */

/* The TLS state of one Paho client.  Paho keeps a pointer to it (the error
 * callback's context) for the life of the client: embed it in the
 * connection's structure, never on a stack that dies before the client. */
typedef struct vg_paho_tls {
    MQTTAsync_SSLOptions so;             /* given to Paho as connectOptions.ssl */
    atomic_int state;                    /* reason: 0 empty, 1 being written, 2 set */
    char reason[VG_PAHO_TLS_REASON_MAX]; /* first OpenSSL reason of the handshake */
} vg_paho_tls;

/* Prepares the next connect: empties the reason and, when tls is non-zero,
 * fills t->so (CA, client certificate and key files, each NULL or "" for
 * none; server certificate and host name checked; the error callback) and
 * points co->ssl at it; co->ssl is left alone when tls is 0.  The strings
 * are borrowed until MQTTAsync_connect returns (Paho copies them).  Call
 * before every MQTTAsync_connect, while no handshake of t's client is
 * under way. */
void vg_paho_tls_apply(vg_paho_tls *t, int tls, MQTTAsync_connectOptions *co, const char *ca_file,
                       const char *cert_file, const char *key_file);

/* Copies the reason of the last failed handshake into out[0..cap) and
 * empties the slot; returns 1, or 0 with out = "" when there is none (no
 * handshake failed, or its callback has not finished).  Call from the
 * connect-failure path: Paho runs the error callback before it. */
int vg_paho_tls_take(vg_paho_tls *t, char *out, size_t cap);

#endif
