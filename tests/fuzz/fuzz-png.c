/* SPDX-License-Identifier: MIT
 * fuzz-png.c: a PNG folder holding one image, loaded at 8 x 8 (the first
 * byte's low bit: RGB, else grey); the rest is the PNG file. */
#include "epd-fuzz.h"

#include <glib/gstdio.h>

#include "epd-dataset.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (epd_fuzz_dir (), "png", NULL);
  g_autofree char *name = g_build_filename ("png", "image.png", NULL);
  g_autofree char *path = NULL;
  g_autoptr(EpdDataset) dataset = NULL;

  if (size < 1)
    return 0;
  if (g_mkdir_with_parents (dir, 0700) != 0)
    epd_fuzz_fail ("cannot make %s", dir);
  path = epd_fuzz_write_file (name, data + 1, size - 1);
  dataset = epd_dataset_load_png_dir (dir, 8, (data[0] & 1) ? 3 : 1, &error);
  return 0;
}
