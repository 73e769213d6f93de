/*
 * vg_uri.h - a broker URI as vigil's users write it, in the form Paho wants.
 *
 * Users write mqtt:// and mqtts:// (the IANA names) as well as Paho's own
 * tcp:// and ssl://; Paho 1.3 is given tcp:// or ssl:// (and ws:// or
 * wss://, passed on as they are), so every vigil program that speaks MQTT
 * (vigild, vigil-batch, vigil-sim, vigilctl) accepts the same URIs, logs
 * the same rewritten form and knows from one table whether the connection
 * is TLS (which Paho variant to load, whether to fill the TLS options).
 * Pure text, O(URI length), no allocation, no I/O.
 */
#ifndef VG_URI_H
#define VG_URI_H

#include <stddef.h>

/* The accepted schemes, for every program's "cannot use broker URI" message
 * (ws:// and wss:// are accepted too, but not advertised). */
#define VG_URI_EXPECTED "tcp://, mqtt://, ssl:// or mqtts://HOST:PORT"

/* Writes into out[0..cap) the URI Paho is given for broker URI `uri`:
 * "mqtt://REST" -> "tcp://REST", "mqtts://REST" -> "ssl://REST", tcp://,
 * ssl://, ws:// and wss:// unchanged (schemes are case-sensitive, as in
 * Paho).  *tls (may be NULL) is 1 for ssl://, mqtts:// and wss://, else 0.
 * Returns VG_OK; VG_EINVAL when uri is NULL, has no known scheme or nothing
 * after it; VG_ENOSPC when the result does not fit in cap bytes.  On error
 * out is "" (cap > 0) and *tls is 0.  The caller owns both buffers. */
int vg_uri_paho(const char *uri, char *out, size_t cap, int *tls);

#endif
