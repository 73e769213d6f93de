/*
 * fuzz_model.c - libFuzzer target for vg_model_decode() (the payload inside
 * a bundle): no crash, and an accepted model re-encodes, decodes to the
 * same fields (absent parameters stay NaN, present ones bit for bit) and
 * re-encodes to the same bytes (abort() otherwise).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int model_equal(const vg_model *a, const vg_model *b)
{
    if (strcmp(a->device, b->device) != 0 || a->version != b->version ||
        a->created_us != b->created_us || a->train_from_us != b->train_from_us ||
        a->train_to_us != b->train_to_us || a->nchan != b->nchan)
        return 0;
    const size_t lo = offsetof(vg_chan_model, lo), n = sizeof(vg_chan_model) - lo;
    for (uint32_t i = 0; i < a->nchan; i++) {
        /* the 13 doubles from lo on, bit for bit (NaN = absent included) */
        if (strcmp(a->chan[i].name, b->chan[i].name) != 0 ||
            memcmp((const char *)&a->chan[i] + lo, (const char *)&b->chan[i] + lo, n) != 0)
            return 0;
    }
    /* the multivariate part: all zero when absent, else bit for bit */
    return memcmp(&a->mvar, &b->mvar, sizeof a->mvar) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_model a, b; /* ~10 KiB each; the fuzzer is single-threaded */
    static uint8_t buf[65536], again[65536];
    size_t len = 0, len2 = 0;
    if (vg_model_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_model_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_model_decode(buf, len, &b) != VG_OK || !model_equal(&a, &b))
        abort();
    if (vg_model_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
