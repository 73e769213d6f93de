/*
 * ingest.h - decode archive chunks, alerts and model acks into the
 * warehouse: the part of `vigil-batch ingest` / `import` that does not
 * depend on MQTT (the Paho shell is ingest_mqtt.c).
 *
 * One call handles one message (or one spool record) inside the caller's
 * transaction: every item is checked and decoded first, then claimed
 * (device, kind, seq) and, when fresh, stored.  A bad item is counted by
 * reason and skipped; the good items of the same chunk are kept.
 *
 * Cost: O(payload bytes) decoding plus one claim and one insert per record
 * (one insert per channel block for samples).  Memory: the handle's
 * conversion arrays, grown to the largest block seen.
 */
#ifndef VB_INGEST_H
#define VB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "warehouse.h"

/* Why a message or item was refused; each has a counter. */
enum vb_reject {
    VB_REJ_DECODE,  /* corrupt or unsupported payload */
    VB_REJ_DEVICE,  /* invalid device id or mismatch with topic / chunk */
    VB_REJ_UNKNOWN, /* device not in the --devices allow-list */
    VB_REJ_KIND,    /* unknown archive item kind */
    VB_REJ_TOPIC,   /* a topic we do not handle */
    VB_REJ_COUNT
};

/* Counters of one ingest session. */
typedef struct vb_ingest_stats {
    uint64_t messages;               /* messages / spool records handled */
    uint64_t records_new;            /* records stored */
    uint64_t records_dup;            /* records already stored (skipped) */
    uint64_t samples;                /* samples stored */
    uint64_t rejected[VB_REJ_COUNT]; /* refused, by enum vb_reject */
} vb_ingest_stats;

typedef struct vb_ingest vb_ingest;

/* Creates a handler writing into `w` (borrowed).  `allow` (may be NULL) is
 * a NULL-terminated list of accepted device ids (borrowed); NULL accepts
 * every valid id.  NULL on allocation failure. */
vb_ingest *vb_ingest_create(vb_wh *w, const char *const *allow);
void vb_ingest_destroy(vb_ingest *g);

/* Statistics so far (owned by the handle). */
const vb_ingest_stats *vb_ingest_stats_get(const vb_ingest *g);

/* Stable name of a reject reason ("decode", "device", ...). */
const char *vb_reject_name(int r);

/* Handles one MQTT message on `topic` (vigil/v1/<dev>/archive, .../alerts
 * or .../model/ack, under `root`) inside an open transaction.  Returns VG_OK
 * also when the message was refused (it is counted; *why is set to the
 * reason, else -1); a non-OK status is a warehouse failure: roll back. */
int vb_ingest_message(vb_ingest *g, const char *root, const char *topic, size_t topic_len,
                      const uint8_t *payload, size_t len, int *why);

/* Handles one archive record of `device` (from a chunk or a spool). */
int vb_ingest_record(vb_ingest *g, const char *device, const vg_archive_item *it, int *why);

/* Writes the session's rejects into the warehouse's durable counters and
 * clears the pending ones (inside the caller's transaction). */
int vb_ingest_flush_rejects(vb_ingest *g);

#endif
