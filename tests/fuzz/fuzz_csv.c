/*
 * fuzz_csv.c - libFuzzer target for the CSV reader: split arbitrary bytes
 * as one line, then parse every field as a timestamp and as a value.
 * Properties checked beyond "no crash": fields lie inside the line buffer
 * and are NUL-terminated at their reported length; a parsed value is
 * finite; VG_ENAN only for empty/NaN cells.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vg_csv.h"
#include "vg_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    static char *field[64];
    static uint32_t len[64];
    vg_csv_row row = {.cap = 64, .field = field, .len = len};
    int rc = vg_csv_split(line, size, &row);
    if (rc == VG_OK) {
        for (uint32_t i = 0; i < row.n; i++) {
            if (field[i] < line || field[i] + len[i] > line + size || field[i][len[i]] != '\0')
                abort();
            int64_t t;
            double v;
            (void)vg_csv_parse_time(field[i], len[i], &t);
            int vr = vg_csv_parse_value(field[i], len[i], &v);
            if (vr == VG_OK && !isfinite(v))
                abort();
            if (vr == VG_ENAN && !isnan(v))
                abort();
        }
    } else if (rc == VG_ESYNTAX && (row.bad_col == 0 || row.bad_col > row.cap + 1)) {
        abort();
    }
    free(line);
    return 0;
}
