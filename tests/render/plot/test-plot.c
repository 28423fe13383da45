/* SPDX-License-Identifier: MIT */
/* test-plot.c: viewport, ticks, export, line charts, error data, curve logs. */
#include "epd-plot-curves.h"
#include "epd-test-pixel.h"
#include "epd-plot-error.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

static void
test_viewport_round_trip (void)
{
  EpdPlotViewport vp;
  double px, py, x, y;

  epd_plot_viewport_init (&vp, 1e-3, 1e1, -2, 6);
  vp.log_x = TRUE;
  epd_plot_viewport_set_area (&vp, 50, 20, 400, 200);
  /* One decade of four is a quarter of the width; y grows upwards. */
  epd_plot_viewport_to_pixel (&vp, 1e-2, 6, &px, &py);
  g_assert_cmpfloat_with_epsilon (px, 150, 1e-9);
  g_assert_cmpfloat_with_epsilon (py, 20, 1e-9);
  epd_plot_viewport_from_pixel (&vp, 250, 170, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, 0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (y, 0, 1e-12);
}

/* A data unit spans as many pixels on x as on y, and the data stay in view. */
static void
test_viewport_equal_aspect (void)
{
  EpdPlotViewport vp;
  double ax, ay, bx, by;

  epd_plot_viewport_init (&vp, -1, 1, -4, 4);
  epd_plot_viewport_set_area (&vp, 10, 10, 300, 100);
  epd_plot_viewport_equal_aspect (&vp);
  epd_plot_viewport_to_pixel (&vp, 0, 0, &ax, &ay);
  epd_plot_viewport_to_pixel (&vp, 1, 1, &bx, &by);
  g_assert_cmpfloat_with_epsilon (bx - ax, ay - by, 1e-9);
  g_assert_cmpfloat_with_epsilon (vp.y0, -4, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.y1, 4, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.x0, -12, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.x1, 12, 1e-12);
}

static void
test_viewport_zoom_pan (void)
{
  EpdPlotViewport vp;
  double x, y, px, py;

  epd_plot_viewport_init (&vp, 0, 10, 0, 10);
  epd_plot_viewport_set_area (&vp, 0, 0, 100, 100);
  epd_plot_viewport_from_pixel (&vp, 30, 40, &x, &y);
  epd_plot_viewport_zoom (&vp, 30, 40, 2);
  /* The point under the pointer stays put, the range halves. */
  epd_plot_viewport_to_pixel (&vp, x, y, &px, &py);
  g_assert_cmpfloat_with_epsilon (px, 30, 1e-9);
  g_assert_cmpfloat_with_epsilon (py, 40, 1e-9);
  g_assert_cmpfloat_with_epsilon (vp.x1 - vp.x0, 5, 1e-12);
  /* Panning right by 10 pixels moves the data right by 10 pixels. */
  epd_plot_viewport_pan (&vp, 10, -5);
  epd_plot_viewport_to_pixel (&vp, x, y, &px, &py);
  g_assert_cmpfloat_with_epsilon (px, 40, 1e-9);
  g_assert_cmpfloat_with_epsilon (py, 35, 1e-9);
}

static void
test_ticks (void)
{
  double ticks[16];
  guint n = epd_plot_ticks (0, 1, FALSE, ticks, 8);

  g_assert_cmpuint (n, ==, 6);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (ticks[i], 0.2 * i, 1e-12);
  n = epd_plot_ticks (2e-4, 30, TRUE, ticks, 8);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpfloat_with_epsilon (ticks[0], 1e-3, 1e-15);
  g_assert_cmpfloat_with_epsilon (ticks[4], 10, 1e-12);
  /* Less than two decades: 1-2-5 multiples, and 1..9 when those are too few. */
  n = epd_plot_ticks (0.15, 6, TRUE, ticks, 8);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpfloat_with_epsilon (ticks[0], 0.2, 1e-15);
  g_assert_cmpfloat_with_epsilon (ticks[4], 5, 1e-12);
  /* Two decades that hold only two decade ticks get 1-2-5 ticks: the lowest
   * point (0.02) has a tick below it. */
  n = epd_plot_ticks (0.015, 1.5, TRUE, ticks, 8);
  g_assert_cmpuint (n, ==, 6);
  g_assert_cmpfloat_with_epsilon (ticks[0], 0.02, 1e-15);
  n = epd_plot_ticks (7, 40, TRUE, ticks, 8);
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmpfloat_with_epsilon (ticks[0], 7, 1e-12);
  g_assert_cmpfloat_with_epsilon (ticks[6], 40, 1e-12);
  g_assert_cmpuint (epd_plot_ticks (NAN, 1, FALSE, ticks, 8), ==, 0);
}

/* A loss of 1e-310 (subnormal) once padded a log axis down to 0, whose
 * log10 cast to int was undefined and made the tick loop run 2^31 times. */
static void
test_ticks_tiny (void)
{
  const double loss[] = { 1, 1e-310 };
  double ticks[16], lo, hi;
  guint n;

  epd_plot_range_fit (loss, G_N_ELEMENTS (loss), TRUE, 0.05, &lo, &hi);
  g_assert_cmpfloat (lo, >=, 1e-300);
  g_assert_cmpfloat (hi, >, 1);
  n = epd_plot_ticks (0, 1, TRUE, ticks, 8);
  g_assert_cmpuint (n, >=, 2);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpfloat (ticks[i], >=, 1e-300);
      g_assert_cmpfloat (ticks[i], <=, 1);
    }
  g_assert_cmpuint (epd_plot_ticks (0, 1e-320, TRUE, ticks, 8), ==, 0);
}

