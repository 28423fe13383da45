/* SPDX-License-Identifier: MIT
 * fuzz-table-json.c: coefficient tables as JSON (ours and the reference's). */
#include "epd-fuzz.h"
#include "epd-fuzz-table.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = epd_json_parse ((const char *) data, size, "fuzz", &error);
  g_autoptr(EpdTable) table = node != NULL ? epd_table_from_json (node, &error) : NULL;

  if (table != NULL)
    epd_fuzz_table_round_trips (table);
  return 0;
}
