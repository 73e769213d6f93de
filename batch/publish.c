/*
 * publish.c - bundles from a retrain directory, signed and verified, and
 * the model registry (see publish.h).
 */
#include "publish.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "vg_error.h"
#include "vg_msg.h"

#define META_MAX 4096

/* Parsed .meta file. */
typedef struct pub_meta {
    char device[VG_DEVICE_MAX + 1]; /* device */
    char status[16];                /* publish / held / unchanged / skipped */
    char file[128];                 /* bundle path relative to DIR */
    char reason[200];               /* backtest summary */
    int64_t figures[9];             /* backtest figures */
} pub_meta;

static int pub__cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses the "key value" lines of a meta file. */
static int pub__parse_meta(char *text, pub_meta *m)
{
    memset(m, 0, sizeof *m);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        const char *val = sp ? sp + 1 : "";
        if (sp)
            *sp = '\0';
        if (strcmp(line, "device") == 0)
            snprintf(m->device, sizeof m->device, "%s", val);
        else if (strcmp(line, "status") == 0)
            snprintf(m->status, sizeof m->status, "%s", val);
        else if (strcmp(line, "file") == 0)
            snprintf(m->file, sizeof m->file, "%s", val);
        else if (strcmp(line, "reason") == 0)
            snprintf(m->reason, sizeof m->reason, "%s", val);
        else if (strcmp(line, "figures") == 0 &&
                 sscanf(val,
                        "%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                        " %" SCNd64 " %" SCNd64 " %" SCNd64,
                        &m->figures[0], &m->figures[1], &m->figures[2], &m->figures[3],
                        &m->figures[4], &m->figures[5], &m->figures[6], &m->figures[7],
                        &m->figures[8]) != 9)
            return VG_ESYNTAX;
    }
    return vg_valid_device(m->device, strlen(m->device)) && m->status[0] ? VG_OK : VG_EMISSING;
}

/* Lists DIR's *.meta names, sorted; the caller frees names and array. */
static int pub__list(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return VG_EIO;
    size_t cap = 64, k = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".meta") != 0)
            continue;
        if (k == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        v[k++] = strdup(e->d_name);
    }
    closedir(d);
    if (!v)
        return VG_ENOMEM;
    qsort(v, k, sizeof *v, pub__cmp_name);
    *names = v;
    *n = k;
    return VG_OK;
}

/* Fills it->model and bundle from the file named by the meta. */
static int pub__bundle(const char *dir, const pub_meta *m, const uint8_t *sk, const uint8_t *pk,
                       vb_pub_item *it, char *err, size_t errlen)
{
    char path[4400];
    uint8_t *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, m->file);
    int rc = vb_read_file(path, VG_BUNDLE_MAX_BYTES, &buf, &len);
    size_t fl = strlen(m->file);
    int is_model = fl > 6 && strcmp(m->file + fl - 6, ".model") == 0;
    if (rc == VG_OK && is_model)
        rc = vg_model_decode(buf, len, &it->model);
    else if (rc == VG_OK)
        rc = pk ? vg_bundle_open(buf, len, pk, m->device, 0, &it->model) : VG_EMISSING;
    if (rc == VG_OK && strcmp(it->model.device, m->device) != 0)
        rc = VG_EDEVICE;
    if (rc != VG_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == VG_EMISSING ? "signed bundle but no key to verify it (--sign-key or "
                                     "--verify-key)"
                                   : vg_strerror(rc));
        free(buf);
        return rc;
    }
    if (!is_model) {
        it->bundle = buf;
        it->bundle_len = len;
        return VG_OK;
    }
    free(buf);
    if (it->held)
        return VG_OK;
    if (!sk) {
        snprintf(err, errlen, "%s: unsigned model and no --sign-key to sign it", path);
        return VG_EMISSING;
    }
    it->bundle = malloc(VG_BUNDLE_MAX_BYTES);
    if (!it->bundle)
        return VG_ENOMEM;
    return vg_bundle_sign(&it->model, sk, it->bundle, VG_BUNDLE_MAX_BYTES, &it->bundle_len);
}

/* True when the registry already has exactly this bundle for the device
 * and version (a re-run); VG_EVERSION when it has another of that version
 * or a newer one. */
