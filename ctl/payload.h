/*
 * payload.h - what vigilctl knows about vigil payloads: which message a
 * topic carries, decoding it with the core's strict codecs (shared/vg_msg.h,
 * shared/vg_bundle.h), and rendering it as JSON members, as one aligned
 * human-readable line, or as CBOR diagnostic notation (RFC 8949 section 8).
 *
 * Design: a topic is ROOT/<dev>/<suffix>; the suffix (samples, alerts,
 * cmd/shutdown, cmd/reset, status, archive, model, model/ack) names the
 * message kind, so any topic root works.  A payload of unknown kind is
 * tried against every decoder in a fixed order and the first strict
 * success wins (the schemas differ in required keys, so a payload decodes
 * as one kind only in practice).  Nothing here crashes on hostile input:
 * the codecs are bounds-checked and the diagnostic printer is iterative
 * with a depth limit.  An undecodable payload renders as ok=false with the
 * reason and, when it is well-formed CBOR, its diagnostic notation.
 *
 * Model bundles are decoded without verifying the signature here (the
 * signature needs a trust key: bundle.c does that); the JSON says so.
 *
 * Cost: decoding is the codecs' O(payload); rendering is O(output).  The
 * decode scratch (ctl_payload, about 250 KiB for the channel block and
 * archive item arrays) is allocated once per program.
 */
#ifndef CTL_PAYLOAD_H
#define CTL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "vg_model.h"

/* Message kinds, by topic suffix. */
enum ctl_kind {
    CTL_K_UNKNOWN = 0,
    CTL_K_SAMPLES,
    CTL_K_ALERT,
    CTL_K_SHUTDOWN,
    CTL_K_RESET,
    CTL_K_STATUS,
    CTL_K_ARCHIVE,
    CTL_K_MODEL,
    CTL_K_MODEL_ACK,
    CTL_K_COUNT
};

#define CTL_DIAG_DEPTH 16 /* nesting the diagnostic printer follows */

/* The kind's name ("samples", "alert", ...; "unknown"). */
const char *ctl_kind_name(int kind);
/* Inverse of ctl_kind_name; CTL_K_UNKNOWN when no kind has that name. */
int ctl_kind_from_name(const char *name);
/* The topic suffix of a kind ("cmd/shutdown"); NULL for CTL_K_UNKNOWN. */
const char *ctl_kind_suffix(int kind);

/* Splits ROOT/<dev>/<suffix>: returns the kind (CTL_K_UNKNOWN when no known
 * suffix ends the topic) and copies the device segment (or "") into
 * dev[0..devcap). */
int ctl_topic_parse(const char *topic, char *dev, size_t devcap);

/* Formats epoch microseconds as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC). */
void ctl_fmt_time(int64_t t_us, char out[40]);

/* Decode scratch and result; opaque. */
typedef struct ctl_payload ctl_payload;

/* Allocates the scratch; NULL when out of memory. */
ctl_payload *ctl_payload_new(void);
void ctl_payload_free(ctl_payload *p);

/* Decodes buf[0..len) as `kind` (CTL_K_UNKNOWN: try every kind).  The
 * buffer must outlive the rendering calls.  An empty payload is a valid
 * "cleared" message on the retained topics (shutdown, model, status).
 * Returns VG_OK or the codec's status (also kept for rendering). */
int ctl_payload_decode(ctl_payload *p, int kind, const uint8_t *buf, size_t len);

/* The decoded kind (the guess for CTL_K_UNKNOWN input when one matched). */
int ctl_payload_kind(const ctl_payload *p);

/* The device id the payload itself names, or NULL when it names none
 * (undecodable or empty). */
const char *ctl_payload_device(const ctl_payload *p);

/* Writes the members "kind", "ok" and either the decoded fields or
 * "error", "reason", "bytes" and "diag"/"hex" into an open JSON object. */
void ctl_payload_json(const ctl_payload *p, ctl_json *j);

/* Appends a one-line human summary (no time, topic or newline). */
void ctl_payload_human(const ctl_payload *p, ctl_sb *out);

/* Appends buf[0..len) in CBOR diagnostic notation.  Byte and text strings
 * longer than max_str bytes are cut with "..." (0 = never).  Follows at
 * most max_depth nested containers and tags (at most CTL_DIAG_DEPTH).
 * Returns VG_OK, the reader's VG_EDECODE / VG_ETRUNC, VG_ETOOBIG past the
 * depth limit, or VG_EDECODE for trailing bytes after the first item; on
 * error what was printed so far stays in *out. */
int ctl_diag(ctl_sb *out, const uint8_t *buf, size_t len, int max_depth, size_t max_str);

/* The unverified parts of a COSE_Sign1 model bundle. */
typedef struct ctl_bundle_info {
    int64_t alg;     /* protected header alg (-8 = EdDSA); 0 if absent */
    uint8_t kid[32]; /* unprotected kid bytes */
    size_t kid_len;  /* bytes in kid (at most 32 are kept) */
    size_t sig_len;  /* signature length in bytes */
} ctl_bundle_info;

/* Parses a bundle's structure and decodes its model payload WITHOUT
 * checking the signature.  VG_OK; VG_EDECODE / VG_ETRUNC / VG_ETOOBIG for
 * a malformed bundle, or vg_model_decode's status. */
int ctl_bundle_peek(const uint8_t *buf, size_t len, ctl_bundle_info *info, vg_model *m);

/* Writes the model's members (device, version, created, training range,
 * channels with every set threshold) into an open JSON object. */
void ctl_model_json(const vg_model *m, ctl_json *j);

#endif
