/*
 * vg_msg_model_ack.c - the model acknowledgement (vigil/v1/<dev>/model/ack):
 * one flat map, described entirely by its field table.
 *
 *   { 0: 1, 1: device, 2: applied, 3: version, 4: running_version,
 *     5: reason, 6: t }
 *
 * reason is vg_errname() of the verdict ("ok" when applied); it is required
 * but may be empty.
 *
 * Cost: O(1) (at most about 230 bytes).
 */
#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

static const vg_msg_field ack__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_model_ack, device, "device"),
    VG_MSG_ROW(2, VG_MSG_BOOL, 1, vg_model_ack, applied, "applied"),
    VG_MSG_ROW(3, VG_MSG_UINT, 1, vg_model_ack, version, "version"),
    VG_MSG_ROW(4, VG_MSG_UINT, 1, vg_model_ack, running_version, "running_version"),
    VG_MSG_ROW(5, VG_MSG_TEXT, 1, vg_model_ack, reason, "reason"),
    VG_MSG_ROW(6, VG_MSG_INT, 1, vg_model_ack, t_us, "t"),
};

static const vg_msg_schema ack__schema = VG_MSG_SCHEMA("model_ack", ack__rows);

/* Contract in vg_msg.h; *a is only read. */
int vg_model_ack_encode(const vg_model_ack *a, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&ack__schema, a, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_model_ack_decode(const uint8_t *buf, size_t len, vg_model_ack *out)
{
    return vg_msg__decode_clear(&ack__schema, buf, len, out, sizeof *out);
}
