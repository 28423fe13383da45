/* SPDX-License-Identifier: MIT */
/* epd-image-grid.h: sampled images as a PNG grid. */
#pragma once

#include <cairo.h>

#include "epd.h"

G_BEGIN_DECLS

/* images: n rows of side*side*channels values in [-1, 1] (clamped), laid out
 * [side][side][channels]; channels 1 (grey) or 3 (RGB). columns 0 = about square.
 * Each image is drawn scale x scale pixels per value, with a 2-pixel gutter. */
cairo_surface_t *epd_image_grid_render   (const double *images,
                                          gsize         n,
                                          guint         side,
                                          guint         channels,
                                          guint         columns,
                                          guint         scale,
                                          GError      **error);
/* Atomic write of the grid as PNG. */
gboolean         epd_image_grid_save_png (const double *images,
                                          gsize         n,
                                          guint         side,
                                          guint         channels,
                                          guint         columns,
                                          guint         scale,
                                          const char   *path,
                                          GError      **error);

G_END_DECLS
