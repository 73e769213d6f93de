/*
 * decode.c - `vigilctl decode [FILE|-]`: one payload to one JSON object (or
 * to CBOR diagnostic notation with --diag).
 *
 * Design: the whole input is read (at most VG_MSG_MAX_BYTES), decoded as
 * --kind or, by default, as whichever vigil message it strictly is
 * (payload.c), and printed on one line.  An undecodable payload still
 * prints a JSON object (ok=false, reason, diag) and exits 5.
 * Cost: O(payload).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "payload.h"
#include "vg_error.h"
#include "vg_msg.h"

/* --diag: the diagnostic notation of the whole input. */
static int decode__diag(const uint8_t *buf, size_t len)
{
    ctl_sb out;
    ctl_sb_init(&out);
    int rc = ctl_diag(&out, buf, len, CTL_DIAG_DEPTH, 0);
    printf("%s\n", ctl_sb_str(&out));
    if (rc != VG_OK)
        fprintf(stderr, "vigilctl: not well-formed CBOR: %s\n", vg_strerror(rc));
    ctl_sb_free(&out);
    return rc == VG_OK ? CTL_EXIT_OK : CTL_EXIT_INPUT;
}

/* JSON of the decoded payload. */
static int decode__json(const uint8_t *buf, size_t len, int kind)
{
    ctl_payload *p = ctl_payload_new();
    if (!p)
        return CTL_EXIT_FAIL;
    int rc = ctl_payload_decode(p, kind, buf, len);
    ctl_sb out;
    ctl_json j;
    ctl_sb_init(&out);
    ctl_json_init(&j, &out);
    ctl_json_obj(&j);
    ctl_payload_json(p, &j);
    ctl_json_obj_end(&j);
    printf("%s\n", ctl_sb_str(&out));
    if (rc != VG_OK)
        fprintf(stderr, "vigilctl: not a valid %s payload: %s\n",
                kind ? ctl_kind_name(kind) : "vigil", vg_strerror(rc));
    ctl_sb_free(&out);
    ctl_payload_free(p);
    return rc == VG_OK ? CTL_EXIT_OK : CTL_EXIT_INPUT;
}

int ctl_cmd_decode(ctl_opts *o)
{
    int kind = CTL_K_UNKNOWN;
    if (o->kind && (kind = ctl_kind_from_name(o->kind)) == CTL_K_UNKNOWN) {
        fprintf(stderr, "vigilctl decode: unknown --kind '%s'\n", o->kind);
        return CTL_EXIT_USAGE;
    }
    uint8_t *buf;
    size_t len;
    int rc = ctl_read_file(o->nargs ? o->args[0] : "-", VG_MSG_MAX_BYTES, &buf, &len);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = o->diag ? decode__diag(buf, len) : decode__json(buf, len, kind);
    free(buf);
    return rc;
}
