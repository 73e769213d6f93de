/*
 * fuzz_reset.c - libFuzzer target for vg_reset_decode(): no crash, and an
 * accepted reset re-encodes, decodes to the same fields and re-encodes to
 * the same bytes (abort() otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reset_equal(const vg_reset *a, const vg_reset *b)
{
    return strcmp(a->device, b->device) == 0 && strcmp(a->operator_id, b->operator_id) == 0 &&
           a->t_us == b->t_us && a->trip_id == b->trip_id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_reset a, b;
    uint8_t buf[1024], again[1024];
    size_t len = 0, len2 = 0;
    if (vg_reset_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_reset_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_reset_decode(buf, len, &b) != VG_OK || !reset_equal(&a, &b))
        abort();
    if (vg_reset_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
