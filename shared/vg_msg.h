/*
 * vg_msg.h - CBOR codecs for every vigil payload (docs/schema.cddl).
 *
 * Every message is a CBOR map with small unsigned-integer keys; key 0 is the
 * schema version (VG_SCHEMA_VERSION).  Encoders write into a caller buffer
 * and never allocate.  Decoders are strict: they check every length against
 * the bytes that remain, reject unknown schema versions, duplicate keys,
 * missing required keys, wrong types, NaN/Inf where a number is required and
 * trailing bytes, and never allocate.  Decoded strings are copied into fixed
 * arrays; the bulk sample arrays are not copied at all: vg_samples points
 * into the payload, read through vg_block_time()/vg_block_value().
 *
 * Cost: encode and decode are O(payload bytes); decoding a samples batch is
 * O(number of channels) plus nothing per sample (values are read lazily).
 */
#ifndef VG_MSG_H
#define VG_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vg_model.h"

#define VG_MSG_MAX_BYTES        (1u << 20) /* decoders refuse larger payloads */
#define VG_BATCH_MAX_CHANNEL    256        /* channel blocks per samples batch */
#define VG_BATCH_MAX_SAMPLES    65536      /* samples per channel block */
#define VG_SHUTDOWN_MAX_SAMPLES 16         /* triggering samples in a shutdown */
#define VG_STATUS_MAX_COUNTER   48         /* counters carried in a status */
#define VG_COUNTER_NAME_MAX     47

/* ---- samples batch: vigil/v1/<dev>/samples -------------------------------
 * Columnar: per channel one typed array (RFC 8746) of time offsets from t0 in
 * microseconds (sint32 LE tag 78, or sint64 LE tag 79) and one of values
 * (float64 LE tag 86, or float32 LE tag 85). */
typedef struct vg_block {
    const char *name;     /* channel name, NOT NUL-terminated */
    uint32_t name_len;    /* bytes in name */
    uint32_t n;           /* samples in this block */
    const uint8_t *t_raw; /* n little-endian offsets of t_width bytes */
    const uint8_t *v_raw; /* n little-endian IEEE floats of v_width bytes */
    uint8_t t_width;      /* 4 or 8 */
    uint8_t v_width;      /* 4 or 8 */
} vg_block;

typedef struct vg_samples {
    char device[VG_DEVICE_MAX + 1]; /* sending device */
    uint64_t seq;                   /* per-device batch sequence number */
    int64_t t0_us;                  /* base time, epoch microseconds */
    uint32_t nblock;                /* entries used in block[] */
    vg_block *block;                /* caller-provided array */
    uint32_t block_cap;             /* its capacity (decode only) */
} vg_samples;

/* Absolute time (epoch us) of sample i of block b in a batch based at t0. */
static inline int64_t vg_block_time(const vg_block *b, int64_t t0_us, uint32_t i)
{
    const uint8_t *p = b->t_raw + (size_t)i * b->t_width;
    uint64_t u = 0;
    for (int k = b->t_width - 1; k >= 0; k--)
        u = (u << 8) | p[k];
    if (b->t_width == 4)
        return t0_us + (int64_t)(int32_t)(uint32_t)u;
    return t0_us + (int64_t)u;
}

