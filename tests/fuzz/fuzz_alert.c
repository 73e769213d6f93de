/*
 * fuzz_alert.c - libFuzzer target for vg_alert_decode().
 *
 * Beyond "no crash, no sanitizer report": whatever the decoder accepts must
 * re-encode (the encoder applies the same rules), decode again to the same
 * fields (doubles compared bit for bit, NaN payloads included), and
 * re-encode to the same bytes (the encoding of a decoded value is
 * canonical).  A violation abort()s so libFuzzer records the input.
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static int alert_equal(const vg_alert *a, const vg_alert *b)
{
    return strcmp(a->device, b->device) == 0 && strcmp(a->channel, b->channel) == 0 &&
           a->raised == b->raised && a->detector == b->detector && a->t_us == b->t_us &&
           same_bits(a->value, b->value) && same_bits(a->score, b->score) &&
           a->model_version == b->model_version && a->seq == b->seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_alert a, b;
    uint8_t buf[1024], again[1024];
    size_t len = 0, len2 = 0;
    if (vg_alert_decode(data, size, &a) != VG_OK)
        return 0;
    if (vg_alert_encode(&a, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_alert_decode(buf, len, &b) != VG_OK || !alert_equal(&a, &b))
        abort();
    if (vg_alert_encode(&b, again, sizeof again, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    return 0;
}
