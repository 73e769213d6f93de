/*
 * fuzz_archive.c - libFuzzer target for vg_archive_decode(): no crash, items
 * point inside the input, and an accepted chunk re-encodes, decodes to the
 * same items (payload bytes compared) and re-encodes to the same bytes
 * (abort() otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

#define ITEMS 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int item_equal(const vg_archive_item *x, const vg_archive_item *y)
{
    return x->kind == y->kind && x->seq == y->seq && x->model_version == y->model_version &&
           x->rx_us == y->rx_us && x->len == y->len &&
           (x->len == 0 || memcmp(x->payload, y->payload, x->len) == 0);
}

static int archive_equal(const vg_archive *a, const vg_archive *b)
{
    if (strcmp(a->device, b->device) != 0 || a->chunk_seq != b->chunk_seq || a->nitem != b->nitem)
        return 0;
    for (uint32_t i = 0; i < a->nitem; i++)
        if (!item_equal(&a->item[i], &b->item[i]))
            return 0;
    return 1;
}

/* Items must lie inside buf[0..len). */
static void check_inside(const vg_archive *a, const uint8_t *buf, size_t len)
{
    for (uint32_t i = 0; i < a->nitem; i++) {
        const vg_archive_item *it = &a->item[i];
        if (it->len > len || it->payload < buf || it->payload > buf + len - it->len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_archive_item ia[ITEMS], ib[ITEMS]; /* single-threaded fuzzer */
    vg_archive a = {.item = ia, .item_cap = ITEMS}, b = {.item = ib, .item_cap = ITEMS};
    size_t cap = 2 * size + 1024, len = 0, len2 = 0;
    if (vg_archive_decode(data, size, &a) != VG_OK)
        return 0;
    check_inside(&a, data, size);
    uint8_t *buf = malloc(cap), *again = malloc(cap);
    if (!buf || !again)
        abort();
    if (vg_archive_encode(&a, buf, cap, &len) != VG_OK)
        abort();
    if (vg_archive_decode(buf, len, &b) != VG_OK || !archive_equal(&a, &b))
        abort();
    check_inside(&b, buf, len);
    if (vg_archive_encode(&b, again, cap, &len2) != VG_OK || len2 != len ||
        memcmp(buf, again, len) != 0)
        abort();
    free(buf);
    free(again);
    return 0;
}
