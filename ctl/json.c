/*
 * json.c - string builder and JSON writer (see json.h for the contract).
 *
 * Design: the writer keeps one "first member" flag per nesting level so a
 * separator is written before every value but the first; keys set a flag so
 * that their value is not preceded by a comma.  UTF-8 is checked one
 * sequence at a time with the core's validator, so a bad byte costs one
 * replacement character and never desynchronises the rest of the string.
 * Cost: O(bytes written), one heap buffer.
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_cbor.h"
#include "vg_error.h"

void ctl_sb_init(ctl_sb *s)
{
    memset(s, 0, sizeof *s);
}

void ctl_sb_free(ctl_sb *s)
{
    free(s->buf);
    ctl_sb_init(s);
}

void ctl_sb_clear(ctl_sb *s)
{
    s->len = 0;
    if (s->buf)
        s->buf[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL; false when out of memory. */
static bool sb__reserve(ctl_sb *s, size_t extra)
{
    if (s->err)
        return false;
    if (s->len + extra + 1 <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->len + extra + 1)
        cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b) {
        s->err = VG_ENOMEM;
        return false;
    }
    s->buf = b;
    s->cap = cap;
    return true;
}

void ctl_sb_put(ctl_sb *s, const char *p, size_t n)
{
    if (!sb__reserve(s, n))
        return;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

void ctl_sb_puts(ctl_sb *s, const char *p)
{
    ctl_sb_put(s, p, strlen(p));
}

void ctl_sb_printf(ctl_sb *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb__reserve(s, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

const char *ctl_sb_str(const ctl_sb *s)
{
    return s->buf ? s->buf : "";
}

/* Length of the UTF-8 sequence led by byte c (1 for a bad lead byte). */
static size_t json__seq_len(unsigned char c)
{
    if (c < 0xc2)
        return 1;
    if (c < 0xe0)
        return 2;
    if (c < 0xf0)
        return 3;
    return c < 0xf5 ? 4 : 1;
}

/* Appends one escaped ASCII byte c. */
static void json__ascii(ctl_sb *out, unsigned char c)
{
    static const char *const named[] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    if (c == '"' || c == '\\') {
        char e[2] = {'\\', (char)c};
        ctl_sb_put(out, e, 2);
    } else if (c < 0x20 && c < sizeof named / sizeof named[0] && named[c]) {
        ctl_sb_puts(out, named[c]);
    } else if (c < 0x20 || c == 0x7f) {
        ctl_sb_printf(out, "\\u%04x", c);
    } else {
        char ch = (char)c;
        ctl_sb_put(out, &ch, 1);
    }
}

void ctl_json_escape(ctl_sb *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    ctl_sb_put(out, "\"", 1);
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            json__ascii(out, p[i++]);
            continue;
        }
        size_t n = json__seq_len(p[i]);
        if (n > 1 && i + n <= len && vg_cbor_utf8_valid(p + i, n)) {
            ctl_sb_put(out, (const char *)p + i, n);
            i += n;
        } else {
            ctl_sb_puts(out, "\xef\xbf\xbd"); /* U+FFFD */
            i++;
        }
    }
    ctl_sb_put(out, "\"", 1);
}

void ctl_json_init(ctl_json *j, ctl_sb *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->first[0] = true;
}

/* Writes the separator due before a value or key at the current level. */
static void json__sep(ctl_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        ctl_sb_put(j->out, ",", 1);
    j->first[j->depth] = false;
}

/* Opens a container with bracket `c`. */
static void json__open(ctl_json *j, char c)
{
    if (j->depth >= CTL_JSON_MAX_DEPTH) {
        j->err = VG_ETOOBIG;
        return;
    }
    json__sep(j);
    ctl_sb_put(j->out, &c, 1);
    j->first[++j->depth] = true;
}

/* Closes a container with bracket `c`. */
static void json__close(ctl_json *j, char c)
{
    if (j->depth == 0)
        return;
    j->depth--;
    ctl_sb_put(j->out, &c, 1);
}

void ctl_json_obj(ctl_json *j)
{
    json__open(j, '{');
}

void ctl_json_obj_end(ctl_json *j)
{
    json__close(j, '}');
}

void ctl_json_arr(ctl_json *j)
{
    json__open(j, '[');
}

void ctl_json_arr_end(ctl_json *j)
{
    json__close(j, ']');
}

void ctl_json_key(ctl_json *j, const char *name)
{
    json__sep(j);
    ctl_json_escape(j->out, name, strlen(name));
    ctl_sb_put(j->out, ":", 1);
    j->after_key = true;
}

void ctl_json_str(ctl_json *j, const char *s, size_t len)
{
    json__sep(j);
    ctl_json_escape(j->out, s, len);
}

void ctl_json_cstr(ctl_json *j, const char *s)
{
    ctl_json_str(j, s, strlen(s));
}

void ctl_json_num(ctl_json *j, double v)
{
    json__sep(j);
    if (!isfinite(v)) {
        ctl_sb_puts(j->out, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        ctl_sb_printf(j->out, "%.1f", v);
        return;
    }
    char b[32];
    snprintf(b, sizeof b, "%.15g", v); /* the short form when it is exact */
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof b, "%.17g", v);
    ctl_sb_puts(j->out, b);
}

void ctl_json_int(ctl_json *j, int64_t v)
{
    json__sep(j);
    ctl_sb_printf(j->out, "%lld", (long long)v);
}

void ctl_json_uint(ctl_json *j, uint64_t v)
{
    json__sep(j);
    ctl_sb_printf(j->out, "%llu", (unsigned long long)v);
}

void ctl_json_bool(ctl_json *j, bool v)
{
    json__sep(j);
    ctl_sb_puts(j->out, v ? "true" : "false");
}

void ctl_json_null(ctl_json *j)
{
    json__sep(j);
    ctl_sb_puts(j->out, "null");
}

void ctl_json_kstr(ctl_json *j, const char *key, const char *s)
{
    ctl_json_key(j, key);
    ctl_json_cstr(j, s);
}

void ctl_json_knum(ctl_json *j, const char *key, double v)
{
    ctl_json_key(j, key);
    ctl_json_num(j, v);
}

void ctl_json_kint(ctl_json *j, const char *key, int64_t v)
{
    ctl_json_key(j, key);
    ctl_json_int(j, v);
}

void ctl_json_kuint(ctl_json *j, const char *key, uint64_t v)
{
    ctl_json_key(j, key);
    ctl_json_uint(j, v);
}

void ctl_json_kbool(ctl_json *j, const char *key, bool v)
{
    ctl_json_key(j, key);
    ctl_json_bool(j, v);
}
