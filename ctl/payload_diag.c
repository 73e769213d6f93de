/*
 * payload_diag.c - CBOR diagnostic notation (RFC 8949 section 8) of any
 * well-formed item, for vigilctl's `decode` and for undecodable payloads
 * (contract: ctl_diag in payload.h).
 *
 * Design: the walk uses the core's strict reader (vg_cbor.h) and an
 * explicit stack of open containers instead of recursion, so hostile
 * nesting costs a bounded stack (CTL_DIAG_DEPTH frames) and ends in
 * VG_ETOOBIG.  Cost: O(payload) reads, O(output) appends.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "vg_cbor.h"
#include "vg_error.h"

/* One open container or tag of the diagnostic printer. */
typedef struct diag_frame {
    uint64_t want; /* items it holds (2 per map pair, 1 for a tag) */
    uint64_t done; /* items printed so far */
    uint8_t type;  /* VG_CBOR_ARRAY, VG_CBOR_MAP or VG_CBOR_TAG */
} diag_frame;

/* Prints a float the way diagnostic notation spells it. */
static void diag__float(ctl_sb *out, double f)
{
    if (isnan(f))
        ctl_sb_puts(out, "NaN");
    else if (isinf(f))
        ctl_sb_puts(out, f > 0 ? "Infinity" : "-Infinity");
    else if (f == floor(f) && fabs(f) < 1e15)
        ctl_sb_printf(out, "%.1f", f);
    else {
        char b[32];
        snprintf(b, sizeof b, "%.15g", f);
        if (strtod(b, NULL) != f)
            snprintf(b, sizeof b, "%.17g", f);
        ctl_sb_puts(out, b);
    }
}

/* Prints a byte or text string, cut at max_str bytes (0 = never). */
static void diag__string(ctl_sb *out, const vg_cbor_item *it, size_t max_str)
{
    size_t n = max_str && it->len > max_str ? max_str : it->len;
    if (it->type == VG_CBOR_TEXT) {
        ctl_json_escape(out, (const char *)it->ptr, n);
    } else {
        ctl_sb_puts(out, "h'");
        for (size_t i = 0; i < n; i++)
            ctl_sb_printf(out, "%02x", it->ptr[i]);
        ctl_sb_puts(out, "'");
    }
    if (n < it->len)
        ctl_sb_printf(out, "...(%zu bytes)", it->len);
}

/* Prints an item head; returns 1 when it opened a container or tag. */
static int diag__head(ctl_sb *out, const vg_cbor_item *it, size_t max_str)
{
    switch (it->type) {
    case VG_CBOR_UINT:
        ctl_sb_printf(out, "%" PRIu64, it->val);
        return 0;
    case VG_CBOR_NEGINT:
        if (it->val == UINT64_MAX)
            ctl_sb_puts(out, "-18446744073709551616");
        else
            ctl_sb_printf(out, "-%" PRIu64, it->val + 1);
        return 0;
    case VG_CBOR_BYTES:
    case VG_CBOR_TEXT:
        diag__string(out, it, max_str);
        return 0;
    case VG_CBOR_ARRAY:
        ctl_sb_puts(out, "[");
        return 1;
    case VG_CBOR_MAP:
        ctl_sb_puts(out, "{");
        return 1;
    case VG_CBOR_TAG:
        ctl_sb_printf(out, "%" PRIu64 "(", it->val);
        return 1;
    case VG_CBOR_FLOAT:
        diag__float(out, it->f);
        return 0;
    case VG_CBOR_BOOL:
        ctl_sb_puts(out, it->val ? "true" : "false");
        return 0;
    case VG_CBOR_NULL:
        ctl_sb_puts(out, "null");
        return 0;
    default:
        ctl_sb_puts(out, "undefined");
        return 0;
    }
}

/* The closing bracket of a frame. */
static const char *diag__closer(const diag_frame *f)
{
    return f->type == VG_CBOR_ARRAY ? "]" : f->type == VG_CBOR_MAP ? "}" : ")";
}

/* The separator before the next item inside frame f. */
static void diag__sep(ctl_sb *out, const diag_frame *f)
{
    if (f->done == 0 || f->type == VG_CBOR_TAG)
        return;
    if (f->type == VG_CBOR_MAP)
        ctl_sb_puts(out, f->done % 2 ? ": " : ", ");
    else
        ctl_sb_puts(out, ", ");
}

int ctl_diag(ctl_sb *out, const uint8_t *buf, size_t len, int max_depth, size_t max_str)
{
    diag_frame st[CTL_DIAG_DEPTH];
    int sp = 0;
    if (max_depth > CTL_DIAG_DEPTH)
        max_depth = CTL_DIAG_DEPTH;
    vg_cbor_reader r;
    vg_cbor_reader_init(&r, buf, len);
    do {
        if (sp > 0)
            diag__sep(out, &st[sp - 1]);
        vg_cbor_item it;
        int rc = vg_cbor_next(&r, &it);
        if (rc != VG_OK)
            return rc;
        if (diag__head(out, &it, max_str)) {
            uint64_t want = it.type == VG_CBOR_MAP   ? it.val * 2
                            : it.type == VG_CBOR_TAG ? 1
                                                     : it.val;
            if (sp >= max_depth)
                return VG_ETOOBIG;
            st[sp++] = (diag_frame){want, 0, it.type};
            if (want > 0)
                continue; /* its first item comes next */
            ctl_sb_puts(out, diag__closer(&st[--sp]));
        }
        /* an item is complete: close every container it completes */
        while (sp > 0 && ++st[sp - 1].done == st[sp - 1].want)
            ctl_sb_puts(out, diag__closer(&st[--sp]));
    } while (sp > 0);
    return vg_cbor_remaining(&r) ? VG_EDECODE : VG_OK;
}
