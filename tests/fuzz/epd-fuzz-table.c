/* SPDX-License-Identifier: MIT
 * epd-fuzz-table.c: what epd writes, epd must read -- checked on every table
 * a harness manages to load. */
#include "epd-fuzz-table.h"

#include "epd-fuzz.h"

static void
check_same (const EpdTable *table,
            EpdTable       *again,
            const char     *format,
            GError         *error)
{
  if (again == NULL)
    epd_fuzz_fail ("a table written as %s does not read back: %s", format, error->message);
  if (!epd_table_equal (table, again))
    epd_fuzz_fail ("a table written as %s reads back different", format);
}

void
epd_fuzz_table_round_trips (const EpdTable *table)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = epd_table_to_json (table);
  gsize length;
  g_autofree char *text = epd_json_to_data (node, TRUE, &length);
  g_autoptr(JsonNode) parsed = epd_json_parse (text, length, "written table", &error);
  g_autoptr(EpdTable) from_json = parsed != NULL ? epd_table_from_json (parsed, &error) : NULL;
  g_autoptr(GBytes) npz = NULL;
  g_autoptr(EpdTable) from_npz = NULL;

  check_same (table, from_json, "JSON", error);
  npz = epd_table_to_npz_bytes (table, &error);
  if (npz == NULL)
    epd_fuzz_fail ("a valid table cannot be written as .npz: %s", error->message);
  from_npz = epd_table_from_npz_bytes (npz, &error);
  check_same (table, from_npz, ".npz", error);
}
