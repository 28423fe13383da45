/* SPDX-License-Identifier: MIT */
/* test-plot-trajectory.c: paths, parallel-point arrows, picking, PCA, heat map. */
#include "epd-plot-trajectory.h"
#include "epd-test-pixel.h"

#include <math.h>
#include <string.h>

#define SIZE 600

static double *
doubles (gsize         n,
         const double *values)
{
  return g_memdup2 (values, n * sizeof (double));
}

/* Two paths in 2-D, one step from t = 2 to t = 1 (h = -1), K = 2. */
static EpdTrace *
make_trace (void)
{
  EpdTrace *trace = epd_trace_new ();
  EpdTraceStep step = { 0 };

  trace->batch = 2;
  trace->dim = 2;
  step.t_cur = 2;
  step.t_next = 1;
  step.x = doubles (4, (double[]) { 0, 0, 3, 3 });
  step.euler_dir = doubles (4, (double[]) { -1, 0, 0, 0 });
  step.n_points = 2;
  step.point_t = doubles (2, (double[]) { 1.6, 1.2 });
  step.point_weight = doubles (2, (double[]) { 0.5, 0.5 });
  /* [k][path][dim] */
  step.point_x = doubles (8, (double[]) { 0, 0.5, 3, 3,   0, -0.5, 3, 3 });
  step.point_dir = doubles (8, (double[]) { -2, 0, 0, 0,   0, 2, 0, 0 });
  g_array_append_val (trace->steps, step);
  trace->x_final = doubles (4, (double[]) { 1, 0, 3, 3 });
  return trace;
}

/* [-2, 4]^2 over the whole surface: 100 pixels per unit. */
static void
make_viewport (EpdPlotViewport *vp)
{
  epd_plot_viewport_init (vp, -2, 4, -2, 4);
  epd_plot_viewport_set_area (vp, 0, 0, SIZE, SIZE);
}

static cairo_surface_t *
draw_selected (const EpdTrace *trace)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, SIZE, SIZE);
  cairo_t *cr = cairo_create (surface);
  EpdTrajectoryPlot plot;
  EpdPlotViewport vp;

  make_viewport (&vp);
  epd_plot_clear (cr, SIZE, SIZE);
  epd_trajectory_plot_init (&plot, trace);
  plot.selected = 0;
  plot.step = 0;
  plot.shown_steps = 0;
  epd_trajectory_plot_draw (cr, &vp, &plot);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static void
test_arrows (void)
{
  g_autoptr(EpdTrace) trace = make_trace ();
  cairo_surface_t *surface = draw_selected (trace);

  /* Point 0 at (0, 0.5) contributes h w d = (1, 0): its arrow ends at (1, 0.5),
   * pixel (300, 350); just behind the tip is the (vermillion) head. */
  epd_assert_pixel (surface, 295, 350, c, c.r > c.b + 0.3);
  epd_assert_pixel (surface, 250, 350, c, c.r > c.b + 0.3);
  /* Nothing past the tip, nor off the shaft. */
  epd_assert_pixel (surface, 312, 350, c, c.r + c.g + c.b > 2.9);
  epd_assert_pixel (surface, 250, 372, c, c.r + c.g + c.b > 2.9);
  /* Point 1 at (0, -0.5) contributes (0, -1): its (green) head ends at (0, -1.5), pixel (200, 550). */
  epd_assert_pixel (surface, 200, 545, c, c.g > c.r + 0.3);
  /* The Euler step h d = (1, 0) from x_n = (0, 0): dark dashes along y = 0 towards (1, 0). */
  epd_assert_pixel (surface, 295, 400, c, c.r + c.g + c.b < 1.0);
  /* x_n itself: a black dot at (200, 400). */
  epd_assert_pixel (surface, 200, 400, c, c.r + c.g + c.b < 0.3);
  /* x_{n+1} = (1, 0): a black ring of radius 5 around (300, 400), hollow. */
  epd_assert_pixel (surface, 300, 405, c, c.r + c.g + c.b < 0.6);
  epd_assert_pixel (surface, 300, 402, c, c.r + c.g + c.b > 2.9);
  cairo_surface_destroy (surface);
}

