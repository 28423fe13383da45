/* SPDX-License-Identifier: MIT */
/* test-convergence.c: fitted orders of convergence, against the closed-form
 * solution of a single Gaussian and against the teacher on a Gaussian mixture.
 *
 * The slope is the least-squares fit of log(error) on log(steps), error = mean
 * over the batch of the L2 distance to the reference at the last grid time.
 * Multistep methods (DPM-Solver++(3M), iPNDM) warm up with lower orders, as the
 * reference does; an order-1 first step has a local error O(h^2), so their
 * asymptotic global order is 2. Their higher order shows before that regime
 * (the mixture test's range) and as a smaller error at equal NFE. */
#include <math.h>
#include <string.h>

#include "epd.h"
#include "epd-gmm.h"
#include "epd-test-gauss.h"

#define BATCH 16

typedef struct
{
  EpdDenoiser     *denoiser;
  EpdScheduleKind  schedule;
  const double    *x0;       /* [BATCH][dim] at t_max */
  const double    *ref;      /* [BATCH][dim] at t_min */
} Problem;

static double
mean_l2 (const double *a,
         const double *b,
         guint         dim)
{
  double sum = 0.0;

  for (gsize i = 0; i < BATCH; i++)
    {
      double s = 0.0;

      for (guint j = 0; j < dim; j++)
        s += (a[i * dim + j] - b[i * dim + j]) * (a[i * dim + j] - b[i * dim + j]);
      sum += sqrt (s);
    }
  return sum / BATCH;
}

/* A uniform EPD table of K = 2 for `steps`. */
static EpdTable *
uniform_table (guint steps)
{
  return epd_table_new ("epd", steps, 2);
}

