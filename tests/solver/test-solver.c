/* SPDX-License-Identifier: MIT */
/* test-solver.c: EPD identities, NFE accounting, traces, determinism,
 * validation, cancellation and flow-matching time, on a single Gaussian whose
 * ODE solution is known in closed form. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd.h"
#include "epd-epd-step.h"
#include "epd-test-gauss.h"

#define DIM 3
#define BATCH 5

static const double mu[DIM] = { 0.3, -0.7, 1.1 };

static EpdDenoiser *
gauss_new (void)
{
  return epd_test_gauss_new (DIM, mu, 0.5);
}

/* x_T = t_max z for seed 7. */
static double *
start_state (const EpdSolveOptions *o,
             gsize                  batch)
{
  g_autofree double *z = epd_random_latents (7, batch, DIM);
  double *x = g_new (double, batch * DIM);

  epd_solve_init_from_noise (o, z, batch * DIM, x);
  return x;
}

/* Every step uses the same row r, w (K values each). */
static EpdTable *
table_new (guint         steps,
           guint         K,
           const double *r,
           const double *w)
{
  EpdTable *t = epd_table_new ("epd", steps, K);

  for (guint i = 0; i < steps; i++)
    {
      memcpy (t->r + i * K, r, K * sizeof (double));
      memcpy (t->weight + i * K, w, K * sizeof (double));
    }
  return t;
}

static double *
solve (EpdDenoiser           *d,
       const EpdSolveOptions *o,
       EpdTrace              *trace,
       EpdNfe                *nfe)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *x0 = start_state (o, BATCH);
  double *out = g_new (double, BATCH * DIM);

  g_assert_true (epd_solve (d, o, x0, BATCH, out, trace, nfe, NULL, &error));
  g_assert_no_error (error);
  return out;
}

static double
max_rel_diff (const double *a,
              const double *b,
              gsize         n)
{
  double m = 0.0;

  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs (a[i] - b[i]) / MAX (1.0, fabs (b[i])));
  return m;
}

static void
options_for (EpdSolveOptions *o,
             EpdSolverKind    kind,
             guint            steps,
             const EpdTable  *table)
{
  epd_solve_options_init (o);
  o->solver = kind;
  o->steps = steps;
  o->table = table;
}

