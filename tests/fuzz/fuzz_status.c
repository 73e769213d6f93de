/*
 * fuzz_status.c - libFuzzer target for vg_status_decode(): no crash, and an
 * accepted status re-encodes, decodes to the same fields and counters (in
 * order) and re-encodes to the same bytes (abort() otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int status_equal(const vg_status *a, const vg_status *b)
{
    if (strcmp(a->device, b->device) != 0 || a->online != b->online || a->latched != b->latched ||
        a->t_us != b->t_us || a->model_version != b->model_version || a->ncounter != b->ncounter)
        return 0;
    for (uint32_t i = 0; i < a->ncounter; i++)
        if (strcmp(a->counter[i].name, b->counter[i].name) != 0 ||
            a->counter[i].value != b->counter[i].value)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_status a, b;
    uint8_t buf[8192], again[8192];
    size_t len = 0, len2 = 0;
    if (vg_status_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_status_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_status_decode(buf, len, &b) != VG_OK || !status_equal(&a, &b))
        abort();
    if (vg_status_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
