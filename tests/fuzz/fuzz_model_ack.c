/*
 * fuzz_model_ack.c - libFuzzer target for vg_model_ack_decode(): no crash,
 * and an accepted ack re-encodes, decodes to the same fields and re-encodes
 * to the same bytes (abort() otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ack_equal(const vg_model_ack *a, const vg_model_ack *b)
{
    return strcmp(a->device, b->device) == 0 && strcmp(a->reason, b->reason) == 0 &&
           a->applied == b->applied && a->version == b->version &&
           a->running_version == b->running_version && a->t_us == b->t_us;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_model_ack a, b;
    uint8_t buf[1024], again[1024];
    size_t len = 0, len2 = 0;
    if (vg_model_ack_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_model_ack_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_model_ack_decode(buf, len, &b) != VG_OK || !ack_equal(&a, &b))
        abort();
    if (vg_model_ack_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
