/* SPDX-License-Identifier: MIT
 * fuzz-safetensors.c: safetensors files; every tensor of a header that checks
 * out must convert to float32 or be refused with a GError. */
#include "epd-fuzz.h"

#include "epd-safetensors.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdSafetensors) st = epd_safetensors_parse (bytes, "fuzz", &error);
  const EpdSafetensorsEntry *entries;
  guint n;

  if (st == NULL)
    return 0;
  entries = epd_safetensors_get_entries (st, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) read_error = NULL;
      g_autofree float *dst = g_try_new (float, MAX (entries[i].n_elements, 1));

      /* The header checked that the tensor's bytes lie inside the input, so
       * its element count is bounded by the input's size. */
      if (dst == NULL)
        epd_fuzz_fail ("tensor %s claims %" G_GSIZE_FORMAT " elements in %" G_GSIZE_FORMAT " bytes",
                       entries[i].name, entries[i].n_elements, (gsize) size);
      epd_safetensors_read_float (st, &entries[i], dst, &read_error);
    }
  return 0;
}
