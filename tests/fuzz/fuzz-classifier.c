/* SPDX-License-Identifier: MIT
 * fuzz-classifier.c: the reward classifier's weight file. */
#include "epd-fuzz.h"

#include "epd-classifier.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = epd_fuzz_write_file ("classifier.bin", data, size);
  EpdClassifier *classifier = epd_classifier_load (path, &error);

  g_clear_pointer (&classifier, epd_classifier_free);
  return 0;
}
