/*
 * publish.h - the broker-independent half of `vigil-batch publish`: read
 * what retrain wrote in DIR, sign or verify every bundle, and record the
 * outcome in the model registry.  The MQTT half (publish retained on
 * vigil/v1/<dev>/model) is in the program (mqtt.c).
 *
 * For each DIR/<dev>.meta (in name order):
 *   status publish: the bundle is DIR/<dev>.bundle (verified with the
 *                   public key; a bundle that does not verify is refused)
 *                   or DIR/<dev>.model (signed here with the secret key);
 *   status held:    the candidate is recorded as held back with its reason;
 *   other statuses: nothing to do.
 * A bundle whose version is not newer than the registry's is skipped when
 * the registry already holds exactly these bytes (a re-run) and refused
 * otherwise.
 *
 * Cost: one file read, one Ed25519 sign or verify per bundle (tens of
 * microseconds), one registry insert per device.
 */
#ifndef VB_PUBLISH_H
#define VB_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "vg_bundle.h"
#include "warehouse.h"

/* One device's outcome, ready to publish and record. */
typedef struct vb_pub_item {
    char device[VG_DEVICE_MAX + 1]; /* device id */
    int held;                       /* 1: a held-back candidate, not to publish */
    int already;                    /* 1: registry already has it (skip) */
    vg_model model;                 /* the model */
    uint8_t *bundle;                /* signed bundle (owned; NULL when held) */
    size_t bundle_len;
    uint8_t *payload; /* vg_model_encode bytes (owned) */
    size_t payload_len;
    char reason[200];   /* backtest summary or hold reason */
    int64_t figures[9]; /* backtest figures (warehouse.h order) */
} vb_pub_item;

typedef struct vb_pub_list {
    vb_pub_item *item; /* items (owned) */
    size_t n;
} vb_pub_list;

/* Loads DIR.  `sk` may be NULL (then .model files are an error); `pk`
 * verifies .bundle files.  `w` (may be NULL) is the registry used for the
 * version check.  On failure a message names the file. */
int vb_pub_load(const char *dir, const uint8_t *sk, const uint8_t pk[VG_PK_BYTES], vb_wh *w,
                vb_pub_list *out, char *err, size_t errlen);

/* Records item `it` in the registry (published or held), in its own
 * transaction. */
int vb_pub_record(vb_wh *w, const vb_pub_item *it);

void vb_pub_free(vb_pub_list *l);

#endif
