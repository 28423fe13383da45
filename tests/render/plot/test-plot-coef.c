/* SPDX-License-Identifier: MIT */
/* test-plot-coef.c: the coefficient plot's pixels and its editor geometry. */
#include "epd-plot-coef.h"
#include "epd-test-pixel.h"

#include <math.h>

#define WIDTH 640
#define HEIGHT 420

/* Palette 0 is a blue: much more blue than red. */
static gboolean
is_main (EpdTestRgb c)
{
  return c.b > c.r + 0.3;
}

/* Palette 1 (vermillion): much more red than blue. */
static gboolean
is_overlay (EpdTestRgb c)
{
  return c.r > c.b + 0.3;
}

static EpdTable *
make_table (void)
{
  EpdTable *table = epd_table_new ("epd", 2, 2);

  table->r[0] = 0.2;  table->r[1] = 0.7;
  table->r[2] = 0.4;  table->r[3] = 0.9;
  table->weight[0] = 0.25; table->weight[1] = 0.75;
  table->weight[2] = 0.5;  table->weight[3] = 0.5;
  return table;
}

static cairo_surface_t *
draw (const EpdTable *table,
      const EpdTable *overlay)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
  cairo_t *cr = cairo_create (surface);
  EpdCoefPlot plot;

  epd_plot_clear (cr, WIDTH, HEIGHT);
  epd_coef_plot_init (&plot, table);
  plot.overlay = overlay;
  epd_coef_plot_draw (cr, WIDTH, HEIGHT, &plot);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static void
test_bar_height (void)
{
  g_autoptr(EpdTable) table = make_table ();
  cairo_surface_t *surface = draw (table, NULL);
  EpdCoefLayout layout;
  double x, y, w, h, cx, bottom;
  int blue_rows = 0;

  epd_coef_layout_compute (&layout, 2, 2, WIDTH, HEIGHT);
  epd_coef_layout_bar (&layout, 0, 1, 0.75, &x, &y, &w, &h);
  g_assert_cmpfloat_with_epsilon (h, 0.75 * layout.w_height, 1e-9);
  cx = x + w / 2;
  bottom = layout.w_top + layout.w_height;
  /* Count the bar's rows in its middle column, from the lane's bottom up. */
  for (double py = bottom - 1; py > layout.w_top; py--)
    if (is_main (epd_test_pixel (surface, cx, py)))
      blue_rows++;
  g_assert_cmpfloat (fabs (blue_rows - h), <=, 2.0);
  epd_assert_pixel (surface, cx, y - 4, c, !is_main (c));
  /* The neighbouring bar (weight 0.25) is a third as tall. */
  epd_coef_layout_bar (&layout, 0, 0, 0.25, &x, &y, &w, &h);
  epd_assert_pixel (surface, x + w / 2, y + 3, c, is_main (c));
  epd_assert_pixel (surface, x + w / 2, y - 4, c, !is_main (c));
  cairo_surface_destroy (surface);
}

static void
test_position_markers (void)
{
  g_autoptr(EpdTable) table = make_table ();
  cairo_surface_t *surface = draw (table, NULL);
  EpdCoefLayout layout;
  double px, py, away_x, away_y;

  epd_coef_layout_compute (&layout, 2, 2, WIDTH, HEIGHT);
  epd_coef_layout_position (&layout, 1, 1, 0.9, &px, &py);
  epd_assert_pixel (surface, px, py, c, is_main (c));
  /* Where r = 0.5 would be there is no marker on this row. */
  epd_coef_layout_position (&layout, 1, 1, 0.5, &away_x, &away_y);
  epd_assert_pixel (surface, away_x, away_y, c, !is_main (c));
  cairo_surface_destroy (surface);
}

static void
test_overlay (void)
{
  g_autoptr(EpdTable) table = make_table ();
  g_autoptr(EpdTable) overlay = make_table ();
  cairo_surface_t *surface;
  EpdCoefLayout layout;
  double x, y, w, h;

  /* The overlay's step 1 puts 0.9 on point 0: its outline rises above table's 0.5 bar. */
  overlay->weight[2] = 0.9;
  overlay->weight[3] = 0.1;
  surface = draw (table, overlay);
  epd_coef_layout_compute (&layout, 2, 2, WIDTH, HEIGHT);
  epd_coef_layout_bar (&layout, 1, 0, 0.9, &x, &y, &w, &h);
  epd_assert_pixel (surface, x + w / 2, y, c, is_overlay (c));
  cairo_surface_destroy (surface);
}

static void
test_hit_and_inverse (void)
{
  g_autoptr(EpdTable) table = make_table ();
  EpdCoefLayout layout;
  double px, py, x, y, w, h;
  guint step = 99, k = 99;

  epd_coef_layout_compute (&layout, 2, 2, WIDTH, HEIGHT);
  epd_coef_layout_position (&layout, 0, 1, table->r[1], &px, &py);
  g_assert_cmpint (epd_coef_layout_hit (&layout, table, px + 2, py - 1, &step, &k), ==, EPD_COEF_PART_POSITION);
  g_assert_cmpuint (step, ==, 0);
  g_assert_cmpuint (k, ==, 1);
  g_assert_cmpfloat_with_epsilon (epd_coef_layout_r_at (&layout, 0, px), table->r[1], 1e-12);

  epd_coef_layout_bar (&layout, 1, 0, table->weight[2], &x, &y, &w, &h);
  g_assert_cmpint (epd_coef_layout_hit (&layout, table, x + w / 2, y + h / 2, &step, &k), ==, EPD_COEF_PART_WEIGHT);
  g_assert_cmpuint (step, ==, 1);
  g_assert_cmpuint (k, ==, 0);
  g_assert_cmpfloat_with_epsilon (epd_coef_layout_weight_at (&layout, y), table->weight[2], 1e-12);
  g_assert_cmpint (epd_coef_layout_hit (&layout, table, 2, 2, &step, &k), ==, EPD_COEF_PART_NONE);
}

/* A weight dragged to 0 keeps a visible cap on the baseline, and a press
 * there grabs it again. */
static void
test_zero_weight_grabbable (void)
{
  g_autoptr(EpdTable) table = make_table ();
  cairo_surface_t *surface;
  EpdCoefLayout layout;
  double x, y, w, h;
  guint step = 99, k = 99;

  table->weight[2] = 0;
  table->weight[3] = 1;
  surface = draw (table, NULL);
  epd_coef_layout_compute (&layout, 2, 2, WIDTH, HEIGHT);
  epd_coef_layout_bar (&layout, 1, 0, 0, &x, &y, &w, &h);
  g_assert_cmpfloat (h, ==, 0);
  epd_assert_pixel (surface, x + w / 2, y - 1, c, is_main (c));
  g_assert_cmpint (epd_coef_layout_hit (&layout, table, x + w / 2, y - 1, &step, &k), ==, EPD_COEF_PART_WEIGHT);
  g_assert_cmpuint (step, ==, 1);
  g_assert_cmpuint (k, ==, 0);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-coef/bar-height", test_bar_height);
  g_test_add_func ("/plot-coef/position-markers", test_position_markers);
  g_test_add_func ("/plot-coef/overlay", test_overlay);
  g_test_add_func ("/plot-coef/hit-and-inverse", test_hit_and_inverse);
  g_test_add_func ("/plot-coef/zero-weight-grabbable", test_zero_weight_grabbable);
  return g_test_run ();
}