static void
draw_square (cairo_t  *cr,
             double    width,
             double    height,
             gpointer  user_data)
{
  cairo_set_source_rgb (cr, 0, 0, 1);
  cairo_rectangle (cr, 10, 10, 20, 20);
  cairo_fill (cr);
}

static void
test_export (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-plot-XXXXXX", NULL);
  const char *names[] = { "a.png", "a.svg", "a.pdf" };
  const char *magic[] = { "\x89PNG", "<?xml", "%PDF" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_autofree char *data = NULL;
      gsize length;

      g_assert_true (epd_plot_export (path, 64, 48, draw_square, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &data, &length, NULL));
      g_assert_cmpint (memcmp (data, magic[i], strlen (magic[i])), ==, 0);
      g_remove (path);
    }
  {
    g_autofree char *path = g_build_filename (dir, "a.bmp", NULL);
    g_assert_false (epd_plot_export (path, 64, 48, draw_square, NULL, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_rmdir (dir);
}

/* A PNG at scale 2 has twice the pixels a side and the same picture: the
 * square's centre is at the same relative place; absurd scales are refused. */
static void
test_export_scaled (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-plot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.png", NULL);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *one, *two;

  g_assert_true (epd_plot_export_scaled (path, 64, 48, 1, draw_square, NULL, &error));
  one = cairo_image_surface_create_from_png (path);
  g_assert_true (epd_plot_export_scaled (path, 64, 48, 2, draw_square, NULL, &error));
  g_assert_no_error (error);
  two = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_image_surface_get_width (two), ==, 128);
  g_assert_cmpint (cairo_image_surface_get_height (two), ==, 96);
  for (double x = 4; x < 64; x += 12)
    for (double y = 4; y < 48; y += 11)
      g_assert_cmphex (epd_test_pixel_hex (one, x, y), ==, epd_test_pixel_hex (two, 2 * x + 1, 2 * y + 1));
  cairo_surface_destroy (one);
  cairo_surface_destroy (two);
  g_assert_false (epd_plot_export_scaled (path, 64, 48, 1000, draw_square, NULL, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_remove (path);
  g_rmdir (dir);
}

static void
test_line_pixels (void)
{
  const double x[] = { 0, 1, 2, 3, 4 };
  const double y[] = { 1, 10, 100, NAN, 1000 };
  EpdPlotSeries series = { "s", x, y, 5, 0, FALSE, FALSE };
  EpdLinePlot plot = { NULL, "x", "y", FALSE, TRUE, &series, 1 };
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 500, 400);
  cairo_t *cr = cairo_create (surface);
  EpdPlotViewport vp;
  double px, py;

  epd_plot_clear (cr, 500, 400);
  epd_line_plot_draw (cr, 500, 400, &plot);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* The same view as the renderer computes. */
  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (&vp, 500, 400);
  epd_line_plot_fit_view (&plot, &vp);
  g_assert_true (vp.log_y);
  /* On a log axis 1 -> 10 -> 100 is a straight line: its midpoint is 10^0.5 at x = 0.5. */
  epd_plot_viewport_to_pixel (&vp, 0.5, pow (10, 0.5), &px, &py);
  epd_assert_pixel (surface, px, py, c, c.b > c.r + 0.3);
  /* The NaN at x = 3 is a gap: nothing between x = 2 and x = 4. */
  epd_plot_viewport_to_pixel (&vp, 3, pow (10, 2.5), &px, &py);
  epd_assert_pixel (surface, px, py, c, !(c.b > c.r + 0.3));
  cairo_surface_destroy (surface);
}

static EpdTrace *
trace_of (double offset)
{
  EpdTrace *trace = epd_trace_new ();

  trace->batch = 2;
  trace->dim = 2;
  for (guint s = 0; s < 2; s++)
    {
      EpdTraceStep step = { 0 };
      step.t_cur = 2 - s;
      step.t_next = 1 - s * 0.5;
      step.x = g_new0 (double, 4);
      step.x[0] = s * offset;
      g_array_append_val (trace->steps, step);
    }
  trace->x_final = g_new0 (double, 4);
  trace->x_final[0] = 3 * offset;
  trace->x_final[3] = 4 * offset;
  return trace;
}

static void
test_error_report (void)
{
  g_autoptr(EpdTrace) trace = trace_of (1);
  g_autoptr(EpdTrace) teacher = trace_of (0);
  g_autoptr(EpdTrace) other = epd_trace_new ();
  g_autoptr(EpdErrorReport) report = epd_error_report_new ();
  g_autoptr(GError) error = NULL;
  g_autofree double *per_step = epd_trace_error_per_step (trace, teacher, &error);
  g_autofree char *csv = NULL;

  g_assert_no_error (error);
  /* Row 0 differs by 0, then 1, then (3, 0) and (0, 4) at the end: mean over 2 rows. */
  g_assert_cmpfloat (per_step[0], ==, 0);
  g_assert_cmpfloat (per_step[1], ==, 0.5);
  g_assert_cmpfloat (per_step[2], ==, 3.5);
  g_assert_null (epd_trace_error_per_step (trace, other, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_SHAPE);
  epd_error_report_add_curve (report, "epd", g_steal_pointer (&per_step), 3);
  epd_error_report_add_point (report, "euler", 2, 0.25);
  epd_error_report_add_point (report, "euler", 4, 0.125);
  csv = epd_error_report_to_csv (report);
  g_assert_cmpstr (csv, ==,
                   "kind,series,x,error\n"
                   "per_step,epd,0,0\n"
                   "per_step,epd,1,0.5\n"
                   "per_step,epd,2,3.5\n"
                   "nfe,euler,2,0.25\n"
                   "nfe,euler,4,0.125\n");
}

static const char log_text[] =
  "{\"loss\": -0.5, \"kl\": 0.001, \"mixed_reward_mean\": 0.25, \"clip_mean\": NaN, \"step\": 1}\n"
  "\n"
  "{\"loss\": 0.5, \"kl\": 0.002, \"mixed_reward_mean\": 0.5, \"clip_mean\": NaN, \"note\": \"NaN ok\", \"step\": 2}\n"
  "{\"loss\": 1.5, \"kl\": -Infinity, \"step\": 3, \"grad_norm\": 7}\n";

static void
test_curve_log (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdCurveLog) log = epd_curve_log_parse_jsonl (log_text, strlen (log_text), "log", &error);
  const double *loss, *clip, *reward, *grad;

  g_assert_no_error (error);
  g_assert_cmpuint (epd_curve_log_n_rows (log), ==, 3);
  loss = epd_curve_log_column (log, "loss");
  clip = epd_curve_log_column (log, "clip_mean");
  reward = epd_curve_log_column (log, "mixed_reward_mean");
  grad = epd_curve_log_column (log, "grad_norm");
  g_assert_cmpfloat (loss[2], ==, 1.5);
  g_assert_true (isnan (clip[0]) && isnan (clip[1]) && isnan (clip[2]));
  /* A field missing from a row is NaN there, before and after it appears. */
  g_assert_true (isnan (reward[2]));
  g_assert_true (isnan (grad[0]));
  g_assert_cmpfloat (grad[2], ==, 7);
  g_assert_null (epd_curve_log_column (log, "note"));
  g_assert_null (epd_curve_log_column (log, "absent"));
}

static void
test_curve_log_errors (void)
{
  const char *bad = "{\"loss\": 1}\n{\"loss\": oops}\n";
  g_autoptr(GError) error = NULL;

  g_assert_null (epd_curve_log_parse_jsonl (bad, strlen (bad), "bad.jsonl", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "line 2"));
  g_clear_error (&error);
  g_assert_null (epd_curve_log_parse_jsonl ("[1, 2]\n", 7, "array", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (epd_curve_log_parse_jsonl ("\n\n", 2, "empty", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
}

/* A line nested 100000 deep (json-glib recurses per level) and a file
 * without end are refused with an error, not a crash or an endless read. */
static void
test_curve_log_hostile (void)
{
  gsize depth = 100000;
  g_autofree char *deep = g_malloc (2 * depth + 2);
  g_autoptr(GError) error = NULL;

  memset (deep, '[', depth);
  memset (deep + depth, ']', depth);
  memcpy (deep + 2 * depth, "\n", 2);
  g_assert_null (epd_curve_log_parse_jsonl (deep, 2 * depth + 1, "deep.jsonl", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "deep.jsonl, line 1"));
  g_assert_nonnull (strstr (error->message, "nested deeper"));
  g_clear_error (&error);
  g_assert_null (epd_curve_log_load_jsonl ("/dev/zero", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
}

static void
test_curve_panels (void)
{
  g_autoptr(EpdCurveLog) log = epd_curve_log_parse_jsonl (log_text, strlen (log_text), "log", NULL);
  const char *names[] = { "loss", "absent", "mixed_reward_mean", NULL };
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 400, 400);
  cairo_t *cr = cairo_create (surface);
  EpdPlotSeries series = { NULL, (double[]) { 1, 2, 3 }, epd_curve_log_column (log, "loss"), 3, 0, TRUE, FALSE };
  EpdLinePlot plot = { "loss", "step", NULL, FALSE, FALSE, &series, 1 };
  EpdPlotViewport vp;
  double px, py;

  epd_plot_clear (cr, 400, 400);
  epd_curve_plot_draw (cr, 400, 400, log, names, 1);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* Two panels (the absent column is skipped): loss is the top half. */
  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (&vp, 400, 200);
  epd_line_plot_fit_view (&plot, &vp);
  epd_plot_viewport_to_pixel (&vp, 3, 1.5, &px, &py);
  epd_assert_pixel (surface, px, py, c, c.b > c.r + 0.3);
  g_assert_cmpfloat (py, <, 200);
  cairo_surface_destroy (surface);
}

/* One format per axis: fixed decimals for the step, or scientific with the
 * digits that tell the ticks apart; never one label twice. */
static void
test_tick_labels (void)
{
  static const double small[] = { -0.02, -0.01, 0, 0.01, 0.02 };
  static const double large[] = { 15000, 20000, 25000, 30000 };
  static const double tiny[] = { -0.004, -0.002, 0, 0.002, 0.004 };
  static const double decades[] = { 1e-3, 1e-2, 1e-1, 1 };
  static const char *want_small[] = { "-0.02", "-0.01", "0.00", "0.01", "0.02" };
  static const char *want_large[] = { "1.5e4", "2.0e4", "2.5e4", "3.0e4" };
  static const char *want_tiny[] = { "-4e-3", "-2e-3", "0", "2e-3", "4e-3" };
  static const char *want_decades[] = { "1e-3", "1e-2", "1e-1", "1e0" };
  char labels[8][EPD_PLOT_TICK_LABEL];

  epd_plot_format_ticks (small, G_N_ELEMENTS (small), FALSE, labels);
  for (guint i = 0; i < G_N_ELEMENTS (small); i++)
    g_assert_cmpstr (labels[i], ==, want_small[i]);
  epd_plot_format_ticks (large, G_N_ELEMENTS (large), FALSE, labels);
  for (guint i = 0; i < G_N_ELEMENTS (large); i++)
    g_assert_cmpstr (labels[i], ==, want_large[i]);
  epd_plot_format_ticks (tiny, G_N_ELEMENTS (tiny), FALSE, labels);
  for (guint i = 0; i < G_N_ELEMENTS (tiny); i++)
    g_assert_cmpstr (labels[i], ==, want_tiny[i]);
  epd_plot_format_ticks (decades, G_N_ELEMENTS (decades), TRUE, labels);
  for (guint i = 0; i < G_N_ELEMENTS (decades); i++)
    g_assert_cmpstr (labels[i], ==, want_decades[i]);
}

/* Count axes: whole numbers at least 1 apart, whatever the span. */
static void
test_ticks_integer (void)
{
  double ticks[16];
  guint n = epd_plot_ticks_integer (0.6, 3.4, ticks, 8);

  g_assert_cmpuint (n, ==, 3);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat (ticks[i], ==, i + 1);
  n = epd_plot_ticks_integer (0, 20000, ticks, 8);
  g_assert_cmpuint (n, ==, 5);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat (ticks[i], ==, 5000.0 * i);
  n = epd_plot_ticks_integer (-0.15, 5.15, ticks, 8);
  g_assert_cmpuint (n, ==, 6);
  g_assert_false (signbit (ticks[0]));
  n = epd_plot_ticks_integer (1, 1.5, ticks, 8);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpfloat (ticks[0], ==, 1);
}

static void
draw_clear (cairo_t  *cr,
            double    width,
            double    height,
            gpointer  user_data)
{
  epd_plot_clear (cr, width, height);
}

/* The dark style draws a dark background and light text; a new cairo_t (an
 * export) is light; the text scale scales Pango's text. */
static void
test_style (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 120, 40);
  cairo_t *cr = cairo_create (surface);
  double width, wide;

  g_assert_false (epd_plot_is_dark (cr));
  epd_plot_clear (cr, 120, 40);
  cairo_surface_flush (surface);
  epd_assert_pixel (surface, 5, 5, c, c.r == 1 && c.g == 1 && c.b == 1);
  width = epd_plot_text_width (cr, "σ₁ step", 10, FALSE);
  epd_plot_set_style (cr, TRUE, 2);
  g_assert_true (epd_plot_is_dark (cr));
  epd_plot_clear (cr, 120, 40);
  epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
  epd_plot_show_text (cr, "σ", 60, 20, 0.5, 0.5, 16, TRUE);
  cairo_surface_flush (surface);
  epd_assert_pixel (surface, 5, 5, c, c.r < 0.3 && c.g < 0.3 && c.b < 0.3);
  wide = epd_plot_text_width (cr, "σ₁ step", 10, FALSE);
  g_test_message ("text width %.1f px at scale 1, %.1f at scale 2", width, wide);
  g_assert_cmpfloat (width, >, 10);
  g_assert_cmpfloat (fabs (wide / width - 2), <, 0.2);
  /* The glyph is drawn in the light ink somewhere around the centre. */
  {
    gboolean lit = FALSE;
    for (int y = 10; y < 30 && !lit; y++)
      for (int x = 50; x < 70 && !lit; x++)
        lit = epd_test_pixel (surface, x, y).r > 0.7;
    g_assert_true (lit);
  }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  /* An export has its own cairo_t: light. */
  {
    g_autofree char *dir = g_dir_make_tmp ("epd-plot-XXXXXX", NULL);
    g_autofree char *path = g_build_filename (dir, "clear.png", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (epd_plot_export (path, 32, 32, draw_clear, NULL, &error));
    g_assert_no_error (error);
    surface = cairo_image_surface_create_from_png (path);
    epd_assert_pixel (surface, 16, 16, c, c.r == 1 && c.g == 1 && c.b == 1);
    cairo_surface_destroy (surface);
    g_remove (path);
    g_rmdir (dir);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot/viewport/round-trip", test_viewport_round_trip);
  g_test_add_func ("/plot/viewport/zoom-pan", test_viewport_zoom_pan);
  g_test_add_func ("/plot/viewport/equal-aspect", test_viewport_equal_aspect);
  g_test_add_func ("/plot/ticks", test_ticks);
  g_test_add_func ("/plot/ticks/tiny", test_ticks_tiny);
  g_test_add_func ("/plot/ticks/labels", test_tick_labels);
  g_test_add_func ("/plot/ticks/integer", test_ticks_integer);
  g_test_add_func ("/plot/style", test_style);
  g_test_add_func ("/plot/export", test_export);
  g_test_add_func ("/plot/export/scaled", test_export_scaled);
  g_test_add_func ("/plot/lines/pixels", test_line_pixels);
  g_test_add_func ("/plot/error/report", test_error_report);
  g_test_add_func ("/plot/curves/parse", test_curve_log);
  g_test_add_func ("/plot/curves/errors", test_curve_log_errors);
  g_test_add_func ("/plot/curves/hostile", test_curve_log_hostile);
  g_test_add_func ("/plot/curves/panels", test_curve_panels);
  return g_test_run ();
}
