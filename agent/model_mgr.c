/*
 * model_mgr.c - bundle verification, atomic apply, persistence and restore
 * (see model_mgr.h).  Verification goes through vgd_sodium_load's table
 * (sodium_dl.h): libsodium is mapped by the first bundle, not at start.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "model_mgr.h"
#include "sodium_dl.h"
#include "vg_error.h"
#include "vg_hex.h"

#define MODEL_FILE "model.cose"

int vgd_model_init(vgd_model_mgr *mm, const char *device, const char *data_dir,
                   const char *key_file, char *err, size_t errlen)
{
    /* Everything before the scratch model (~12 KiB), which vg_bundle_open()
     * fills before anything reads it: left untouched, its pages stay out of
     * an idle vigild's RSS until the first bundle. */
    memset(mm, 0, offsetof(vgd_model_mgr, scratch));
    mm->last = NULL;
    mm->last_len = 0;
    snprintf(mm->device, sizeof mm->device, "%s", device);
    if (snprintf(mm->path, sizeof mm->path, "%s/%s", data_dir, MODEL_FILE) >=
        (int)sizeof mm->path) {
        snprintf(err, errlen, "data dir path too long");
        return VG_EINVAL;
    }
    if (!key_file || !key_file[0])
        return VG_OK;
    char text[512];
    size_t len;
    int rc = vgd_file_read(key_file, text, sizeof text, &len);
    if (rc == VG_OK)
        rc = vg_hex_decode(text, len, mm->pk, VG_PK_BYTES);
    if (rc != VG_OK) {
        snprintf(err, errlen, "trust key %s: %s", key_file,
                 rc == VG_ESYNTAX ? "not 64 hex digits" : "cannot read");
        return rc == VG_ESYNTAX ? rc : VG_EIO;
    }
    mm->has_pk = 1;
    return VG_OK; /* libsodium is loaded by the first bundle */
}

void vgd_model_free(vgd_model_mgr *mm)
{
    free(mm->last);
    mm->last = NULL;
    mm->last_len = 0;
}

/* Steps 1-3 of model_mgr.h on buf; VG_OK when e now runs the bundle. */
static int model__verify_apply(vgd_model_mgr *mm, vg_engine *e, const uint8_t *buf, size_t len)
{
    const vg_crypto *c;
    char err[320];
    if (!mm->has_pk)
        return VG_ESIG;
    int rc = vgd_sodium_load(&c, err, sizeof err);
    if (rc != VG_OK) {
        vgd_log(VGD_ERR, "model bundle not verified: %s", err);
        return rc;
    }
    rc = vg_bundle_open_with(c, buf, len, mm->pk, mm->device, vg_engine_model_version(e),
                             &mm->scratch);
    if (rc != VG_OK)
        return rc;
    rc = vg_engine_check_model(e, &mm->scratch, NULL);
    if (rc != VG_OK)
        return rc;
    return vg_engine_apply_model(e, &mm->scratch);
}

/* Keeps a copy of the bundle now running. */
static int model__remember(vgd_model_mgr *mm, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return VG_ENOMEM;
    memcpy(copy, buf, len);
    free(mm->last);
    mm->last = copy;
    mm->last_len = len;
    return VG_OK;
}

int vgd_model_restore(vgd_model_mgr *mm, vg_engine *e)
{
    uint8_t *buf = malloc(VG_BUNDLE_MAX_BYTES);
    if (!buf)
        return VG_ENOMEM;
    size_t len;
    int rc = vgd_file_read(mm->path, buf, VG_BUNDLE_MAX_BYTES, &len);
    if (rc == VG_OK)
        rc = model__verify_apply(mm, e, buf, len);
    if (rc == VG_OK)
        rc = model__remember(mm, buf, len);
    free(buf);
    return rc;
}

int vgd_model_offer(vgd_model_mgr *mm, vg_engine *e, const uint8_t *buf, size_t len, int64_t now_us,
                    vg_model_ack *ack)
{
    if (mm->last && len == mm->last_len && memcmp(buf, mm->last, len) == 0)
        return VG_EEXIST;
    uint64_t candidate = 0;
    int rc = len > VG_BUNDLE_MAX_BYTES ? VG_ETOOBIG : model__verify_apply(mm, e, buf, len);
    if (rc == VG_OK || rc == VG_EVERSION || rc == VG_EENVELOPE || rc == VG_EDEVICE)
        candidate = mm->scratch.version; /* decoded (and verified) before the refusal */
    if (rc == VG_OK) {
        /* Applied: persist it as the last good bundle.  A failed write is
         * reported by the caller's log; the model still runs. */
        if (model__remember(mm, buf, len) != VG_OK || vgd_file_write_atomic(mm->path, buf, len))
            rc = VG_EIO;
    }
    memset(ack, 0, sizeof(*ack));
    snprintf(ack->device, sizeof ack->device, "%s", mm->device);
    ack->applied = rc == VG_OK || rc == VG_EIO; /* EIO: applied, not persisted */
    snprintf(ack->reason, sizeof ack->reason, "%s", rc == VG_OK ? "ok" : vg_errname(rc));
    ack->version = candidate;
    ack->running_version = vg_engine_model_version(e);
    ack->t_us = now_us;
    return rc;
}

int vgd_model_reapply(vgd_model_mgr *mm, vg_engine *e)
{
    if (!mm->last)
        return VG_EMISSING;
    return model__verify_apply(mm, e, mm->last, mm->last_len);
}