static void
test_epd_euler_limit (void)
{
  const double r[] = { 1e-12 }, w[] = { 1.0 };
  g_autoptr(EpdTable) t = table_new (6, 1, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  EpdSolveOptions o;
  g_autofree double *epd = NULL;
  g_autofree double *euler = NULL;

  options_for (&o, EPD_SOLVER_EPD, 6, t);
  epd = solve (d, &o, NULL, NULL);
  options_for (&o, EPD_SOLVER_EULER, 6, NULL);
  euler = solve (d, &o, NULL, NULL);
  g_assert_cmpfloat (max_rel_diff (epd, euler, BATCH * DIM), <, 1e-9);
}

static void
test_epd_one_point_weights (void)
{
  const double r2[] = { 0.3, 0.7 }, w01[] = { 0.0, 1.0 }, w10[] = { 1.0, 0.0 };
  const double ra[] = { 0.3 }, rb[] = { 0.7 }, w1[] = { 1.0 };
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autoptr(EpdTable) t01 = table_new (5, 2, r2, w01);
  g_autoptr(EpdTable) t10 = table_new (5, 2, r2, w10);
  g_autoptr(EpdTable) ta = table_new (5, 1, ra, w1);
  g_autoptr(EpdTable) tb = table_new (5, 1, rb, w1);
  EpdSolveOptions o;
  g_autofree double *x01 = NULL, *x10 = NULL, *xa = NULL, *xb = NULL;

  options_for (&o, EPD_SOLVER_EPD, 5, t01);
  x01 = solve (d, &o, NULL, NULL);
  o.table = t10;
  x10 = solve (d, &o, NULL, NULL);
  o.table = ta;
  xa = solve (d, &o, NULL, NULL);
  o.table = tb;
  xb = solve (d, &o, NULL, NULL);
  g_assert_cmpmem (x01, BATCH * DIM * sizeof (double), xb, BATCH * DIM * sizeof (double));
  g_assert_cmpmem (x10, BATCH * DIM * sizeof (double), xa, BATCH * DIM * sizeof (double));
}

/* K = 1 at r = 1/2 places the point at sqrt(t_n t_{n+1}): DPM-Solver-2. */
static void
test_epd_midpoint_is_dpm2 (void)
{
  const double r[] = { 0.5 }, w[] = { 1.0 };
  g_autoptr(EpdTable) t = table_new (4, 1, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  EpdSolveOptions o;
  g_autofree double *epd = NULL, *dpm2 = NULL;

  options_for (&o, EPD_SOLVER_EPD, 4, t);
  epd = solve (d, &o, NULL, NULL);
  options_for (&o, EPD_SOLVER_DPM2, 4, NULL);
  dpm2 = solve (d, &o, NULL, NULL);
  g_assert_cmpfloat (max_rel_diff (epd, dpm2, BATCH * DIM), <, 1e-12);
}

static void
test_epd_scales_one (void)
{
  const double r[] = { 0.2, 0.8 }, w[] = { 0.4, 0.6 };
  g_autoptr(EpdTable) plain = table_new (5, 2, r, w);
  g_autoptr(EpdTable) scaled = table_new (5, 2, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  EpdSolveOptions o;
  g_autofree double *a = NULL, *b = NULL;

  scaled->scale_dir = g_new (double, 10);
  scaled->scale_time = g_new (double, 10);
  for (guint i = 0; i < 10; i++)
    scaled->scale_dir[i] = scaled->scale_time[i] = 1.0;
  options_for (&o, EPD_SOLVER_EPD, 5, plain);
  a = solve (d, &o, NULL, NULL);
  o.table = scaled;
  b = solve (d, &o, NULL, NULL);
  g_assert_cmpmem (a, BATCH * DIM * sizeof (double), b, BATCH * DIM * sizeof (double));
}

/* scale_time moves the evaluation time only; scale_dir scales the update. */
static void
test_epd_scales_act (void)
{
  const double r[] = { 0.5 }, w[] = { 1.0 };
  g_autoptr(EpdTable) t = table_new (1, 1, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autoptr(EpdTrace) trace = epd_trace_new ();
  EpdSolveOptions o;
  g_autofree double *a = NULL, *b = NULL;
  EpdTraceStep *ts;

  t->scale_dir = g_new (double, 1);
  t->scale_time = g_new (double, 1);
  t->scale_dir[0] = 1.1;
  t->scale_time[0] = 0.9;
  options_for (&o, EPD_SOLVER_EPD, 1, t);
  a = solve (d, &o, trace, NULL);
  ts = epd_trace_get_step (trace, 0);
  g_assert_cmpfloat_with_epsilon (ts->point_t[0], 0.9 * sqrt (80.0 * 0.002), 1e-12);
  g_assert_cmpfloat_with_epsilon (ts->point_weight[0], 1.1, 1e-15);
  t->scale_dir[0] = t->scale_time[0] = 1.0;
  b = solve (d, &o, NULL, NULL);
  g_assert_cmpfloat (max_rel_diff (a, b, BATCH * DIM), >, 1e-3);
}

static void
test_plugin_order1_is_epd (void)
{
  const double r[] = { 0.25, 0.75 }, w[] = { 0.3, 0.7 };
  g_autoptr(EpdTable) t = table_new (6, 2, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  EpdSolveOptions o;
  g_autofree double *epd = NULL, *plug = NULL, *plug4 = NULL;

  options_for (&o, EPD_SOLVER_EPD, 6, t);
  o.afs = TRUE;
  epd = solve (d, &o, NULL, NULL);
  o.solver = EPD_SOLVER_EPD_PLUGIN;
  o.max_order = 1;
  plug = solve (d, &o, NULL, NULL);
  g_assert_cmpmem (epd, BATCH * DIM * sizeof (double), plug, BATCH * DIM * sizeof (double));
  /* With history the predictor differs. */
  o.max_order = 4;
  plug4 = solve (d, &o, NULL, NULL);
  g_assert_cmpfloat (max_rel_diff (plug4, epd, BATCH * DIM), >, 1e-6);
}

/* Predicted NFE = measured NFE = what the denoiser saw. */
static void
test_nfe_counts (void)
{
  const double r[] = { 0.2, 0.5, 0.8 }, w[] = { 0.2, 0.3, 0.5 };
  g_autoptr(EpdTable) t = table_new (4, 3, r, w);

  for (int kind = EPD_SOLVER_EULER; kind < EPD_SOLVER_TEACHER; kind++)
    for (int afs = 0; afs <= 1; afs++)
      {
        g_autoptr(EpdDenoiser) d = gauss_new ();
        EpdTestGauss *g = EPD_TEST_GAUSS (d);
        EpdSolveOptions o;
        EpdNfe predicted, measured;
        g_autofree double *x = NULL;

        options_for (&o, kind, 4, t);
        o.afs = afs;
        predicted = epd_solve_options_nfe (&o);
        x = solve (d, &o, NULL, &measured);
        g_assert_cmpuint (predicted.latency, ==, measured.latency);
        g_assert_cmpuint (predicted.total, ==, measured.total);
        g_assert_cmpuint (epd_test_gauss_calls (g), ==, measured.latency);
        g_assert_cmpuint (epd_test_gauss_rows (g), ==, (guint64) measured.total * BATCH);
      }
  {
    EpdSolveOptions o;
    EpdNfe n;

    options_for (&o, EPD_SOLVER_EPD, 4, t);
    o.afs = TRUE;
    n = epd_solve_options_nfe (&o);
    g_assert_cmpuint (n.latency, ==, 7);
    g_assert_cmpuint (n.total, ==, 15);
    options_for (&o, EPD_SOLVER_HEUN, 4, NULL);
    n = epd_solve_options_nfe (&o);
    g_assert_cmpuint (n.latency, ==, 8);
  }
}

static void
test_deterministic (void)
{
  const double r[] = { 0.3, 0.6 }, w[] = { 0.5, 0.5 };
  g_autoptr(EpdTable) t = table_new (5, 2, r, w);

  for (int kind = EPD_SOLVER_EULER; kind < EPD_N_SOLVERS; kind++)
    {
      g_autoptr(EpdDenoiser) d = gauss_new ();
      EpdSolveOptions o;
      g_autofree double *a = NULL, *b = NULL;

      options_for (&o, kind, 5, t);
      a = solve (d, &o, NULL, NULL);
      b = solve (d, &o, NULL, NULL);
      g_assert_cmpmem (a, BATCH * DIM * sizeof (double), b, BATCH * DIM * sizeof (double));
    }
}

static void
test_trace_epd (void)
{
  const double r[] = { 0.3, 0.6 }, w[] = { 0.25, 0.75 };
  g_autoptr(EpdTable) t = table_new (3, 2, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autoptr(EpdTrace) trace = epd_trace_new ();
  g_autoptr(GError) error = NULL;
  g_autofree double *grid = NULL, *out = NULL, *x0 = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  EpdSolveOptions o;
  int fd;

  options_for (&o, EPD_SOLVER_EPD, 3, t);
  o.afs = TRUE;
  grid = epd_schedule_grid (&o.schedule, 3, NULL);
  x0 = start_state (&o, BATCH);
  out = solve (d, &o, trace, NULL);
  g_assert_cmpuint (epd_trace_n_steps (trace), ==, 3);
  g_assert_cmpmem (epd_trace_get_step (trace, 0)->x, BATCH * DIM * sizeof (double),
                   x0, BATCH * DIM * sizeof (double));
  g_assert_null (epd_trace_get_step (trace, 0)->denoised);
  g_assert_nonnull (epd_trace_get_step (trace, 1)->denoised);
  for (guint i = 0; i < 3; i++)
    {
      EpdTraceStep *ts = epd_trace_get_step (trace, i);

      g_assert_cmpfloat (ts->t_cur, ==, grid[i]);
      g_assert_cmpfloat (ts->t_next, ==, grid[i + 1]);
      g_assert_cmpuint (ts->n_points, ==, 2);
      g_assert_cmpfloat_with_epsilon (ts->point_t[1], pow (grid[i + 1], 0.6) * pow (grid[i], 0.4), 1e-12 * grid[i]);
      g_assert_cmpfloat (ts->point_weight[1], ==, 0.75);
      g_assert_nonnull (ts->euler_dir);
    }
  g_assert_cmpmem (trace->x_final, BATCH * DIM * sizeof (double), out, BATCH * DIM * sizeof (double));

  fd = g_file_open_tmp ("epd-trace-XXXXXX.json", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (epd_trace_save (trace, path, &error));
  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  {
    JsonObject *root = json_node_get_object (json_parser_get_root (parser));
    JsonArray *steps = json_object_get_array_member (root, "steps");
    JsonObject *s1 = json_array_get_object_element (steps, 1);
    JsonArray *pts = json_object_get_array_member (s1, "points");
    JsonArray *px = json_object_get_array_member (json_array_get_object_element (pts, 0), "x");

    g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "epd-trace");
    g_assert_cmpuint (json_array_get_length (steps), ==, 3);
    g_assert_cmpuint (json_array_get_length (px), ==, BATCH);
    g_assert_cmpfloat (json_array_get_double_element (json_array_get_array_element (px, 2), 1),
                       ==, epd_trace_get_step (trace, 1)->point_x[2 * DIM + 1]);
  }
  g_unlink (path);
}

/* The teacher's recorded states are the exact solution at the grid times. */
static void
test_teacher_exact (void)
{
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autoptr(EpdTrace) trace = epd_trace_new ();
  g_autofree double *grid = NULL, *x0 = NULL, *out = NULL, *exact = NULL;
  EpdSolveOptions o;
  EpdNfe nfe;

  options_for (&o, EPD_SOLVER_TEACHER, 6, NULL);
  grid = epd_schedule_grid (&o.schedule, 6, NULL);
  x0 = start_state (&o, BATCH);
  out = solve (d, &o, trace, &nfe);
  exact = g_new (double, BATCH * DIM);
  for (guint i = 0; i < 6; i++)
    {
      epd_test_gauss_exact (EPD_TEST_GAUSS (d), x0, BATCH * DIM, grid[0], grid[i], exact);
      g_assert_cmpfloat (max_rel_diff (epd_trace_get_step (trace, i)->x, exact, BATCH * DIM), <, 1e-7);
    }
  epd_test_gauss_exact (EPD_TEST_GAUSS (d), x0, BATCH * DIM, grid[0], grid[6], exact);
  g_assert_cmpfloat (max_rel_diff (out, exact, BATCH * DIM), <, 1e-7);
  g_assert_cmpuint (nfe.latency, >, 6);
  g_assert_cmpuint (nfe.latency, ==, nfe.total);
}

/* Flow time: x = (1-t) x0 + t n, started from pure noise at t = 1, has the
 * exact solution (1-t) mu + sqrt(s0^2 (1-t)^2 + t^2) z for a Gaussian. */
static double *
flow_exact (guint steps)
{
  EpdSchedule s;
  g_autofree double *z = epd_random_latents (7, BATCH, DIM);
  g_autofree double *grid = NULL;
  double *exact = g_new (double, BATCH * DIM);
  double t;

  epd_schedule_init (&s, EPD_SCHEDULE_FLOWMATCH);
  grid = epd_schedule_grid (&s, steps, NULL);
  g_assert_cmpfloat (grid[0], ==, 1.0);
  t = grid[steps];
  for (gsize i = 0; i < BATCH * DIM; i++)
    exact[i] = (1 - t) * mu[i % DIM] + sqrt (0.25 * (1 - t) * (1 - t) + t * t) * z[i];
  return exact;
}

static double
flow_error (EpdSolverKind kind,
            guint         steps)
{
  const double r[] = { 0.3, 0.7 }, w[] = { 0.5, 0.5 };
  g_autoptr(EpdTable) t = table_new (steps, 2, r, w);
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autofree double *exact = flow_exact (steps);
  g_autofree double *x = NULL;
  EpdSolveOptions o;

  options_for (&o, kind, steps, t);
  epd_schedule_init (&o.schedule, EPD_SCHEDULE_FLOWMATCH);
  x = solve (d, &o, NULL, NULL);
  return max_rel_diff (x, exact, BATCH * DIM);
}

/* Flow time: x = (1-t) x0 + t n, started from pure noise at t = 1, has the
 * exact solution (1-t) mu + sqrt(s0^2 (1-t)^2 + t^2) z for a Gaussian. */
static void
test_flowmatch (void)
{
  double teacher = flow_error (EPD_SOLVER_TEACHER, 10);
  double epd40 = flow_error (EPD_SOLVER_EPD, 40);
  double epd80 = flow_error (EPD_SOLVER_EPD, 80);

  g_test_message ("flow errors: teacher %.2e, EPD 40 steps %.2e, 80 steps %.2e", teacher, epd40, epd80);
  g_assert_cmpfloat (teacher, <, 1e-7);
  g_assert_cmpfloat (epd40, <, 2e-2);
  g_assert_cmpfloat (epd80, <, epd40 / 3);
}

/* The published tables (SD1.5 discrete, SD3/FLUX flowmatch) run with their own
 * schedule and land near the teacher on the Gaussian. */
static void
test_published_tables (void)
{
  const char *root = g_getenv ("EPD_SOURCE_ROOT");
  const char *const names[] = { "sd15-best", "sd15-distilled", "sd3-512-best", "sd3-1024-best", "flux-best" };

  if (root == NULL)
    {
      g_test_skip ("EPD_SOURCE_ROOT is not set");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strconcat (names[i], ".json", NULL);
      g_autofree char *path = g_build_filename (root, "data", "tables", file, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = epd_table_load (path, &error);
      g_autoptr(EpdDenoiser) d = gauss_new ();
      g_autofree double *epd = NULL, *teacher = NULL;
      EpdSolveOptions o;
      EpdNfe nfe;
      double err;

      g_assert_no_error (error);
      options_for (&o, EPD_SOLVER_EPD, t->steps, t);
      o.schedule = t->schedule;
      o.afs = t->afs;
      epd = solve (d, &o, NULL, &nfe);
      o.solver = EPD_SOLVER_TEACHER;
      teacher = solve (d, &o, NULL, NULL);
      err = max_rel_diff (epd, teacher, BATCH * DIM);
      g_test_message ("%s: %s schedule, %u steps, NFE %u, error to the teacher %.2e", names[i],
                      epd_schedule_kind_to_string (t->schedule.kind), t->steps, nfe.latency, err);
      g_assert_cmpuint (nfe.latency, ==, 2 * t->steps);
      g_assert_cmpfloat (err, <, 0.2);
    }
}

static void
expect_error (EpdSolveOptions *o,
              const double    *x0,
              GQuark           domain,
              int              code)
{
  g_autoptr(EpdDenoiser) d = gauss_new ();
  g_autoptr(GError) error = NULL;
  double out[BATCH * DIM];

  g_assert_false (epd_solve (d, o, x0, BATCH, out, NULL, NULL, NULL, &error));
  g_assert_error (error, domain, code);
  g_test_message ("rejected: %s", error->message);
}

static void
test_validation (void)
{
  const double r[] = { 0.5 }, w[] = { 1.0 };
  g_autoptr(EpdTable) t = table_new (4, 1, r, w);
  EpdSolveOptions o;
  g_autofree double *x0 = NULL;

  options_for (&o, EPD_SOLVER_EULER, 4, NULL);
  x0 = start_state (&o, BATCH);
  x0[4] = NAN;
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_NUMERIC);
  x0[4] = 0.0;
  options_for (&o, EPD_SOLVER_EPD, 5, t);
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_SHAPE);
  options_for (&o, EPD_SOLVER_EPD, 4, NULL);
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_INVALID);
  options_for (&o, EPD_SOLVER_IPNDM, 4, NULL);
  o.max_order = 5;
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_INVALID);
  options_for (&o, EPD_SOLVER_HEUN, 0, NULL);
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_INVALID);
  options_for (&o, EPD_SOLVER_TEACHER, 4, NULL);
  o.teacher_rtol = -1.0;
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_INVALID);
  options_for (&o, EPD_SOLVER_HEUN, 4, NULL);
  o.schedule.sigma_min = -1.0;
  expect_error (&o, x0, EPD_ERROR, EPD_ERROR_NUMERIC);
}

static void
test_cancel (void)
{
  for (int kind = EPD_SOLVER_EULER; kind < EPD_N_SOLVERS; kind++)
    {
      const double r[] = { 0.5 }, w[] = { 1.0 };
      g_autoptr(EpdTable) t = table_new (8, 1, r, w);
      g_autoptr(EpdDenoiser) d = gauss_new ();
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GError) error = NULL;
      g_autofree double *x0 = NULL;
      double out[BATCH * DIM];
      EpdSolveOptions o;

      options_for (&o, kind, 8, t);
      x0 = start_state (&o, BATCH);
      epd_test_gauss_cancel_after (EPD_TEST_GAUSS (d), cancellable, 3);
      g_assert_false (epd_solve (d, &o, x0, BATCH, out, NULL, NULL, cancellable, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* It stopped within one step of the cancellation. */
      g_assert_cmpuint (epd_test_gauss_calls (EPD_TEST_GAUSS (d)), <=, 3 + 6);
    }
}

static void
test_names (void)
{
  for (int kind = 0; kind < EPD_N_SOLVERS; kind++)
    {
      EpdSolverKind back;

      g_assert_true (epd_solver_kind_from_string (epd_solver_kind_to_string (kind), &back, NULL));
      g_assert_cmpint (back, ==, kind);
    }
  {
    g_autoptr(GError) error = NULL;
    EpdSolverKind back;

    g_assert_false (epd_solver_kind_from_string ("unipc", &back, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  }
}

static void
test_ipndm_coefficients (void)
{
  /* Each order's coefficients sum to 1 (consistency). */
  for (guint order = 1; order <= EPD_IPNDM_MAX_ORDER; order++)
    {
      const double *c = epd_ipndm_coefficients (order);
      double sum = 0.0;

      for (guint j = 0; j < order; j++)
        sum += c[j];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-15);
    }
  g_assert_cmpuint (epd_ipndm_order (4, 0), ==, 1);
  g_assert_cmpuint (epd_ipndm_order (4, 2), ==, 3);
  g_assert_cmpuint (epd_ipndm_order (2, 3), ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/solver/epd/euler-limit", test_epd_euler_limit);
  g_test_add_func ("/solver/epd/one-point-weights", test_epd_one_point_weights);
  g_test_add_func ("/solver/epd/midpoint-is-dpm2", test_epd_midpoint_is_dpm2);
  g_test_add_func ("/solver/epd/scales-one", test_epd_scales_one);
  g_test_add_func ("/solver/epd/scales-act", test_epd_scales_act);
  g_test_add_func ("/solver/epd-plugin/order1-is-epd", test_plugin_order1_is_epd);
  g_test_add_func ("/solver/nfe", test_nfe_counts);
  g_test_add_func ("/solver/deterministic", test_deterministic);
  g_test_add_func ("/solver/trace", test_trace_epd);
  g_test_add_func ("/solver/teacher-exact", test_teacher_exact);
  g_test_add_func ("/solver/flowmatch", test_flowmatch);
  g_test_add_func ("/solver/published-tables", test_published_tables);
  g_test_add_func ("/solver/validation", test_validation);
  g_test_add_func ("/solver/cancel", test_cancel);
  g_test_add_func ("/solver/names", test_names);
  g_test_add_func ("/solver/ipndm-coefficients", test_ipndm_coefficients);
  return g_test_run ();
}
