/*
 * batch.h - collects one device's samples into columnar batches and encodes
 * them with the core codec (vg_samples_encode) for vigil/v1/<dev>/samples.
 *
 * A batch holds up to `cap` rows; each row contributes at most one sample
 * per channel (a missing sample is simply not added, so columns may be
 * shorter than the row count).  Channels with no sample in a batch are left
 * out of the payload.  The batch base time t0 is the earliest sample time.
 *
 * Cost: sim_batch_add() is O(1); sim_batch_encode() is O(samples).  All
 * memory is allocated once by sim_batch_init() (nchan * cap samples).
 */
#ifndef SIM_BATCH_H
#define SIM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "vg_msg.h"

typedef struct sim_batch {
    uint32_t nchan;           /* channels */
    const char *const *names; /* channel names (borrowed, NUL-terminated) */
    uint32_t cap;             /* rows per batch */
    uint32_t rows;            /* rows added since the last reset */
    uint32_t *n;              /* samples per channel, [nchan] */
    int64_t *t;               /* times, [nchan * cap] */
    double *v;                /* values, [nchan * cap] */
    vg_column *col;           /* encoder input, [nchan] */
} sim_batch;

/* Allocates a batch of `cap` rows over `nchan` channels named names[]
 * (borrowed: must outlive the batch).  VG_OK, VG_EINVAL (zero sizes or more
 * than VG_BATCH_MAX_CHANNEL / VG_BATCH_MAX_SAMPLES), or VG_ENOMEM. */
int sim_batch_init(sim_batch *b, uint32_t nchan, const char *const *names, uint32_t cap);

/* Frees the batch's memory (safe on a zeroed batch). */
void sim_batch_free(sim_batch *b);

/* Adds sample (t_us, v) to channel ch of the current row.  VG_ENOSPC when
 * the channel already holds cap samples. */
int sim_batch_add(sim_batch *b, uint32_t ch, int64_t t_us, double v);

/* Ends the current row; returns 1 when the batch now holds cap rows. */
int sim_batch_end_row(sim_batch *b);

/* Samples held (all channels). */
uint32_t sim_batch_samples(const sim_batch *b);

/* Encodes the batch as device `device`, sequence `seq` into buf[0..cap).
 * VG_OK with *len set; VG_EMISSING when the batch holds no sample; codec
 * errors otherwise.  The batch is left unchanged. */
int sim_batch_encode(const sim_batch *b, const char *device, uint64_t seq, uint8_t *buf, size_t cap,
                     size_t *len);

/* Empties the batch for the next one. */
void sim_batch_reset(sim_batch *b);

/* An upper bound of the encoded size of a full batch of this shape with
 * channel names up to VG_CHANNEL_MAX bytes. */
size_t sim_batch_max_bytes(uint32_t nchan, uint32_t cap);

#endif
