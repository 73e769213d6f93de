/*
 * model_mgr.h - model bundles on the device: verify, apply, persist,
 * restore, and the ack that reports the verdict.
 *
 * A bundle offered to vgd_model_offer goes through, in order:
 *   1. vg_bundle_open_with, libsodium's functions loaded at run time by the
 *      first bundle (sodium_dl.h; VG_ECRYPTO, logged, when it cannot be
 *      loaded): COSE_Sign1 well-formed, Ed25519 signature under the
 *      trust key from the config (no key configured: every bundle is
 *      refused with "sig"), model for this device, version strictly newer
 *      than the running one;
 *   2. vg_engine_check_model: every channel only tightens the local
 *      envelope (a bundle that loosens any limit is refused whole);
 *   3. vg_engine_apply_model: recompiles every channel's parameters at once.
 *      The caller holds the daemon's lock, so the swap happens between two
 *      samples, never inside a batch;
 *   4. the bundle bytes are written to DATA_DIR/model.cose atomically
 *      (fileio.h) and become the "last good" bundle.
 * Any failure leaves the running model untouched.  The ack (vg_model_ack:
 * applied 0/1, the bundle's version, the version now running, the reason
 * as vg_errname or "ok") is filled in every case for the caller to publish
 * on model/ack and to spool.
 *
 * vgd_model_restore, at start, re-opens DATA_DIR/model.cose with the same
 * checks (version > 0) against the current config's envelope and applies
 * it; a persisted bundle that no longer verifies (key rotated, envelope
 * tightened) is ignored with a warning and the device runs without a model.
 *
 * Costs: verification is one Ed25519 verify (~50 us) plus O(bundle bytes)
 * decoding; apply is O(channels); persisting is one small file write and
 * two fsyncs; the first verification also loads libsodium (~1 ms, ~120 kB
 * resident from then on).  Memory: the vg_model scratch (~8 KiB) lives in
 * the manager.
 * Not thread-safe: used under the daemon's lock.
 */
#ifndef VGD_MODEL_MGR_H
#define VGD_MODEL_MGR_H

#include <stddef.h>
#include <stdint.h>

#include "vg_bundle.h"
#include "vg_engine.h"
#include "vg_msg.h"

typedef struct vgd_model_mgr {
    char device[VG_DEVICE_MAX + 1]; /* our device id */
    char path[4096];                /* DATA_DIR/model.cose */
    uint8_t pk[VG_PK_BYTES];        /* trust key */
    int has_pk;                     /* 0: no key, refuse every bundle */
    vg_model scratch;               /* decoded candidate */
    uint8_t *last;                  /* last good bundle's bytes (owned) */
    size_t last_len;                /* its length */
} vgd_model_mgr;

/* Sets up *mm for `device` with state in `data_dir`; reads the trust key
 * (hex text, vg_hex.h) from `key_file` unless it is "" (no key).  VG_EIO /
 * VG_ESYNTAX when the key file cannot be read or parsed, with a message in
 * err. */
int vgd_model_init(vgd_model_mgr *mm, const char *device, const char *data_dir,
                   const char *key_file, char *err, size_t errlen);

/* Frees the manager's memory. */
void vgd_model_free(vgd_model_mgr *mm);

/* Restores the persisted last good bundle into engine e.  VG_OK when
 * applied, VG_EMISSING when there is none, else the reason it was refused
 * (the engine is then left without a model). */
int vgd_model_restore(vgd_model_mgr *mm, vg_engine *e);

/* Re-applies the running bundle to a fresh engine e (after a config
 * reload): VG_OK, VG_EMISSING when no bundle runs, or why it no longer
 * fits (e.g. VG_EENVELOPE against a tightened envelope). */
int vgd_model_reapply(vgd_model_mgr *mm, vg_engine *e);

/* Verifies and applies bundle buf[0..len) as described above; fills *ack
 * (t_us = now_us) and returns VG_OK when applied, else the reason.  A bundle
 * byte-identical to the running one (a retained bundle seen again after a
 * reconnect) returns VG_EEXIST and leaves *ack untouched: there is nothing
 * to do and nothing to acknowledge. */
int vgd_model_offer(vgd_model_mgr *mm, vg_engine *e, const uint8_t *buf, size_t len, int64_t now_us,
                    vg_model_ack *ack);

#endif