/* Value of sample i of block b (may be NaN/Inf: the caller decides). */
static inline double vg_block_value(const vg_block *b, uint32_t i)
{
    const uint8_t *p = b->v_raw + (size_t)i * b->v_width;
    uint64_t u = 0;
    for (int k = b->v_width - 1; k >= 0; k--)
        u = (u << 8) | p[k];
    if (b->v_width == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        return f;
    }
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Input to vg_samples_encode(): one channel's column. */
typedef struct vg_column {
    const char *name;    /* NUL-terminated channel name */
    uint32_t n;          /* samples */
    const int64_t *t_us; /* absolute epoch-microsecond timestamps */
    const double *v;     /* values */
} vg_column;

/* Encodes a batch of `ncol` columns.  Offsets are written as sint32 when
 * they all fit, else sint64; values as float64.  *len receives the size.
 * VG_ENOSPC when `cap` is too small, VG_EINVAL on a bad id or name. */
int vg_samples_encode(const char *device, uint64_t seq, int64_t t0_us, const vg_column *col,
                      uint32_t ncol, uint8_t *buf, size_t cap, size_t *len);

/* Decodes a batch; out->block/out->block_cap must be set by the caller.
 * Blocks point into `buf`, which must outlive *out. */
int vg_samples_decode(const uint8_t *buf, size_t len, vg_samples *out);

/* ---- alert: vigil/v1/<dev>/alerts ---------------------------------------- */
typedef struct vg_alert {
    char device[VG_DEVICE_MAX + 1];
    char channel[VG_CHANNEL_MAX + 1];
    uint8_t raised;         /* 1 raised, 0 cleared */
    uint8_t detector;       /* enum vg_detector that drove the decision */
    int64_t t_us;           /* time of the sample that raised/cleared it */
    double value;           /* that sample's value */
    double score;           /* combined anomaly score in [0,1] */
    uint64_t model_version; /* 0 when no model is loaded */
    uint64_t seq;           /* batch sequence number of that sample */
} vg_alert;

int vg_alert_encode(const vg_alert *a, uint8_t *buf, size_t cap, size_t *len);
int vg_alert_decode(const uint8_t *buf, size_t len, vg_alert *out);

/* ---- shutdown command: vigil/v1/<dev>/cmd/shutdown ----------------------- */
typedef struct vg_trigger {
    int64_t t_us;
    double value;
} vg_trigger;

typedef struct vg_shutdown {
    char device[VG_DEVICE_MAX + 1];
    char channel[VG_CHANNEL_MAX + 1];
    char reason[VG_REASON_MAX + 1];
    uint8_t detector; /* enum vg_detector */
    uint64_t trip_id; /* per-device trip counter */
    int64_t t_us;     /* trip decision time */
    uint64_t model_version;
    uint32_t nsamples; /* triggering samples, oldest first */
    vg_trigger samples[VG_SHUTDOWN_MAX_SAMPLES];
} vg_shutdown;

int vg_shutdown_encode(const vg_shutdown *s, uint8_t *buf, size_t cap, size_t *len);
int vg_shutdown_decode(const uint8_t *buf, size_t len, vg_shutdown *out);

/* ---- reset command: vigil/v1/<dev>/cmd/reset ----------------------------- */
typedef struct vg_reset {
    char device[VG_DEVICE_MAX + 1];
    char operator_id[VG_REASON_MAX + 1]; /* who asked; may be empty */
    int64_t t_us;
    uint64_t trip_id; /* trip to clear; 0 = the latched one */
} vg_reset;

int vg_reset_encode(const vg_reset *r, uint8_t *buf, size_t cap, size_t *len);
int vg_reset_decode(const uint8_t *buf, size_t len, vg_reset *out);

/* ---- status: vigil/v1/<dev>/status (retained; also the Last Will) -------- */
typedef struct vg_counter {
    char name[VG_COUNTER_NAME_MAX + 1];
    uint64_t value;
} vg_counter;

typedef struct vg_status {
    char device[VG_DEVICE_MAX + 1];
    uint8_t online;  /* 1 online, 0 offline */
    uint8_t latched; /* 1 while a trip is latched */
    int64_t t_us;
    uint64_t model_version;
    uint32_t ncounter;
    vg_counter counter[VG_STATUS_MAX_COUNTER];
} vg_status;

int vg_status_encode(const vg_status *s, uint8_t *buf, size_t cap, size_t *len);
int vg_status_decode(const uint8_t *buf, size_t len, vg_status *out);

/* ---- samples ack: vigil/v1/<dev>/samples/ack (vigild -> device, QoS 1) ----
 * The device-level acknowledgement: every samples batch of the device with
 * seq <= `seq` that vigild accepted is committed to its spool.  Encoded by
 * vg_msg_status.c (same family of small vigild -> subscriber messages). */
typedef struct vg_samples_ack {
    char device[VG_DEVICE_MAX + 1];
    uint64_t seq; /* the committed mark */
    int64_t t_us; /* when vigild committed it */
} vg_samples_ack;

int vg_samples_ack_encode(const vg_samples_ack *a, uint8_t *buf, size_t cap, size_t *len);
int vg_samples_ack_decode(const uint8_t *buf, size_t len, vg_samples_ack *out);

/* ---- archive chunk: vigil/v1/<dev>/archive -------------------------------
 * Spooled records forwarded upstream.  Each item carries the raw payload as
 * received (a samples batch) or as produced (alert, shutdown, model ack). */
enum vg_archive_kind {
    VG_ARCH_SAMPLES = 0,
    VG_ARCH_ALERT = 1,
    VG_ARCH_TRIP = 2,
    VG_ARCH_MODEL = 3 /* a model ack recording a model change */
};

typedef struct vg_archive_item {
    uint8_t kind;           /* enum vg_archive_kind */
    uint64_t seq;           /* per-device, per-kind sequence number */
    uint64_t model_version; /* model that scored it */
    int64_t rx_us;          /* when the agent received / produced it */
    const uint8_t *payload; /* points into the chunk buffer */
    size_t len;
} vg_archive_item;

typedef struct vg_archive {
    char device[VG_DEVICE_MAX + 1];
    uint64_t chunk_seq; /* uplink chunk counter, for logs */
    uint32_t nitem;
    vg_archive_item *item; /* caller-provided array */
    uint32_t item_cap;     /* its capacity (decode only) */
} vg_archive;

int vg_archive_encode(const vg_archive *a, uint8_t *buf, size_t cap, size_t *len);
int vg_archive_decode(const uint8_t *buf, size_t len, vg_archive *out);

/* ---- model ack: vigil/v1/<dev>/model/ack --------------------------------- */
typedef struct vg_model_ack {
    char device[VG_DEVICE_MAX + 1];
    char reason[VG_REASON_MAX + 1]; /* vg_errname() of the verdict, or "ok" */
    uint8_t applied;                /* 1 applied, 0 rejected */
    uint64_t version;               /* version of the bundle acked */
    uint64_t running_version;       /* version now running */
    int64_t t_us;
} vg_model_ack;

int vg_model_ack_encode(const vg_model_ack *a, uint8_t *buf, size_t cap, size_t *len);
int vg_model_ack_decode(const uint8_t *buf, size_t len, vg_model_ack *out);

/* ---- model payload (inside a bundle; see vg_bundle.h) -------------------- */
int vg_model_encode(const vg_model *m, uint8_t *buf, size_t cap, size_t *len);
int vg_model_decode(const uint8_t *buf, size_t len, vg_model *out);

#endif
