/*
 * vg_error.h - the one error convention of libvigil-core.
 *
 * Every fallible function in the core returns an int status: VG_OK (0) on
 * success, or one of the positive VG_E* codes below.  vg_strerror() turns a
 * code into a short, stable, human-readable phrase that programs may log and
 * count by.  Codes are never reused or renumbered: metrics and acks on the
 * wire carry them.
 */
#ifndef VG_ERROR_H
#define VG_ERROR_H

enum vg_rc {
    VG_OK = 0,
    VG_EINVAL = 1,     /* invalid argument from the caller */
    VG_ENOSPC = 2,     /* output buffer or table too small */
    VG_EDECODE = 3,    /* malformed CBOR or wrong item type */
    VG_ESCHEMA = 4,    /* unsupported schema version */
    VG_ETRUNC = 5,     /* payload ends before the item does */
    VG_ETOOBIG = 6,    /* a length or count exceeds its limit */
    VG_ESIG = 7,       /* signature does not verify */
    VG_EDEVICE = 8,    /* bundle or message for another device */
    VG_EVERSION = 9,   /* model version not newer than the current one */
    VG_EENVELOPE = 10, /* model would loosen the safety envelope */
    VG_ENAN = 11,      /* NaN or infinite value */
    VG_EORDER = 12,    /* sample or sequence number out of order */
    VG_EDUP = 13,      /* duplicate sequence number */
    VG_ECHANNEL = 14,  /* unknown channel */
    VG_EMISSING = 15,  /* a required field is absent */
    VG_ESYNTAX = 16,   /* text (CSV, config value) cannot be parsed */
    VG_ENOMEM = 17,    /* allocation failed at set-up time */
    VG_EEXIST = 18,    /* the thing already exists */
    VG_ECRYPTO = 19,   /* crypto library failed to initialise */
    VG_EACTIVE = 20,   /* the cause of a latched trip is still present */
    VG_EIO = 21,       /* storage or I/O error (details in the module's message) */
    VG_ESTATUS_MAX = 22
};

/* Returns a static string describing status `rc`; never NULL. */
const char *vg_strerror(int rc);

/* Returns a short identifier for `rc` ("decode", "nan", ...) suited to be a
 * metrics label or a reason on the wire; never NULL. */
const char *vg_errname(int rc);

#endif
