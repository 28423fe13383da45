/* SPDX-License-Identifier: MIT
 * fuzz-npy.c: .npy arrays and scalars; an array read must write and read back. */
#include "epd-fuzz.h"

#include <string.h>

#include "epd.h"

static void
check_round_trip (const EpdArray *array)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = epd_npy_serialize (array);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(EpdArray) again = epd_npy_parse (data, len, &error);
  gsize n = epd_array_size (array);

  if (again == NULL)
    epd_fuzz_fail ("a written .npy does not read back: %s", error->message);
  if (again->ndim != array->ndim || epd_array_size (again) != n ||
      memcmp (again->data, array->data, n * sizeof (double)) != 0)
    epd_fuzz_fail ("a written .npy reads back different");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) scalar_error = NULL;
  g_autoptr(EpdArray) array = epd_npy_parse (data, size, &error);
  g_autoptr(JsonNode) scalar = epd_npy_parse_scalar (data, size, &scalar_error);

  if (array != NULL)
    check_round_trip (array);
  return 0;
}