static double
solve_error (const Problem *p,
             EpdSolverKind  kind,
             guint          steps)
{
  guint dim = epd_denoiser_get_dim (p->denoiser);
  g_autofree double *out = g_new (double, BATCH * dim);
  g_autoptr(EpdTable) table = uniform_table (steps);
  g_autoptr(GError) error = NULL;
  EpdSolveOptions o;

  epd_solve_options_init (&o);
  epd_schedule_init (&o.schedule, p->schedule);
  o.solver = kind;
  o.steps = steps;
  o.table = table;
  g_assert_true (epd_solve (p->denoiser, &o, p->x0, BATCH, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return mean_l2 (out, p->ref, dim);
}

static double
fitted_slope (const Problem *p,
              EpdSolverKind  kind,
              const guint   *steps,
              guint          n)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0;

  for (guint i = 0; i < n; i++)
    {
      double x = log (steps[i]);
      double e = solve_error (p, kind, steps[i]);
      double y = log (e);

      g_test_message ("%-10s %4u steps: error %.3e", epd_solver_kind_to_string (kind), steps[i], e);

      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
  return -(n * sxy - sx * sy) / (n * sxx - sx * sx);
}

typedef struct
{
  EpdSolverKind kind;
  double        lo, hi;
} Band;

static void
check_bands (const Problem *p,
             const Band    *bands,
             guint          n_bands,
             const guint   *steps,
             guint          n_steps)
{
  for (guint i = 0; i < n_bands; i++)
    {
      double slope = fitted_slope (p, bands[i].kind, steps, n_steps);

      g_test_message ("%-10s order %.3f (band %.2f..%.2f)",
                      epd_solver_kind_to_string (bands[i].kind), slope, bands[i].lo, bands[i].hi);
      g_assert_cmpfloat (slope, >=, bands[i].lo);
      g_assert_cmpfloat (slope, <=, bands[i].hi);
    }
}

static void
gauss_problem (Problem          *p,
               EpdScheduleKind   schedule,
               double          **x0,
               double          **ref)
{
  static const double mu[3] = { 0.3, -0.7, 1.1 };
  EpdSolveOptions o;
  g_autofree double *z = epd_random_latents (3, BATCH, 3);

  epd_solve_options_init (&o);
  epd_schedule_init (&o.schedule, schedule);
  p->denoiser = epd_test_gauss_new (3, mu, 0.5);
  p->schedule = schedule;
  *x0 = g_new (double, BATCH * 3);
  *ref = g_new (double, BATCH * 3);
  epd_solve_init_from_noise (&o, z, BATCH * 3, *x0);
  epd_test_gauss_exact (EPD_TEST_GAUSS (p->denoiser), *x0, BATCH * 3,
                        o.schedule.sigma_max, o.schedule.sigma_min, *ref);
  p->x0 = *x0;
  p->ref = *ref;
}

/* Asymptotic orders on the EDM grid, exact reference. */
static void
test_gauss_orders (void)
{
  static const guint steps[] = { 32, 64, 128, 256 };
  static const Band bands[] = {
    { EPD_SOLVER_EULER, 0.9, 1.1 },
    { EPD_SOLVER_HEUN, 1.9, 2.2 },
    { EPD_SOLVER_DPM2, 1.9, 2.2 },
    { EPD_SOLVER_DPMPP2M, 1.9, 2.2 },
    { EPD_SOLVER_IPNDM, 1.9, 2.3 },
    { EPD_SOLVER_EPD, 1.9, 2.2 },
    /* Smaller errors, reaching order 2 from below (halving ratios 3.4, 3.7, 3.9). */
    { EPD_SOLVER_EPD_PLUGIN, 1.75, 2.3 },
  };
  Problem p;
  g_autofree double *x0 = NULL, *ref = NULL;

  gauss_problem (&p, EPD_SCHEDULE_POLYNOMIAL, &x0, &ref);
  check_bands (&p, bands, G_N_ELEMENTS (bands), steps, G_N_ELEMENTS (steps));
  g_object_unref (p.denoiser);
}

/* DPM-Solver++(3M) on its natural grid, uniform in lambda = -log sigma. */
static void
test_gauss_dpmpp3m (void)
{
  static const guint steps[] = { 64, 128, 256, 512 };
  static const Band bands[] = { { EPD_SOLVER_DPMPP3M, 1.9, 2.3 } };
  Problem p;
  g_autofree double *x0 = NULL, *ref = NULL;

  gauss_problem (&p, EPD_SCHEDULE_LOGSNR, &x0, &ref);
  check_bands (&p, bands, G_N_ELEMENTS (bands), steps, G_N_ELEMENTS (steps));
  g_object_unref (p.denoiser);
}

/* At equal latency NFE the multistep methods beat the two-evaluation ones. */
static void
test_gauss_equal_nfe (void)
{
  Problem p;
  g_autofree double *x0 = NULL, *ref = NULL;
  double heun, ipndm, dpmpp3m;

  gauss_problem (&p, EPD_SCHEDULE_POLYNOMIAL, &x0, &ref);
  heun = solve_error (&p, EPD_SOLVER_HEUN, 16);
  ipndm = solve_error (&p, EPD_SOLVER_IPNDM, 32);
  dpmpp3m = solve_error (&p, EPD_SOLVER_DPMPP3M, 32);
  g_test_message ("NFE 32: heun %.3e ipndm %.3e dpmpp3m %.3e", heun, ipndm, dpmpp3m);
  g_assert_cmpfloat (ipndm, <, 0.25 * heun);
  g_assert_cmpfloat (dpmpp3m, <, 0.25 * heun);
  g_object_unref (p.denoiser);
}

/* The ring of 8 modes against the teacher (rtol 1e-10). */
static void
test_gmm_orders (void)
{
  static const guint steps[] = { 16, 32, 64 };
  static const Band bands[] = {
    { EPD_SOLVER_EULER, 0.9, 1.2 },
    { EPD_SOLVER_HEUN, 2.0, 2.6 },
    { EPD_SOLVER_DPMPP2M, 2.2, 2.8 },
    { EPD_SOLVER_IPNDM, 2.15, 2.75 },
    { EPD_SOLVER_DPMPP3M, 3.2, 4.1 },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", &error);
  guint dim;
  g_autofree double *z = NULL, *x0 = NULL, *ref = NULL;
  EpdSolveOptions o;
  EpdNfe nfe;
  Problem p;

  g_assert_no_error (error);
  dim = epd_gmm_get_dim (gmm);
  z = epd_random_latents (11, BATCH, dim);
  x0 = g_new (double, BATCH * dim);
  ref = g_new (double, BATCH * dim);
  epd_solve_options_init (&o);
  o.solver = EPD_SOLVER_TEACHER;
  o.steps = 1;
  o.teacher_rtol = 1e-10;
  epd_solve_init_from_noise (&o, z, BATCH * dim, x0);
  g_assert_true (epd_solve (EPD_DENOISER (gmm), &o, x0, BATCH, ref, NULL, &nfe, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("teacher: %u evaluations", nfe.latency);
  p = (Problem) { EPD_DENOISER (gmm), EPD_SCHEDULE_POLYNOMIAL, x0, ref };
  check_bands (&p, bands, G_N_ELEMENTS (bands), steps, G_N_ELEMENTS (steps));
}

/* The teacher converges as its tolerance tightens (reference: rtol 1e-12). */
static void
test_teacher_tolerance (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", NULL);
  guint dim = epd_gmm_get_dim (gmm);
  g_autofree double *z = epd_random_latents (5, BATCH, dim);
  g_autofree double *x0 = g_new (double, BATCH * dim);
  g_autofree double *ref = g_new (double, BATCH * dim);
  g_autofree double *out = g_new (double, BATCH * dim);
  double prev = INFINITY;
  EpdSolveOptions o;

  epd_solve_options_init (&o);
  o.solver = EPD_SOLVER_TEACHER;
  o.steps = 3;
  epd_solve_init_from_noise (&o, z, BATCH * dim, x0);
  o.teacher_rtol = 1e-12;
  g_assert_true (epd_solve (EPD_DENOISER (gmm), &o, x0, BATCH, ref, NULL, NULL, NULL, NULL));
  for (double rtol = 1e-4; rtol >= 1e-8; rtol *= 1e-2)
    {
      double err;

      o.teacher_rtol = rtol;
      g_assert_true (epd_solve (EPD_DENOISER (gmm), &o, x0, BATCH, out, NULL, NULL, NULL, NULL));
      err = mean_l2 (out, ref, dim);
      g_test_message ("rtol %.0e: error %.3e", rtol, err);
      g_assert_cmpfloat (err, <, 100 * rtol);
      g_assert_cmpfloat (err, <, prev);
      prev = err;
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/convergence/gauss", test_gauss_orders);
  g_test_add_func ("/convergence/gauss-dpmpp3m", test_gauss_dpmpp3m);
  g_test_add_func ("/convergence/gauss-equal-nfe", test_gauss_equal_nfe);
  g_test_add_func ("/convergence/gmm-teacher", test_gmm_orders);
  g_test_add_func ("/convergence/teacher-tolerance", test_teacher_tolerance);
  return g_test_run ();
}
