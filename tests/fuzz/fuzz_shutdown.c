/*
 * fuzz_shutdown.c - libFuzzer target for vg_shutdown_decode(): no crash,
 * and an accepted command re-encodes, decodes to the same fields (sample
 * values bit for bit) and re-encodes to the same bytes (abort() otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int shutdown_equal(const vg_shutdown *a, const vg_shutdown *b)
{
    if (strcmp(a->device, b->device) != 0 || strcmp(a->channel, b->channel) != 0 ||
        strcmp(a->reason, b->reason) != 0 || a->detector != b->detector ||
        a->trip_id != b->trip_id || a->t_us != b->t_us || a->model_version != b->model_version ||
        a->nsamples != b->nsamples)
        return 0;
    for (uint32_t i = 0; i < a->nsamples; i++)
        if (a->samples[i].t_us != b->samples[i].t_us ||
            memcmp(&a->samples[i].value, &b->samples[i].value, sizeof(double)) != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_shutdown a, b;
    uint8_t buf[2048], again[2048];
    size_t len = 0, len2 = 0;
    if (vg_shutdown_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_shutdown_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_shutdown_decode(buf, len, &b) != VG_OK || !shutdown_equal(&a, &b))
        abort();
    if (vg_shutdown_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
