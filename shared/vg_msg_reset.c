/*
 * vg_msg_reset.c - the reset command (vigil/v1/<dev>/cmd/reset): one flat
 * map, described entirely by its field table.
 *
 *   { 0: 1, 1: device, ? 2: operator, 3: t, 4: trip_id }
 *
 * operator is optional: omitted when empty, "" when absent.
 *
 * Cost: O(1) (at most about 220 bytes).
 */
#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

static const vg_msg_field reset__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_reset, device, "device"),
    VG_MSG_ROW(2, VG_MSG_TEXT, 0, vg_reset, operator_id, "operator"),
    VG_MSG_ROW(3, VG_MSG_INT, 1, vg_reset, t_us, "t"),
    VG_MSG_ROW(4, VG_MSG_UINT, 1, vg_reset, trip_id, "trip_id"),
};

static const vg_msg_schema reset__schema = VG_MSG_SCHEMA("reset", reset__rows);

/* Contract in vg_msg.h; *r is only read. */
int vg_reset_encode(const vg_reset *r, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&reset__schema, r, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_reset_decode(const uint8_t *buf, size_t len, vg_reset *out)
{
    return vg_msg__decode_clear(&reset__schema, buf, len, out, sizeof *out);
}
