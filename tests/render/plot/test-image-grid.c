/* SPDX-License-Identifier: MIT */
/* test-image-grid.c: the pixels of rendered image grids and their PNG files. */
#include "epd-image-grid.h"
#include "epd-test-pixel.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Five grey 2 x 2 images at scale 3: 3 columns (about square), 2 rows. */
static void
test_grey_layout (void)
{
  g_autoptr(GError) error = NULL;
  double images[5 * 4];
  cairo_surface_t *surface;

  for (guint i = 0; i < 5; i++)
    {
      images[i * 4 + 0] = -1.0;   /* black */
      images[i * 4 + 1] = 1.0;    /* white */
      images[i * 4 + 2] = 0.0;    /* mid grey, 127.5 rounds to 128 */
      images[i * 4 + 3] = i * 0.25 - 0.5 + (i == 4 ? 5.0 : 0.0); /* the last one clamps */
    }
  surface = epd_image_grid_render (images, 5, 2, 1, 0, 3, &error);
  g_assert_no_error (error);
  /* 3 cells of 2 * 3 + 2 pixels, plus the outer gutter */
  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, 3 * 8 + 2);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, 2 * 8 + 2);
  g_assert_cmphex (epd_test_pixel_hex (surface, 0, 0), ==, 0xffffff);    /* gutter */
  g_assert_cmphex (epd_test_pixel_hex (surface, 2, 2), ==, 0x000000);    /* image 0, value (0, 0) */
  g_assert_cmphex (epd_test_pixel_hex (surface, 4, 4), ==, 0x000000);    /* still inside its 3 x 3 block */
  g_assert_cmphex (epd_test_pixel_hex (surface, 5, 2), ==, 0xffffff);    /* value (0, 1) */
  g_assert_cmphex (epd_test_pixel_hex (surface, 2, 5), ==, 0x808080);    /* value (1, 0) */
  g_assert_cmphex (epd_test_pixel_hex (surface, 8, 2), ==, 0xffffff);    /* gutter between columns */
  /* image 1 at column 1: value (1, 1) = -0.25 -> 0.75 * 127.5 = 95.6 -> 96 */
  g_assert_cmphex (epd_test_pixel_hex (surface, 10 + 3, 2 + 3), ==, 0x606060);
  /* image 4 at row 1, column 1: value (1, 1) = 5.5 clamps to white */
  g_assert_cmphex (epd_test_pixel_hex (surface, 10 + 5, 10 + 5), ==, 0xffffff);
  g_assert_cmphex (epd_test_pixel_hex (surface, 10 + 0, 10 + 0), ==, 0x000000);
  /* the empty sixth cell is all gutter */
  g_assert_cmphex (epd_test_pixel_hex (surface, 18 + 2, 10 + 2), ==, 0xffffff);
  cairo_surface_destroy (surface);
}

static void
test_rgb (void)
{
  g_autoptr(GError) error = NULL;
  /* one 1 x 1 RGB image per colour, in one column */
  double images[2 * 3] = { 1.0, -1.0, -1.0, -1.0, 0.0, 1.0 };
  cairo_surface_t *surface = epd_image_grid_render (images, 2, 1, 3, 1, 4, &error);

  g_assert_no_error (error);
  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, 4 + 2 * 2);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, 2 * 6 + 2);
  g_assert_cmphex (epd_test_pixel_hex (surface, 3, 3), ==, 0xff0000);
  g_assert_cmphex (epd_test_pixel_hex (surface, 3, 2 + 6 + 1), ==, 0x0080ff);
  cairo_surface_destroy (surface);
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  double images[4] = { 0.0, NAN, 0.0, 0.0 };

  g_assert_null (epd_image_grid_render (images, 1, 2, 1, 0, 1, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "value 1 is nan"));
  g_clear_error (&error);
  g_assert_null (epd_image_grid_render (images, 1, 2, 2, 0, 1, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (epd_image_grid_render (images, 0, 2, 1, 0, 1, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  /* 40004 pixels wide is past Cairo's limit */
  images[1] = 0.0;
  g_assert_null (epd_image_grid_render (images, 1, 2, 1, 0, 20000, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "larger than Cairo's"));
}

/* The PNG reads back with the rendered pixels and nothing else is left in the folder. */
static void
test_save_png (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-test-grid-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "grid.png", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "grid.png", NULL);
  double images[3 * 16];
  cairo_surface_t *rendered, *loaded;
  g_autoptr(GDir) listing = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    images[i] = sin (i * 0.7);
  g_assert_true (epd_image_grid_save_png (images, 3, 4, 1, 0, 2, path, &error));
  g_assert_no_error (error);
  rendered = epd_image_grid_render (images, 3, 4, 1, 0, 2, &error);
  loaded = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (loaded), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (loaded), ==, cairo_image_surface_get_width (rendered));
  g_assert_cmpint (cairo_image_surface_get_height (loaded), ==, cairo_image_surface_get_height (rendered));
  for (int y = 0; y < cairo_image_surface_get_height (loaded); y++)
    for (int x = 0; x < cairo_image_surface_get_width (loaded); x++)
      g_assert_cmphex (epd_test_pixel_hex (loaded, x, y), ==, epd_test_pixel_hex (rendered, x, y));
  cairo_surface_destroy (loaded);
  cairo_surface_destroy (rendered);
  listing = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (listing), ==, "grid.png");
  g_assert_null (g_dir_read_name (listing));
  g_assert_false (epd_image_grid_save_png (images, 3, 4, 1, 0, 2, bad, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, bad));
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-grid/grey-layout", test_grey_layout);
  g_test_add_func ("/image-grid/rgb", test_rgb);
  g_test_add_func ("/image-grid/errors", test_errors);
  g_test_add_func ("/image-grid/save-png", test_save_png);
  return g_test_run ();
}
