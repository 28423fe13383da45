/* SPDX-License-Identifier: MIT */
/* test-plot-samples.c: the samples scatter draws the density and the dots where they
 * belong (real pixels), and exports PNG, SVG and PDF. */
#include <glib/gstdio.h>
#include <math.h>

#include "epd-plot-samples.h"
#include "epd-test-pixel.h"

#define SIZE 320

static double
distance (EpdTestRgb a,
          EpdTestRgb b)
{
  return sqrt (pow (a.r - b.r, 2) + pow (a.g - b.g, 2) + pow (a.b - b.b, 2));
}

static double
luma (EpdTestRgb c)
{
  return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

static cairo_surface_t *
render (const EpdSamplesPlot *plot,
        EpdPlotViewport      *viewport)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, SIZE, SIZE);
  cairo_t *cr = cairo_create (surface);

  epd_plot_clear (cr, SIZE, SIZE);
  epd_plot_viewport_init (viewport, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (viewport, SIZE, SIZE);
  epd_samples_plot_fit_view (plot, viewport);
  epd_samples_plot_draw (cr, viewport, plot);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static void
test_pixels (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", NULL);
  const double *means = epd_gmm_get_means (gmm);
  const double samples[4] = { means[0], means[1], means[2], means[3] };
  EpdSamplesPlot with_dots, without_dots;
  EpdPlotViewport vp;
  cairo_surface_t *dots, *plain;
  double px, py, cx, cy;
  EpdTestRgb palette, on_dot, under_dot, at_mode, at_centre;

  epd_samples_plot_init (&with_dots, gmm, samples, 1, 2);
  epd_samples_plot_init (&without_dots, gmm, samples, 0, 2);
  dots = render (&with_dots, &vp);
  plain = render (&without_dots, &vp);

  /* The view covers every component. */
  for (guint k = 0; k < epd_gmm_get_n_components (gmm); k++)
    {
      epd_plot_viewport_to_pixel (&vp, means[2 * k], means[2 * k + 1], &px, &py);
      g_assert_cmpfloat (px, >, vp.left);
      g_assert_cmpfloat (px, <, vp.left + vp.width);
      g_assert_cmpfloat (py, >, vp.top);
      g_assert_cmpfloat (py, <, vp.top + vp.height);
    }

  /* The dot on component 0 has the palette colour; component 1 has no dot. */
  epd_plot_palette (0, &palette.r, &palette.g, &palette.b);
  epd_plot_viewport_to_pixel (&vp, means[0], means[1], &px, &py);
  on_dot = epd_test_pixel (dots, px, py);
  epd_assert_pixel (dots, px, py, c, distance (c, palette) < 0.2);
  epd_assert_pixel (plain, px, py, c, distance (c, palette) > distance (on_dot, palette) + 0.2);
  epd_plot_viewport_to_pixel (&vp, means[2], means[3], &px, &py);
  under_dot = epd_test_pixel (plain, px, py);
  at_mode = epd_test_pixel (dots, px, py);
  epd_assert_pixel (dots, px, py, c, distance (c, under_dot) < 0.02);

  /* The heat map is brighter on a mode than in the empty centre of the ring. */
  epd_plot_viewport_to_pixel (&vp, 0, 0, &cx, &cy);
  at_centre = epd_test_pixel (plain, cx, cy);
  g_test_message ("luma at a mode %.3f, at the centre %.3f", luma (at_mode), luma (at_centre));
  g_assert_cmpfloat (luma (at_mode), >, luma (at_centre) + 0.1);

  cairo_surface_destroy (dots);
  cairo_surface_destroy (plain);
}

static void
test_export (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("moons", NULL);
  g_autofree char *dir = g_dir_make_tmp ("epd-test-plot-samples-XXXXXX", NULL);
  const char *names[] = { "s.png", "s.svg", "s.pdf" };
  const char *magic[] = { "\x89PNG", "<?xml", "%PDF" };
  double samples[20];
  EpdSamplesPlot plot;
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  epd_gmm_sample (gmm, rand, 10, samples);
  epd_samples_plot_init (&plot, gmm, samples, 10, 2);
  plot.title = "moons: 10 exact samples";
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_autofree char *contents = NULL;
      g_autoptr(GError) error = NULL;
      gsize len = 0;

      g_assert_true (epd_samples_plot_export (&plot, path, 400, 300, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      g_assert_cmpuint (len, >, 1000);
      g_assert_true (g_str_has_prefix (contents, magic[i]));
      if (i == 0)
        {
          cairo_surface_t *png = cairo_image_surface_create_from_png (path);

          g_assert_cmpint (cairo_image_surface_get_width (png), ==, 400);
          g_assert_cmpint (cairo_image_surface_get_height (png), ==, 300);
          cairo_surface_destroy (png);
        }
      g_unlink (path);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-samples/pixels", test_pixels);
  g_test_add_func ("/plot-samples/export", test_export);
  return g_test_run ();
}
