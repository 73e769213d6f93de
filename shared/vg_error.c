/*
 * vg_error.c - status codes to text.  One table, indexed by code: adding a
 * code means adding one row here and one enumerator in vg_error.h.
 */
#include "vg_error.h"

struct vg_errdesc {
    const char *name; /* stable identifier: metrics label, wire reason */
    const char *text; /* phrase for people */
};

static const struct vg_errdesc vg_errors[VG_ESTATUS_MAX] = {
    [VG_OK] = {"ok", "success"},
    [VG_EINVAL] = {"invalid", "invalid argument"},
    [VG_ENOSPC] = {"nospace", "buffer or table too small"},
    [VG_EDECODE] = {"decode", "malformed CBOR or unexpected item type"},
    [VG_ESCHEMA] = {"schema", "unsupported schema version"},
    [VG_ETRUNC] = {"truncated", "payload truncated"},
    [VG_ETOOBIG] = {"toobig", "length or count over its limit"},
    [VG_ESIG] = {"signature", "signature does not verify"},
    [VG_EDEVICE] = {"device", "wrong device"},
    [VG_EVERSION] = {"version", "model version not newer than current"},
    [VG_EENVELOPE] = {"envelope", "model would loosen the safety envelope"},
    [VG_ENAN] = {"nan", "NaN or infinite value"},
    [VG_EORDER] = {"order", "out of order"},
    [VG_EDUP] = {"duplicate", "duplicate sequence number"},
    [VG_ECHANNEL] = {"channel", "unknown channel"},
    [VG_EMISSING] = {"missing", "required field missing"},
    [VG_ESYNTAX] = {"syntax", "cannot parse text"},
    [VG_ENOMEM] = {"nomem", "out of memory"},
    [VG_EEXIST] = {"exists", "already exists"},
    [VG_ECRYPTO] = {"crypto", "crypto library initialisation failed"},
    [VG_EACTIVE] = {"active", "cause of the trip still present"},
    [VG_EIO] = {"io", "storage or I/O error"},
};

const char *vg_strerror(int rc)
{
    if (rc < 0 || rc >= VG_ESTATUS_MAX || !vg_errors[rc].text)
        return "unknown error";
    return vg_errors[rc].text;
}

const char *vg_errname(int rc)
{
    if (rc < 0 || rc >= VG_ESTATUS_MAX || !vg_errors[rc].name)
        return "unknown";
    return vg_errors[rc].name;
}