static int pub__check_registry(vb_wh *w, vb_pub_item *it, char *err, size_t errlen)
{
    uint64_t cur = 0;
    int rc = vb_wh_current_model(w, it->device, &cur, NULL);
    if (rc != VG_OK || it->held || it->model.version > cur)
        return rc;
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(vb_wh_db(w), "SELECT bundle FROM models WHERE device = ?1 AND version = ?2",
                       -1, &s, NULL);
    sqlite3_bind_text(s, 1, it->device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)it->model.version);
    if (s && sqlite3_step(s) == SQLITE_ROW &&
        (size_t)sqlite3_column_bytes(s, 0) == it->bundle_len &&
        memcmp(sqlite3_column_blob(s, 0), it->bundle, it->bundle_len) == 0)
        it->already = 1;
    sqlite3_finalize(s);
    if (it->already)
        return VG_OK;
    snprintf(err, errlen, "%s: version %llu is not newer than the registry's %llu", it->device,
             (unsigned long long)it->model.version, (unsigned long long)cur);
    return VG_EVERSION;
}

/* Loads one meta file into a new item of *out (or nothing when the status
 * needs no action). */
static int pub__one(const char *dir, const char *name, const uint8_t *sk, const uint8_t *pk,
                    vb_wh *w, vb_pub_list *out, char *err, size_t errlen)
{
    char path[4400];
    uint8_t *text = NULL;
    size_t len = 0;
    pub_meta m;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = vb_read_file(path, META_MAX, &text, &len);
    if (rc == VG_OK) {
        text[len] = '\0';
        rc = pub__parse_meta((char *)text, &m);
    }
    free(text);
    if (rc != VG_OK) {
        snprintf(err, errlen, "%s: unreadable or malformed (%s)", path, vg_strerror(rc));
        return rc;
    }
    int held = strcmp(m.status, "held") == 0;
    if (!held && strcmp(m.status, "publish") != 0)
        return VG_OK;
    vb_pub_item *it = &out->item[out->n];
    memset(it, 0, sizeof *it);
    snprintf(it->device, sizeof it->device, "%s", m.device);
    snprintf(it->reason, sizeof it->reason, "%s", m.reason);
    memcpy(it->figures, m.figures, sizeof it->figures);
    it->held = held;
    out->n++;
    if ((rc = pub__bundle(dir, &m, sk, pk, it, err, errlen)) != VG_OK)
        return rc;
    it->payload = malloc(VG_BUNDLE_MAX_BYTES);
    if (!it->payload)
        return VG_ENOMEM;
    rc = vg_model_encode(&it->model, it->payload, VG_BUNDLE_MAX_BYTES, &it->payload_len);
    if (rc == VG_OK && w)
        rc = pub__check_registry(w, it, err, errlen);
    return rc;
}

/* See publish.h. */
int vb_pub_load(const char *dir, const uint8_t *sk, const uint8_t pk[VG_PK_BYTES], vb_wh *w,
                vb_pub_list *out, char *err, size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    int rc = pub__list(dir, &names, &n);
    if (rc != VG_OK) {
        snprintf(err, errlen, "%s: cannot read the directory", dir);
        return rc;
    }
    out->item = calloc(n + 1, sizeof *out->item);
    rc = out->item ? VG_OK : VG_ENOMEM;
    for (size_t i = 0; i < n && rc == VG_OK; i++)
        rc = pub__one(dir, names[i], sk, pk, w, out, err, errlen);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != VG_OK && !err[0])
        snprintf(err, errlen, "%s: %s", dir, vg_strerror(rc));
    return rc;
}

/* See publish.h. */
int vb_pub_record(vb_wh *w, const vb_pub_item *it)
{
    vb_reg_row r = {
        .version = it->model.version,
        .status = it->held ? "held" : "published",
        .reason = it->reason,
        .created_us = it->model.created_us,
        .train_from_us = it->model.train_from_us,
        .train_to_us = it->model.train_to_us,
        .model = it->payload,
        .model_len = it->payload_len,
        .bundle = it->bundle,
        .bundle_len = it->bundle_len,
    };
    snprintf(r.device, sizeof r.device, "%s", it->device);
    memcpy(r.figures, it->figures, sizeof r.figures);
    int rc = vb_wh_begin(w);
    if (rc == VG_OK && (rc = vb_wh_put_model(w, &r)) == VG_OK)
        return vb_wh_commit(w);
    vb_wh_rollback(w);
    return rc;
}

void vb_pub_free(vb_pub_list *l)
{
    for (size_t i = 0; l->item && i < l->n; i++) {
        free(l->item[i].bundle);
        free(l->item[i].payload);
    }
    free(l->item);
    memset(l, 0, sizeof *l);
}
