/* SPDX-License-Identifier: MIT
 *
 * epd-test-pixel.h: reading and checking pixels of Cairo image surfaces. */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct { double r, g, b; } EpdTestRgb;

/* The colour at (x, y) (truncated to whole pixels) of an RGB24 or ARGB32
 * image surface: 0xRRGGBB, or each channel in [0, 1]. */
guint32    epd_test_pixel_hex (cairo_surface_t *surface,
                               double           x,
                               double           y);
EpdTestRgb epd_test_pixel     (cairo_surface_t *surface,
                               double           x,
                               double           y);

void       epd_test_pixel_failed (const char *file,
                                  int         line,
                                  const char *func,
                                  double      x,
                                  double      y,
                                  guint32     found,
                                  const char *expected);

/* Asserts expr about the pixel at (x, y), which expr sees as the EpdTestRgb
 * named c; a failure says which colour was found there. */
#define epd_assert_pixel(surface, x, y, c, expr) G_STMT_START { \
    double epd_px_ = (x), epd_py_ = (y); \
    EpdTestRgb c = epd_test_pixel ((surface), epd_px_, epd_py_); \
    if (!(expr)) \
      epd_test_pixel_failed (__FILE__, __LINE__, G_STRFUNC, epd_px_, epd_py_, \
                             epd_test_pixel_hex ((surface), epd_px_, epd_py_), #expr); \
  } G_STMT_END

G_END_DECLS
