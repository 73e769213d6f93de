/*
 * vg_msg_alert.c - the alert payload (vigil/v1/<dev>/alerts): one flat map,
 * described entirely by its field table.
 *
 *   { 0: 1, 1: device, 2: channel, 3: raised, 4: detector, 5: t,
 *     6: value, 7: score, 8: model_version, 9: seq }
 *
 * value is the raw sample and may be NaN or +-Inf (a sensor that reports NaN
 * is worth an alert); score drives decisions and must be finite in [0, 1].
 *
 * Cost: O(1) (about 100 bytes).
 */
#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

static const vg_msg_field alert__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_alert, device, "device"),
    VG_MSG_ROW(2, VG_MSG_CHANNEL, 1, vg_alert, channel, "channel"),
    VG_MSG_ROW(3, VG_MSG_BOOL, 1, vg_alert, raised, "raised"),
    VG_MSG_ROW(4, VG_MSG_DETECTOR, 1, vg_alert, detector, "detector"),
    VG_MSG_ROW(5, VG_MSG_INT, 1, vg_alert, t_us, "t"),
    VG_MSG_ROW(6, VG_MSG_REAL, 1, vg_alert, value, "value"),
    VG_MSG_ROW(7, VG_MSG_SCORE, 1, vg_alert, score, "score"),
    VG_MSG_ROW(8, VG_MSG_UINT, 1, vg_alert, model_version, "model_version"),
    VG_MSG_ROW(9, VG_MSG_UINT, 1, vg_alert, seq, "seq"),
};

static const vg_msg_schema alert__schema = VG_MSG_SCHEMA("alert", alert__rows);

/* Contract in vg_msg.h; *a is only read. */
int vg_alert_encode(const vg_alert *a, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&alert__schema, a, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_alert_decode(const uint8_t *buf, size_t len, vg_alert *out)
{
    return vg_msg__decode_clear(&alert__schema, buf, len, out, sizeof *out);
}
