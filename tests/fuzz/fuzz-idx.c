/* SPDX-License-Identifier: MIT
 * fuzz-idx.c: idx image and label files. The first byte picks the file
 * name (plain or .gz, which the loader decompresses) and whether the rest
 * is also read as the label file; the rest is the file. */
#include "epd-fuzz.h"

#include "epd-dataset.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(EpdDataset) dataset = NULL;

  if (size < 1)
    return 0;
  path = epd_fuzz_write_file ((data[0] & 1) ? "images.gz" : "images", data + 1, size - 1);
  dataset = epd_dataset_load_idx (path, (data[0] & 2) ? path : NULL, NULL, &error);
  return 0;
}
