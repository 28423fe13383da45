/* SPDX-License-Identifier: MIT
 * fuzz-table-npz.c: coefficient tables as the reference's .npz. */
#include "epd-fuzz.h"
#include "epd-fuzz-table.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr(EpdTable) table = epd_table_from_npz_bytes (bytes, &error);

  if (table != NULL)
    epd_fuzz_table_round_trips (table);
  return 0;
}
