/* SPDX-License-Identifier: MIT
 *
 * epd-test-pixel.c: reading and checking pixels of Cairo image surfaces. */
#include "epd-test-pixel.h"

guint32
epd_test_pixel_hex (cairo_surface_t *surface,
                    double           x,
                    double           y)
{
  const guint8 *data;
  int stride = cairo_image_surface_get_stride (surface);

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  g_assert_true (x >= 0 && x < cairo_image_surface_get_width (surface));
  g_assert_true (y >= 0 && y < cairo_image_surface_get_height (surface));
  /* Both formats keep a native-endian 32-bit word per pixel. */
  return *(const guint32 *) (const void *) (data + (gsize) y * stride + 4 * (gsize) x) & 0xffffff;
}

EpdTestRgb
epd_test_pixel (cairo_surface_t *surface,
                double           x,
                double           y)
{
  guint32 p = epd_test_pixel_hex (surface, x, y);

  return (EpdTestRgb) { ((p >> 16) & 0xff) / 255.0, ((p >> 8) & 0xff) / 255.0, (p & 0xff) / 255.0 };
}

void
epd_test_pixel_failed (const char *file,
                       int         line,
                       const char *func,
                       double      x,
                       double      y,
                       guint32     found,
                       const char *expected)
{
  g_autofree char *message = g_strdup_printf ("pixel (%d, %d) is #%06x (r %.3f g %.3f b %.3f), "
                                              "which fails %s", (int) x, (int) y, found,
                                              ((found >> 16) & 0xff) / 255.0, ((found >> 8) & 0xff) / 255.0,
                                              (found & 0xff) / 255.0, expected);

  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}
