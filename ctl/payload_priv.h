/*
 * payload_priv.h - what the payload files (payload.c, payload_diag.c,
 * payload_bundle.c, payload_json.c, payload_human.c) share and nothing else
 * sees: the decode scratch behind the opaque ctl_payload, its limits, and
 * the detector-name helper both renderers use.
 *
 * The split is by concept: payload.c maps topics to kinds and decodes;
 * payload_diag.c prints CBOR diagnostic notation; payload_bundle.c peeks at
 * unverified model bundles and renders a model; payload_json.c and
 * payload_human.c render a decoded payload as JSON members or one line.
 */
#ifndef CTL_PAYLOAD_PRIV_H
#define CTL_PAYLOAD_PRIV_H

#include "payload.h"
#include "vg_msg.h"

#define CTL_ARCH_ITEMS 4096 /* archive items decoded per chunk */
#define CTL_ERR_DIAG   512  /* string bytes shown in the diag of a bad payload */

struct ctl_payload {
    int kind;           /* decoded (or asked-for) kind */
    int rc;             /* decode status */
    int empty;          /* zero-length payload */
    const uint8_t *buf; /* the payload (borrowed) */
    size_t len;         /* its length */
    union {
        vg_samples samples;
        vg_alert alert;
        vg_shutdown shutdown;
        vg_reset reset;
        vg_status status;
        vg_archive archive;
        vg_model_ack ack;
    } u;                                   /* the decoded message */
    vg_model model;                        /* a decoded bundle payload */
    ctl_bundle_info binfo;                 /* its unverified header */
    vg_block blocks[VG_BATCH_MAX_CHANNEL]; /* samples channel blocks */
    vg_block inner[VG_BATCH_MAX_CHANNEL];  /* blocks of an archived batch */
    vg_archive_item items[CTL_ARCH_ITEMS]; /* archive chunk items */
};

/* The detector's name ("?" when out of range); a static string. */
const char *ctl_det_name(int d);

#endif