static void
test_pick (void)
{
  g_autoptr(EpdTrace) trace = make_trace ();
  EpdTrajectoryPlot plot;
  EpdPlotViewport vp;
  double x, y;

  make_viewport (&vp);
  epd_trajectory_plot_init (&plot, trace);
  /* Path 1 sits at (3, 3): pixel (500, 100). */
  g_assert_cmpint (epd_trajectory_plot_pick (&plot, &vp, 0, 503, 98, 8), ==, 1);
  g_assert_cmpint (epd_trajectory_plot_pick (&plot, &vp, 1, 300, 402, 8), ==, 0);
  g_assert_cmpint (epd_trajectory_plot_pick (&plot, &vp, 0, 400, 300, 8), ==, -1);
  epd_trajectory_plot_point (&plot, 0, 1, &x, &y);
  g_assert_cmpfloat (x, ==, 1);
  g_assert_cmpfloat (y, ==, 0);
}

static void
test_normalised_points (void)
{
  g_autoptr(EpdTrace) trace = make_trace ();
  EpdTrajectoryPlot plot;
  double x, y;

  epd_trajectory_plot_init (&plot, trace);
  plot.normalise = TRUE;
  /* Path 1 at t = 2 is (3, 3): drawn at (3, 3) / sqrt(5); the final state at t = 1 / sqrt(2). */
  epd_trajectory_plot_point (&plot, 1, 0, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, 3 / sqrt (5), 1e-15);
  g_assert_cmpfloat_with_epsilon (y, 3 / sqrt (5), 1e-15);
  epd_trajectory_plot_point (&plot, 1, 1, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, 3 / sqrt (2), 1e-15);
  /* Flow-matching time is already bounded: no scaling. */
  trace->flow_time = TRUE;
  epd_trajectory_plot_point (&plot, 1, 0, &x, &y);
  g_assert_cmpfloat (x, ==, 3);
}

static void
test_fit_view_equal_scales (void)
{
  g_autoptr(EpdTrace) trace = make_trace ();
  EpdTrajectoryPlot plot;
  EpdPlotViewport vp;

  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area (&vp, 0, 0, 800, 400);
  epd_trajectory_plot_init (&plot, trace);
  epd_trajectory_plot_fit_view (&plot, &vp);
  /* Same data units per pixel on both axes, and the final samples inside. */
  g_assert_cmpfloat_with_epsilon ((vp.x1 - vp.x0) / 800, (vp.y1 - vp.y0) / 400, 1e-12);
  g_assert_cmpfloat (vp.x0, <, 1);
  g_assert_cmpfloat (vp.x1, >, 3);
  g_assert_cmpfloat (vp.y0, <, 0);
  g_assert_cmpfloat (vp.y1, >, 3);
}

/* The teacher frames the view while the solver stays near it; a solver whose
 * samples mostly end elsewhere (Heun at NFE 5) gets a view that holds them;
 * Fit holds every sample; samples left outside are counted. */
static void
test_fit_samples (void)
{
  g_autoptr(EpdTrace) teacher = make_trace ();
  g_autoptr(EpdTrace) student = make_trace ();
  EpdTrajectoryPlot plot;
  EpdPlotViewport vp;

  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area (&vp, 0, 0, 400, 400);
  epd_trajectory_plot_init (&plot, student);
  plot.teacher = teacher;
  /* One of two far off: the teacher's frame stays, and says one is outside. */
  student->x_final[0] = 50;
  epd_trajectory_plot_fit_view (&plot, &vp);
  g_assert_cmpfloat (vp.x1, <, 10);
  g_assert_cmpuint (epd_trajectory_plot_count_outside (&plot, &vp), ==, 1);
  /* Both far off: the view holds them. */
  student->x_final[2] = -40;
  epd_trajectory_plot_fit_view (&plot, &vp);
  g_assert_cmpuint (epd_trajectory_plot_count_outside (&plot, &vp), ==, 0);
  /* Fit: the solver's samples and the teacher's. */
  student->x_final[2] = 3;
  epd_trajectory_plot_fit_samples (&plot, &vp);
  g_assert_cmpuint (epd_trajectory_plot_count_outside (&plot, &vp), ==, 0);
  g_assert_cmpfloat (vp.x0, <, 1);
  g_assert_cmpfloat (vp.x1, >, 50);
}

