/*
 * json.h - a small string builder and a streaming JSON writer for vigilctl.
 *
 * ctl_sb is a growable NUL-terminated byte buffer (heap, doubling), used for
 * JSON lines, human lines and CBOR diagnostic notation alike.  ctl_json sits
 * on top of one: it tracks nesting (up to CTL_JSON_MAX_DEPTH levels) so that
 * commas and colons are placed automatically, escapes strings per RFC 8259
 * (control characters as \u00XX, invalid UTF-8 bytes replaced by U+FFFD so
 * the output is always valid JSON), and writes NaN and infinities as null
 * (JSON has no such numbers).  Doubles are written with 17 significant
 * digits so they parse back bit-exact.
 *
 * Cost: every call is amortised O(bytes appended); memory is one buffer
 * that grows to the longest line written.  An allocation failure is sticky
 * (ctl_sb.err) and later appends do nothing.
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_JSON_MAX_DEPTH 32

/* A growable string. */
typedef struct ctl_sb {
    char *buf;  /* NUL-terminated content (NULL until the first append) */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    int err;    /* VG_OK, or VG_ENOMEM after a failed growth (sticky) */
} ctl_sb;

/* Initialises an empty builder (no allocation). */
void ctl_sb_init(ctl_sb *s);
/* Frees the buffer; the builder is empty and reusable afterwards. */
void ctl_sb_free(ctl_sb *s);
/* Empties the content, keeping the allocation. */
void ctl_sb_clear(ctl_sb *s);
/* Appends n bytes. */
void ctl_sb_put(ctl_sb *s, const char *p, size_t n);
/* Appends a NUL-terminated string. */
void ctl_sb_puts(ctl_sb *s, const char *p);
/* Appends printf-formatted text. */
void ctl_sb_printf(ctl_sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The content ("" when empty); valid until the next append. */
const char *ctl_sb_str(const ctl_sb *s);

/* A JSON writer appending to a ctl_sb it does not own. */
typedef struct ctl_json {
    ctl_sb *out;                        /* destination */
    int depth;                          /* open containers */
    bool first[CTL_JSON_MAX_DEPTH + 1]; /* no member written yet at that level */
    bool after_key;                     /* a key was written, its value is next */
    int err;                            /* VG_OK, or VG_ETOOBIG when nested too deep */
} ctl_json;

/* Starts writing into *out (appending to what is there). */
void ctl_json_init(ctl_json *j, ctl_sb *out);

/* Containers; begin calls past CTL_JSON_MAX_DEPTH set err and write nothing. */
void ctl_json_obj(ctl_json *j);
void ctl_json_obj_end(ctl_json *j);
void ctl_json_arr(ctl_json *j);
void ctl_json_arr_end(ctl_json *j);

/* A member name inside an object; the next value call is its value. */
void ctl_json_key(ctl_json *j, const char *name);

/* Values. */
void ctl_json_str(ctl_json *j, const char *s, size_t len); /* any bytes, escaped */
void ctl_json_cstr(ctl_json *j, const char *s);            /* NUL-terminated */
void ctl_json_num(ctl_json *j, double v);                  /* NaN/Inf -> null */
void ctl_json_int(ctl_json *j, int64_t v);
void ctl_json_uint(ctl_json *j, uint64_t v);
void ctl_json_bool(ctl_json *j, bool v);
void ctl_json_null(ctl_json *j);

/* An object member: the key, then its value (the pairs above in one call). */
void ctl_json_kstr(ctl_json *j, const char *key, const char *s); /* NUL-terminated */
void ctl_json_knum(ctl_json *j, const char *key, double v);
void ctl_json_kint(ctl_json *j, const char *key, int64_t v);
void ctl_json_kuint(ctl_json *j, const char *key, uint64_t v);
void ctl_json_kbool(ctl_json *j, const char *key, bool v);

/* Appends the JSON string literal of s[0..len) (quotes included) to *out. */
void ctl_json_escape(ctl_sb *out, const char *s, size_t len);

#endif
