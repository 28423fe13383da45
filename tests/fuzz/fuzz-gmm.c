/* SPDX-License-Identifier: MIT
 * fuzz-gmm.c: Gaussian mixture model files (JSON); a model read must write
 * and read back. */
#include "epd-fuzz.h"

#include "epd-gmm.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = epd_json_parse ((const char *) data, size, "fuzz", &error);
  g_autoptr(EpdGmm) gmm = node != NULL ? epd_gmm_from_json (node, "fuzz", "fuzz", &error) : NULL;
  g_autoptr(JsonNode) written = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(EpdGmm) again = NULL;
  g_autofree char *text = NULL;
  gsize length;

  if (gmm == NULL)
    return 0;
  written = epd_gmm_to_json (gmm);
  text = epd_json_to_data (written, FALSE, &length);
  parsed = epd_json_parse (text, length, "written model", &error);
  again = parsed != NULL ? epd_gmm_from_json (parsed, "written model", "fuzz", &error) : NULL;
  if (again == NULL)
    epd_fuzz_fail ("a written mixture does not read back: %s", error->message);
  return 0;
}
