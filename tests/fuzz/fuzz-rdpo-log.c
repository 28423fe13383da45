/* SPDX-License-Identifier: MIT
 * fuzz-rdpo-log.c: RDPO training logs (JSON lines), parsed and drawn as
 * the studio draws them. */
#include "epd-fuzz.h"

#include "epd-plot-curves.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char * const names[] = { "loss", "reward_val", "kl", "mixed_reward_mean", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdCurveLog) log = epd_curve_log_parse_jsonl ((const char *) data, size, "fuzz", &error);
  cairo_surface_t *surface;
  cairo_t *cr;

  if (log == NULL)
    return 0;
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 64, 48);
  cr = cairo_create (surface);
  epd_curve_plot_draw (cr, 64, 48, log, names, 4);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return 0;
}
