/* SPDX-License-Identifier: MIT */
/* test-schedule.c: the five grids: end points, monotonicity, known values
 * (computed independently with numpy from the defining formulas). */
#include <math.h>

#include "epd-schedule.h"

static double *
grid_of (EpdScheduleKind kind,
         guint           steps)
{
  EpdSchedule s;
  g_autoptr(GError) error = NULL;
  double *t;

  epd_schedule_init (&s, kind);
  t = epd_schedule_grid (&s, steps, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

static void
assert_close (double a,
              double b,
              double rel)
{
  g_assert_cmpfloat_with_epsilon (a, b, rel * fabs (b));
}

static void
test_monotone_all_kinds (void)
{
  for (int kind = EPD_SCHEDULE_POLYNOMIAL; kind <= EPD_SCHEDULE_FLOWMATCH; kind++)
    for (guint steps = 1; steps <= 40; steps += 3)
      {
        EpdSchedule s;
        g_autofree double *t = grid_of (kind, steps);

        epd_schedule_init (&s, kind);
        g_assert_cmpfloat (t[0], ==, epd_schedule_time_from_sigma (&s, s.sigma_max));
        g_assert_cmpfloat (t[steps], ==, epd_schedule_time_from_sigma (&s, s.sigma_min));
        for (guint i = 1; i <= steps; i++)
          g_assert_cmpfloat (t[i], <, t[i - 1]);
      }
}

static void
test_polynomial_known (void)
{
  g_autofree double *t = grid_of (EPD_SCHEDULE_POLYNOMIAL, 17);

  g_assert_cmpfloat (t[0], ==, 80.0);
  assert_close (t[1], 57.58598472124816, 1e-13);
  assert_close (t[2], 40.78557379650796, 1e-13);
  assert_close (t[16], 0.00752801996278408, 1e-12);
  g_assert_cmpfloat (t[17], ==, 0.002);
}

static void
test_logsnr_known (void)
{
  g_autofree double *t = grid_of (EPD_SCHEDULE_LOGSNR, 2);

  assert_close (t[1], sqrt (80.0 * 0.002), 1e-14);
}

static void
test_time_uniform_known (void)
{
  EpdSchedule s;
  g_autofree double *t = grid_of (EPD_SCHEDULE_TIME_UNIFORM, 4);

  /* The standard VP: beta_d 19.9, beta_min 0.1, eps_s 1e-3. */
  epd_schedule_init (&s, EPD_SCHEDULE_TIME_UNIFORM);
  assert_close (s.sigma_max, 152.1669702839464, 1e-13);
  assert_close (s.sigma_min, 0.010485992786702987, 1e-12);
  /* The midpoint of VP time (1 + eps)/2. */
  {
    double tm = 0.5 * (1.0 + 1e-3);
    assert_close (t[2], sqrt (expm1 (0.5 * 19.9 * tm * tm + 0.1 * tm)), 1e-10);
  }
}

static void
test_discrete_known (void)
{
  static const double sd15_10[] = {
    14.614641229333635, 8.307172468205952, 5.092408219277041, 3.325070074316672,
    2.2797314298785674, 1.6155815066635408, 1.162865810557074, 0.8318849437146347,
    0.5711900659756448, 0.34370601386697575, 0.02916715815172037,
  };
  g_autofree double *t = grid_of (EPD_SCHEDULE_DISCRETE, 10);

  for (guint i = 0; i < G_N_ELEMENTS (sd15_10); i++)
    assert_close (t[i], sd15_10[i], 1e-11);
}

static void
test_flowmatch_known (void)
{
  static const double sd3_10[] = {
    1.0, 0.9644002565747273, 0.923342541436464, 0.8754674644727002, 0.8189233278955955,
    0.7511210762331838, 0.6683266932270917, 0.56494960806271, 0.432225063938619,
    0.25558867362146054, 0.00892857142857143,
  };
  static const double flux_8[] = {
    1.0, 0.9567710409170167, 0.9046458828316847, 0.8405633884635463, 0.7598760356125212,
    0.6551693118194424, 0.5138423920462424, 0.312612444217742, 0.00315139159868583,
  };
  EpdSchedule s;
  g_autoptr(GError) error = NULL;
  g_autofree double *t = grid_of (EPD_SCHEDULE_FLOWMATCH, 10);
  g_autofree double *f = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sd3_10); i++)
    assert_close (t[i], sd3_10[i], 1e-12);
  g_assert_true (epd_schedule_init_flowmatch_preset (&s, "flux", &error));
  f = epd_schedule_grid (&s, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (flux_8); i++)
    assert_close (f[i], flux_8[i], 1e-12);
  g_assert_false (epd_schedule_init_flowmatch_preset (&s, "sdxl", &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

static void
test_time_sigma_maps (void)
{
  EpdSchedule s;

  epd_schedule_init (&s, EPD_SCHEDULE_FLOWMATCH);
  g_assert_true (epd_schedule_is_flow (&s));
  g_assert_cmpfloat (epd_schedule_time_from_sigma (&s, INFINITY), ==, 1.0);
  g_assert_true (isinf (epd_schedule_sigma_from_time (&s, 1.0)));
  assert_close (epd_schedule_sigma_from_time (&s, epd_schedule_time_from_sigma (&s, 3.5)), 3.5, 1e-15);
  assert_close (epd_schedule_time_from_sigma (&s, 1.0), 0.5, 1e-15);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  g_assert_false (epd_schedule_is_flow (&s));
  g_assert_cmpfloat (epd_schedule_time_from_sigma (&s, 3.5), ==, 3.5);
}

static void
test_names (void)
{
  for (int kind = EPD_SCHEDULE_POLYNOMIAL; kind <= EPD_SCHEDULE_FLOWMATCH; kind++)
    {
      EpdScheduleKind back;

      g_assert_true (epd_schedule_kind_from_string (epd_schedule_kind_to_string (kind), &back, NULL));
      g_assert_cmpint (back, ==, kind);
    }
  {
    EpdScheduleKind back;
    g_autoptr(GError) error = NULL;

    g_assert_true (epd_schedule_kind_from_string ("time_uniform", &back, NULL));
    g_assert_cmpint (back, ==, EPD_SCHEDULE_TIME_UNIFORM);
    g_assert_false (epd_schedule_kind_from_string ("karras", &back, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  }
}

static void
expect_invalid (EpdSchedule *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *t = epd_schedule_grid (s, 4, &error);

  g_assert_null (t);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
}

static void
test_rejects (void)
{
  EpdSchedule s;
  g_autoptr(GError) error = NULL;
  g_autofree double *t = NULL;

  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  s.sigma_min = 0.0;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  s.sigma_max = 0.001;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_LOGSNR);
  s.sigma_max = NAN;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_LOGSNR);
  s.sigma_max = INFINITY;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  s.rho = -1.0;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_FLOWMATCH);
  s.shift = 0.0;
  expect_invalid (&s);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  t = epd_schedule_grid (&s, 0, &error);
  g_assert_null (t);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

/* --schedule discrete --sigma-max 1e300: sigma^2 overflowed, the grid's
 * times became NaN and were cast to int (undefined). The outer segment
 * extends to any finite sigma_max. */
static void
test_discrete_huge_sigma (void)
{
  const double sigma_max[] = { 1e300, 1e200, 1e160 };

  for (guint i = 0; i < G_N_ELEMENTS (sigma_max); i++)
    {
      EpdSchedule s;
      g_autoptr(GError) error = NULL;
      g_autofree double *grid = NULL;

      epd_schedule_init (&s, EPD_SCHEDULE_DISCRETE);
      s.sigma_max = sigma_max[i];
      grid = epd_schedule_grid (&s, 4, &error);
      g_assert_no_error (error);
      g_assert_cmpfloat_with_epsilon (grid[0] / sigma_max[i], 1, 1e-9);
      for (guint k = 0; k <= 4; k++)
        g_assert_true (isfinite (grid[k]));
      for (guint k = 0; k < 4; k++)
        g_assert_cmpfloat (grid[k], >, grid[k + 1]);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/schedule/monotone", test_monotone_all_kinds);
  g_test_add_func ("/schedule/discrete-huge-sigma", test_discrete_huge_sigma);
  g_test_add_func ("/schedule/polynomial", test_polynomial_known);
  g_test_add_func ("/schedule/logsnr", test_logsnr_known);
  g_test_add_func ("/schedule/time-uniform", test_time_uniform_known);
  g_test_add_func ("/schedule/discrete", test_discrete_known);
  g_test_add_func ("/schedule/flowmatch", test_flowmatch_known);
  g_test_add_func ("/schedule/time-sigma", test_time_sigma_maps);
  g_test_add_func ("/schedule/names", test_names);
  g_test_add_func ("/schedule/rejects", test_rejects);
  return g_test_run ();
}
