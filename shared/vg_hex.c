/* vg_hex.c - hex conversion (see vg_hex.h). */
#include "vg_hex.h"
#include "vg_error.h"

static int hex__digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex__space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int vg_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
    while (len > 0 && hex__space(*s)) {
        s++;
        len--;
    }
    while (len > 0 && hex__space(s[len - 1]))
        len--;
    if (len != 2 * n)
        return VG_ESYNTAX;
    for (size_t i = 0; i < n; i++) {
        int hi = hex__digit(s[2 * i]), lo = hex__digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return VG_ESYNTAX;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return VG_OK;
}

void vg_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