/* A wide strip fits each axis to the data: no empty sides. */
static void
test_fit_free_aspect (void)
{
  g_autoptr(EpdTrace) trace = make_trace ();
  EpdTrajectoryPlot plot;
  EpdPlotViewport vp;

  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area (&vp, 0, 0, 1200, 150);
  epd_trajectory_plot_init (&plot, trace);
  plot.free_aspect = TRUE;
  epd_trajectory_plot_fit_view (&plot, &vp);
  /* x in [1, 3] and y in [0, 3], each with 12 % margins. */
  g_assert_cmpfloat_with_epsilon (vp.x0, 1 - 0.24, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.x1, 3 + 0.24, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.y0, -0.36, 1e-12);
  g_assert_cmpfloat_with_epsilon (vp.y1, 3.36, 1e-12);
}

static void
test_pca (void)
{
  double rows[40 * 3];
  g_autoptr(EpdPca) pca = NULL;
  g_autoptr(GError) error = NULL;
  double u, v, norm = sqrt (5);

  /* Along (1, 2, 0) with spread 1..40, and +-0.1 along z in a +--+ pattern
   * that is uncorrelated with the position along the line. */
  for (guint i = 0; i < 40; i++)
    {
      rows[i * 3] = i + 1.0;
      rows[i * 3 + 1] = 2.0 * (i + 1.0);
      rows[i * 3 + 2] = (i % 4 == 0 || i % 4 == 3) ? 0.1 : -0.1;
    }
  pca = epd_pca_fit (rows, 40, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs ((pca->axis[0][0] + 2 * pca->axis[0][1]) / norm), >, 0.999999);
  g_assert_cmpfloat (fabs (pca->axis[1][2]), >, 0.999999);
  /* Variance along the line: 5 * var(1..40) = 5 * (40^2 - 1) / 12. */
  g_assert_cmpfloat_with_epsilon (pca->variance[0], 5 * (1600.0 - 1) / 12, 1e-6);
  g_assert_cmpfloat_with_epsilon (pca->variance[1], 0.01, 1e-9);
  /* The mean projects to the origin. */
  epd_pca_project (pca, pca->mean, &u, &v);
  g_assert_cmpfloat_with_epsilon (u, 0, 1e-12);
  g_assert_cmpfloat_with_epsilon (v, 0, 1e-12);
  g_assert_null (epd_pca_fit (rows, 1, 3, NULL));
}

static double
bump (const double xy[2],
      gpointer     user_data)
{
  return -(xy[0] * xy[0] + xy[1] * xy[1]);
}

static void
test_density_surface (void)
{
  const double bounds[4] = { -3, 3, -3, 3 };
  cairo_surface_t *surface = epd_plot_density_surface (bump, NULL, bounds, 61, 61);
  EpdTestRgb corner = epd_test_pixel (surface, 1, 1);

  g_assert_cmpint (cairo_image_surface_get_width (surface), ==, 61);
  /* Near-white where the density vanishes, saturated yellow at the mode. */
  epd_assert_pixel (surface, 1, 1, c, c.r + c.g + c.b > 2.6);
  epd_assert_pixel (surface, 30, 30, c, c.b < corner.b - 0.5 && c.r > 0.9);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-trajectory/arrows", test_arrows);
  g_test_add_func ("/plot-trajectory/pick", test_pick);
  g_test_add_func ("/plot-trajectory/fit-view", test_fit_view_equal_scales);
  g_test_add_func ("/plot-trajectory/normalised", test_normalised_points);
  g_test_add_func ("/plot-trajectory/fit-samples", test_fit_samples);
  g_test_add_func ("/plot-trajectory/fit-free-aspect", test_fit_free_aspect);
  g_test_add_func ("/plot-trajectory/pca", test_pca);
  g_test_add_func ("/plot-trajectory/density-surface", test_density_surface);
  return g_test_run ();
}
