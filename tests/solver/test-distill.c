/* SPDX-License-Identifier: MIT */
/* test-distill.c: Stage 1 distillation: gradients, training, determinism, metadata. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "epd.h"
#include "epd-distill.h"
#include "epd-gmm.h"

static EpdDenoiser *
open_preset (const char *name)
{
  g_autoptr(GError) error = NULL;
  EpdGmm *gmm = epd_gmm_new_preset (name, &error);

  g_assert_no_error (error);
  return EPD_DENOISER (gmm);
}

static void
small_options (EpdDistillOptions *o,
               EpdSolverKind      solver)
{
  epd_distill_options_init (o);
  o->solver = solver;
  o->steps = 3;
  o->n_points = 2;
  o->n_train = 16;
  o->n_val = 16;
  o->iterations = 60;
  o->teacher_rtol = 1e-7;
  o->model_spec = "gmm:ring8";
  /* The step-wise stage alone, with the scales off, unless a test asks for more. */
  o->final_iterations = 0;
  o->scale_dir_range = 0;
  o->scale_time_range = 0;
}

/* Analytic gradient against central differences of the loss for the LAST step's
 * parameters, whose change moves no later state (earlier steps' gradients treat
 * the student's own state as fixed, which differences of the total cannot see). */
static void
check_gradient_with (EpdDenoiser   *denoiser,
                     EpdSolverKind  solver,
                     gboolean       afs,
                     guint          steps,
                     EpdDistillLoss kind,
                     double         rtol)
{
  guint dim = epd_denoiser_get_dim (denoiser), K = 3;
  gsize B = 4;
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree double *z = epd_random_latents (3, B, dim);
  g_autofree double *x0 = g_new (double, B * dim);
  g_autofree double *targets = NULL;
  g_autofree double *theta = NULL, *grad = NULL;
  gsize n_par, n;
  double loss;
  EpdSolveOptions so;

  small_options (&o, solver);
  o.steps = steps;
  o.n_points = K;
  o.afs = afs;
  o.loss = kind;
  o.scale_dir_range = 0.3;
  o.scale_time_range = 0.3;
  n_par = epd_distill_n_params (&o);
  n = (gsize) steps * K;
  epd_solve_options_init (&so);
  so.schedule = o.schedule;
  so.steps = steps;
  epd_solve_init_from_noise (&so, z, B * dim, x0);
  targets = epd_distill_teacher_states (denoiser, &o, x0, B, NULL, &error);
  g_assert_no_error (error);
  theta = g_new (double, n_par);
  grad = g_new (double, n_par);
  for (gsize i = 0; i < n_par; i++)
    theta[i] = g_rand_double_range (rand, -1.0, 1.0);
  g_assert_true (epd_distill_loss_grad (denoiser, &o, theta, x0, targets, B, &loss, grad, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (loss, >, 0.0);

  /* Each block: r, weight, scale_dir, scale_time; last step's K entries. */
  for (guint block = 0; block < 4; block++)
    {
      double block_size = 0.0;

      for (guint k = 0; k < K; k++)
      {
        gsize i = block * n + (gsize) (steps - 1) * K + k;
        double h = 1e-5, saved = theta[i], lp, lm, fd;

        theta[i] = saved + h;
        g_assert_true (epd_distill_loss_grad (denoiser, &o, theta, x0, targets, B, &lp, NULL, &error));
        theta[i] = saved - h;
        g_assert_true (epd_distill_loss_grad (denoiser, &o, theta, x0, targets, B, &lm, NULL, &error));
        theta[i] = saved;
        fd = (lp - lm) / (2 * h);
        g_test_message ("block %u k %u: analytic %.10g, differences %.10g", block, k, grad[i], fd);
        g_assert_cmpfloat (fabs (grad[i] - fd), <=, rtol * MAX (fabs (fd), 1e-3 * loss) + 1e-12);
        block_size += fabs (fd);
      }
      /* The check is not vacuous: every parameter type moves the loss. */
      g_assert_cmpfloat (block_size, >, 1e-4 * loss);
    }
}

static void
check_gradient (EpdSolverKind solver,
                gboolean      afs,
                guint         steps)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");

  /* The mixture's JVP is analytic: the gradients are exact to rounding. */
  check_gradient_with (denoiser, solver, afs, steps, EPD_DISTILL_LOSS_SQUARED, 1e-6);
  check_gradient_with (denoiser, solver, afs, steps, EPD_DISTILL_LOSS_L2, 1e-6);
}

/* A denoiser without an exact JVP: epd_denoiser_denoise_jvp() falls back to
 * central differences, so the gradient is accurate to ~1e-9 relative. */
#define TEST_TYPE_PLAIN (test_plain_get_type ())
G_DECLARE_FINAL_TYPE (TestPlain, test_plain, TEST, PLAIN, GObject)

struct _TestPlain
{
  GObject      parent_instance;
  EpdDenoiser *inner;
};

static void test_plain_iface_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPlain, test_plain, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, test_plain_iface_init))

static void
test_plain_finalize (GObject *object)
{
  g_clear_object (&TEST_PLAIN (object)->inner);
  G_OBJECT_CLASS (test_plain_parent_class)->finalize (object);
}

static void
test_plain_class_init (TestPlainClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_plain_finalize;
}

static void
test_plain_init (TestPlain *self)
{
}

static guint
test_plain_get_dim (EpdDenoiser *self)
{
  return epd_denoiser_get_dim (TEST_PLAIN (self)->inner);
}

static gboolean
test_plain_denoise (EpdDenoiser  *self,
                    const double *x,
                    const double *sigma,
                    gsize         batch,
                    double       *out,
                    GError      **error)
{
  return epd_denoiser_denoise (TEST_PLAIN (self)->inner, x, sigma, batch, out, error);
}

static void
test_plain_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = test_plain_get_dim;
  iface->denoise = test_plain_denoise;
}

static void
test_gradient_fd_jvp (void)
{
  TestPlain *plain = g_object_new (TEST_TYPE_PLAIN, NULL);
  g_autoptr(EpdDenoiser) denoiser = EPD_DENOISER (plain);

  plain->inner = open_preset ("ring8");
  g_assert_false (epd_denoiser_has_exact_jvp (denoiser));
  check_gradient_with (denoiser, EPD_SOLVER_EPD_PLUGIN, TRUE, 3, EPD_DISTILL_LOSS_L2, 1e-4);
}

static void
test_gradient_epd (void)
{
  check_gradient (EPD_SOLVER_EPD, TRUE, 3);
  /* A single step: the first step's parameters, without AFS. */
  check_gradient (EPD_SOLVER_EPD, FALSE, 1);
}

static void
test_gradient_plugin (void)
{
  /* Four steps: the last one uses iPNDM order 4 with three past directions. */
  check_gradient (EPD_SOLVER_EPD_PLUGIN, TRUE, 4);
}

/* The differentiated step and the solvers' epd_epd_step give the same loss. */
static void
test_forward_matches_solver_step (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  guint dim = epd_denoiser_get_dim (denoiser);
  gsize B = 8;
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autofree double *z = epd_random_latents (11, B, dim);
  g_autofree double *x0 = g_new (double, B * dim);
  g_autofree double *targets = NULL, *theta = NULL, *grad = NULL;
  double with_grad, without;
  EpdSolveOptions so;

  for (guint plugin = 0; plugin < 2; plugin++)
    {
      small_options (&o, plugin ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD);
      o.steps = 4;
      o.scale_dir_range = 0.2;
      o.scale_time_range = 0.2;
      epd_solve_options_init (&so);
      so.schedule = o.schedule;
      so.steps = o.steps;
      epd_solve_init_from_noise (&so, z, B * dim, x0);
      g_clear_pointer (&targets, g_free);
      targets = epd_distill_teacher_states (denoiser, &o, x0, B, NULL, &error);
      g_assert_no_error (error);
      g_clear_pointer (&theta, g_free);
      g_clear_pointer (&grad, g_free);
      theta = g_new (double, epd_distill_n_params (&o));
      grad = g_new (double, epd_distill_n_params (&o));
      for (gsize i = 0; i < epd_distill_n_params (&o); i++)
        theta[i] = 0.37 * sin (3.0 * i + plugin);
      g_assert_true (epd_distill_loss_grad (denoiser, &o, theta, x0, targets, B, &with_grad, grad, &error));
      g_assert_true (epd_distill_loss_grad (denoiser, &o, theta, x0, targets, B, &without, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat_with_epsilon (with_grad, without, 1e-12 * without);
    }
}

/* The table error follows the same trajectory as `epd sample` (epd_solve). */
static void
check_table_error_matches_solve (EpdScheduleKind kind)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  guint dim = epd_denoiser_get_dim (denoiser);
  gsize B = 8;
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autofree double *z = epd_random_latents (5, B, dim);
  g_autofree double *x0 = g_new (double, B * dim);
  g_autofree double *x_out = g_new (double, B * dim);
  g_autofree double *targets = NULL;
  g_autofree double *theta = NULL;
  g_autoptr(EpdTable) table = NULL;
  double err, direct = 0.0;
  EpdSolveOptions so;

  for (guint plugin = 0; plugin < 2; plugin++)
    {
      small_options (&o, plugin ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD);
      epd_schedule_init (&o.schedule, kind);
      o.steps = 4;
      o.scale_dir_range = 0.2;
      o.scale_time_range = 0.2;
      g_clear_pointer (&theta, g_free);
      theta = g_new (double, epd_distill_n_params (&o));
      for (gsize i = 0; i < epd_distill_n_params (&o); i++)
        theta[i] = 0.5 * cos (2.0 * i + plugin);
      g_clear_pointer (&table, epd_table_free);
      table = epd_distill_table_from_params (&o, theta);
      epd_solve_options_init (&so);
      so.solver = o.solver;
      so.schedule = o.schedule;
      so.steps = o.steps;
      so.table = table;
      so.afs = o.afs;
      so.max_order = o.max_order;
      epd_solve_init_from_noise (&so, z, B * dim, x0);
      g_clear_pointer (&targets, g_free);
      targets = epd_distill_teacher_states (denoiser, &o, x0, B, NULL, &error);
      g_assert_no_error (error);
      err = epd_distill_table_error (denoiser, table, x0, targets, B, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (epd_solve (denoiser, &so, x0, B, x_out, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      direct = 0.0;
      for (gsize b = 0; b < B; b++)
        {
          double s = 0.0;

          for (guint j = 0; j < dim; j++)
            {
              double v = x_out[b * dim + j] - targets[(o.steps - 1) * B * dim + b * dim + j];
              s += v * v;
            }
          direct += sqrt (s) / B;
        }
      g_assert_cmpfloat_with_epsilon (err, direct, 1e-10 * direct + 1e-14);
    }
}

static void
test_table_error_matches_solve (void)
{
  check_table_error_matches_solve (EPD_SCHEDULE_POLYNOMIAL);
  check_table_error_matches_solve (EPD_SCHEDULE_LOGSNR);
  /* Flow-matching time: the student runs on the model's flow view, like epd_solve. */
  check_table_error_matches_solve (EPD_SCHEDULE_FLOWMATCH);
}

typedef struct
{
  guint calls;
  guint cancel_at;
  GCancellable *cancellable;
  const char *cancel_phase;   /* cancel only in this phase; NULL: any */
} ProgressLog;

static void
on_progress (const EpdDistillProgress *p,
             gpointer                  user_data)
{
  ProgressLog *log = user_data;

  log->calls++;
  g_assert_cmpuint (p->iteration, <=, p->iterations);
  if (log->cancellable != NULL && p->iteration == log->cancel_at &&
      (log->cancel_phase == NULL || g_str_equal (p->phase, log->cancel_phase)))
    g_cancellable_cancel (log->cancellable);
}

static EpdTable *
distill_small (EpdDenoiser       *denoiser,
               EpdDistillOptions *o,
               ProgressLog       *log)
{
  g_autoptr(GError) error = NULL;
  EpdTable *table = epd_distill_run (denoiser, o, on_progress, log,
                                     log->cancellable, &error);

  g_assert_no_error (error);
  g_assert_nonnull (table);
  return table;
}

static double
metadata_double (const EpdTable *t,
                 const char     *name)
{
  g_assert_true (json_object_has_member (t->metadata, name));
  return json_object_get_double_member (t->metadata, name);
}

/* Training lowers the validation error well below the uniform table's. */
static void
test_distill_improves (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) table = NULL;
  double initial, best;

  small_options (&o, EPD_SOLVER_EPD);
  table = distill_small (denoiser, &o, &log);
  initial = metadata_double (table, "val_error_initial");
  best = metadata_double (table, "val_error");
  g_test_message ("validation error %g -> %g", initial, best);
  g_assert_cmpfloat (best, <, 0.5 * initial);
  g_assert_cmpuint (log.calls, >=, o.iterations);
  g_assert_true (epd_table_validate (table, NULL));
}

/* Flow-matching schedules distil too (their JVP is by finite differences). */
static void
test_distill_flow_improves (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) table = NULL;

  small_options (&o, EPD_SOLVER_EPD);
  epd_schedule_init (&o.schedule, EPD_SCHEDULE_FLOWMATCH);
  table = distill_small (denoiser, &o, &log);
  g_test_message ("flow: validation error %g -> %g", metadata_double (table, "val_error_initial"),
                  metadata_double (table, "val_error"));
  g_assert_cmpint (table->schedule.kind, ==, EPD_SCHEDULE_FLOWMATCH);
  g_assert_cmpfloat (metadata_double (table, "val_error"), <, 0.5 * metadata_double (table, "val_error_initial"));
}

static void
test_distill_plugin_improves (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) table = NULL;

  small_options (&o, EPD_SOLVER_EPD_PLUGIN);
  o.scale_dir_range = 0.1;
  o.scale_time_range = 0.1;
  table = distill_small (denoiser, &o, &log);
  g_assert_cmpstr (table->solver, ==, "epd-plugin");
  g_assert_nonnull (table->scale_dir);
  g_assert_nonnull (table->scale_time);
  g_assert_cmpfloat (metadata_double (table, "val_error"), <, metadata_double (table, "val_error_initial"));
}

static void
test_distill_deterministic (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) a = NULL, b = NULL;
  gsize n;

  small_options (&o, EPD_SOLVER_EPD);
  o.iterations = 20;
  o.batch = 8;
  a = distill_small (denoiser, &o, &log);
  b = distill_small (denoiser, &o, &log);
  n = (gsize) o.steps * o.n_points;
  g_assert_cmpmem (a->r, n * sizeof (double), b->r, n * sizeof (double));
  g_assert_cmpmem (a->weight, n * sizeof (double), b->weight, n * sizeof (double));
  g_assert_cmpfloat (metadata_double (a, "val_error"), ==, metadata_double (b, "val_error"));
}

/* Teacher states solved once and shared give the very same table. */
static void
test_distill_shared_teacher (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  guint dim = epd_denoiser_get_dim (denoiser);
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) a = NULL, b = NULL;
  g_autofree double *x_train = NULL, *x_val = NULL, *t_train = NULL, *t_val = NULL;
  gsize n;

  small_options (&o, EPD_SOLVER_EPD);
  o.iterations = 20;
  a = distill_small (denoiser, &o, &log);
  x_train = epd_distill_initial_states (&o, o.train_seed, o.n_train, dim);
  x_val = epd_distill_initial_states (&o, o.val_seed, o.n_val, dim);
  t_train = epd_distill_teacher_states (denoiser, &o, x_train, o.n_train, NULL, &error);
  g_assert_no_error (error);
  t_val = epd_distill_teacher_states (denoiser, &o, x_val, o.n_val, NULL, &error);
  g_assert_no_error (error);
  o.teacher_train = t_train;
  o.teacher_val = t_val;
  b = distill_small (denoiser, &o, &log);
  n = (gsize) o.steps * o.n_points;
  g_assert_cmpmem (a->r, n * sizeof (double), b->r, n * sizeof (double));
  g_assert_cmpmem (a->weight, n * sizeof (double), b->weight, n * sizeof (double));
}

static void
test_metadata_and_reload (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) table = NULL, loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-distill-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "table.json", NULL);
  const char *members[] = { "model", "model_description", "teacher", "teacher_rtol",
                            "train_seed", "val_seed", "n_train", "n_val", "iterations",
                            "learning_rate", "loss_curve", "val_curve", "val_iterations",
                            "val_error_per_step", "wall_time_s", "cancelled" };

  small_options (&o, EPD_SOLVER_EPD);
  o.iterations = 10;
  o.val_every = 5;
  table = distill_small (denoiser, &o, &log);
  for (gsize i = 0; i < G_N_ELEMENTS (members); i++)
    g_assert_true (json_object_has_member (table->metadata, members[i]));
  g_assert_cmpstr (json_object_get_string_member (table->metadata, "model"), ==, "gmm:ring8");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (table->metadata, "loss_curve")), ==, 10);
  /* Initial table, then iterations 5 and 10. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (table->metadata, "val_curve")), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (table->metadata, "val_error_per_step")), ==, o.steps);
  g_assert_true (epd_table_save (table, path, &error));
  g_assert_no_error (error);
  loaded = epd_table_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (table, loaded));
  g_assert_true (json_object_has_member (loaded->metadata, "loss_curve"));
  g_unlink (path);
  g_rmdir (dir);
}

/* Cancelled long before the next scheduled validation (every 100 iterations
 * here), the iterations done still count: the current parameters are validated
 * once more and win over the uniform start. */
static void
test_cancel_keeps_best (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  EpdDistillOptions o;
  ProgressLog log = { 0, 30, cancellable };
  g_autoptr(EpdTable) table = NULL, start = NULL;
  JsonArray *val_iterations;
  gsize n;

  small_options (&o, EPD_SOLVER_EPD);
  o.iterations = 100000;
  table = distill_small (denoiser, &o, &log);
  g_assert_true (json_object_get_boolean_member (table->metadata, "cancelled"));
  g_assert_cmpint (json_object_get_int_member (table->metadata, "iterations_done"), ==, 30);
  val_iterations = json_object_get_array_member (table->metadata, "val_iterations");
  g_assert_cmpuint (json_array_get_length (val_iterations), ==, 2);
  g_assert_cmpint (json_array_get_int_element (val_iterations, 1), ==, 30);
  g_assert_cmpint (json_object_get_int_member (table->metadata, "best_iteration"), ==, 30);
  g_assert_cmpfloat (metadata_double (table, "val_error"), <, metadata_double (table, "val_error_initial"));
  start = epd_table_new ("epd", o.steps, o.n_points);
  n = (gsize) o.steps * o.n_points;
  g_assert_true (memcmp (table->r, start->r, n * sizeof (double)) != 0);
}

/* The default validation interval is capped, so long runs validate often. */
static void
test_validation_interval (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  EpdDistillOptions o;
  ProgressLog log = { 0, 2 * EPD_DISTILL_MAX_VAL_EVERY, cancellable };
  g_autoptr(EpdTable) table = NULL;
  JsonArray *val_iterations;

  small_options (&o, EPD_SOLVER_EPD);
  o.n_train = o.n_val = 4;
  o.iterations = 100 * EPD_DISTILL_MAX_VAL_EVERY;
  table = distill_small (denoiser, &o, &log);
  val_iterations = json_object_get_array_member (table->metadata, "val_iterations");
  /* The start, then iterations 100 and 200 (the cancel falls on a validation). */
  g_assert_cmpuint (json_array_get_length (val_iterations), ==, 3);
  g_assert_cmpint (json_array_get_int_element (val_iterations, 1), ==, EPD_DISTILL_MAX_VAL_EVERY);
}

/* A learning rate that throws r = sigmoid(p) to the edge keeps r strictly
 * inside (0, 1): the run ends with a valid table instead of an error. */
static void
test_huge_learning_rate (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) table = NULL;
  gsize n;

  small_options (&o, EPD_SOLVER_EPD);
  o.iterations = 5;
  o.learning_rate = 1e308;
  o.scale_dir_range = 0.2;
  table = distill_small (denoiser, &o, &log);
  g_assert_true (epd_table_validate (table, NULL));
  n = (gsize) o.steps * o.n_points;
  for (gsize i = 0; i < n; i++)
    {
      g_assert_cmpfloat (table->r[i], >=, EPD_DISTILL_R_MIN);
      g_assert_cmpfloat (table->r[i], <=, 1.0 - EPD_DISTILL_R_MIN);
    }
  /* The projected parameters stay finite, so every validation was of a valid table. */
  g_assert_cmpint (json_object_get_int_member (table->metadata, "invalid_validations"), ==, 0);
}

typedef struct
{
  GMainLoop *loop;
  EpdTable  *table;
  GError    *error;
  gint       calls;     /* incremented on the worker thread */
} AsyncRun;

static void
on_async_progress (const EpdDistillProgress *p,
                   gpointer                  user_data)
{
  AsyncRun *run = user_data;

  g_atomic_int_inc (&run->calls);
}

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncRun *run = user_data;

  run->table = epd_distill_run_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

/* The GTask variant (what the GTK app uses) gives the same table as the plain call. */
static void
test_distill_async (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  AsyncRun run = { 0 };
  g_autoptr(EpdTable) sync = NULL;
  gsize n;

  small_options (&o, EPD_SOLVER_EPD_PLUGIN);
  o.iterations = 20;
  sync = distill_small (denoiser, &o, &log);
  run.loop = g_main_loop_new (NULL, FALSE);
  epd_distill_run_async (denoiser, &o, on_async_progress, &run, NULL, on_async_done, &run);
  g_main_loop_run (run.loop);
  g_assert_no_error (run.error);
  g_assert_nonnull (run.table);
  g_assert_cmpint (g_atomic_int_get (&run.calls), >=, (gint) o.iterations);
  n = (gsize) o.steps * o.n_points;
  g_assert_cmpmem (sync->r, n * sizeof (double), run.table->r, n * sizeof (double));
  g_assert_cmpmem (sync->weight, n * sizeof (double), run.table->weight, n * sizeof (double));
  epd_table_free (run.table);
  g_main_loop_unref (run.loop);
}

/* A 2-D mixture of six components of different widths, which no default was
 * tuned on. */
static EpdDenoiser *
open_small_mixture (void)
{
  static const double weights[] = { 0.25, 0.2, 0.15, 0.15, 0.15, 0.1 };
  static const double means[] = {
     1.5,  0.2,  -1.0,  1.3,   0.4, -1.6,
    -1.7, -0.9,   0.2,  1.9,   1.8, -1.4,
  };
  static const double stds[] = { 0.05, 0.3, 0.1, 0.2, 0.08, 0.4 };

  return EPD_DENOISER (epd_gmm_new (6, 2, weights, means, stds, "test-mix6", NULL));
}

/* Mean L2 error of a table on n noises of a seed that neither stage saw. */
static double
held_out_error (EpdDenoiser       *denoiser,
                const EpdTable    *table,
                guint32            seed,
                guint              n)
{
  guint dim = epd_denoiser_get_dim (denoiser);
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autofree double *x = NULL, *teacher = NULL;
  double err;

  epd_distill_options_init (&o);
  o.steps = table->steps;
  o.schedule = table->schedule;
  o.teacher_rtol = 1e-7;
  x = epd_distill_initial_states (&o, seed, n, dim);
  teacher = epd_distill_teacher_states (denoiser, &o, x, n, NULL, &error);
  g_assert_no_error (error);
  err = epd_distill_table_error (denoiser, table, x, teacher, n, NULL, &error);
  g_assert_no_error (error);
  return err;
}

static void
final_options (EpdDistillOptions *o)
{
  small_options (o, EPD_SOLVER_EPD);
  o->model_spec = "gmm:test-mix6";
  o->n_train = 32;
  o->n_val = 64;
  o->iterations = 300;
  o->scale_dir_range = EPD_DISTILL_DEFAULT_SCALE_DIR;
  o->scale_time_range = EPD_DISTILL_DEFAULT_SCALE_TIME;
  o->final_n_train = 128;
  o->final_batch = 128;
  o->final_iterations = 100;
}

/* The final stage lowers the error on held-out noises below the step-wise
 * stage's own, from the same start and settings. */
static void
test_final_stage_lowers_held_out (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_small_mixture ();
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) stepwise = NULL, both = NULL;
  JsonObject *f;
  double e_step, e_final;

  final_options (&o);
  o.final_iterations = 0;
  stepwise = distill_small (denoiser, &o, &log);
  g_assert_false (json_object_has_member (stepwise->metadata, "final_stage"));
  final_options (&o);
  both = distill_small (denoiser, &o, &log);
  f = json_object_get_object_member (both->metadata, "final_stage");
  g_assert_nonnull (f);
  /* The final stage starts from the step-wise stage's best table. */
  g_assert_cmpfloat (json_object_get_double_member (f, "val_error_start"), ==,
                     metadata_double (stepwise, "val_error"));
  g_assert_cmpstr (json_object_get_string_member (both->metadata, "best_stage"), ==, "final");
  /* The top-level records stay the step-wise stage's (epd compare --protocol's cache
   * compares them); the final stage's are its own. */
  g_assert_cmpint (json_object_get_int_member (both->metadata, "batch"), ==, o.n_train);
  g_assert_cmpint (json_object_get_int_member (both->metadata, "iterations_done"), ==, o.iterations);
  g_assert_cmpint (json_object_get_int_member (f, "batch"), ==, o.final_batch);
  e_step = held_out_error (denoiser, stepwise, 4242, 256);
  e_final = held_out_error (denoiser, both, 4242, 256);
  g_test_message ("held-out error: step-wise %g, with the final stage %g", e_step, e_final);
  g_assert_cmpfloat (e_final, <, 0.8 * e_step);
}

/* The final stage's gradient: zero for disabled scales, and a small step
 * against it lowers the final error it differentiates. */
static void
test_final_gradient_descends (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_small_mixture ();
  guint dim = epd_denoiser_get_dim (denoiser);
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autofree double *x = NULL, *teacher = NULL, *theta = NULL, *grad = NULL, *step = NULL;
  gsize n_par, n;
  double loss, moved, norm = 0.0;

  final_options (&o);
  o.scale_time_range = 0;
  n_par = epd_distill_n_params (&o);
  n = (gsize) o.steps * o.n_points;
  x = epd_distill_initial_states (&o, 7, 64, dim);
  teacher = epd_distill_teacher_states (denoiser, &o, x, 64, NULL, &error);
  g_assert_no_error (error);
  theta = g_new0 (double, n_par);
  grad = g_new (double, n_par);
  g_assert_true (epd_distill_final_loss_grad (denoiser, &o, theta, x, teacher + (o.steps - 1) * 64 * dim,
                                              64, &loss, grad, &error));
  g_assert_no_error (error);
  for (gsize i = 3 * n; i < 4 * n; i++)
    g_assert_cmpfloat (grad[i], ==, 0.0);
  for (gsize i = 0; i < n_par; i++)
    norm += grad[i] * grad[i];
  g_assert_cmpfloat (norm, >, 0.0);
  step = g_new (double, n_par);
  for (gsize i = 0; i < n_par; i++)
    step[i] = theta[i] - 1e-3 * grad[i] / sqrt (norm);
  g_assert_true (epd_distill_final_loss_grad (denoiser, &o, step, x, teacher + (o.steps - 1) * 64 * dim,
                                              64, &moved, NULL, &error));
  /* First order: the loss drops by about 1e-3 |grad|. */
  g_test_message ("final error %g -> %g, |grad| %g", loss, moved, sqrt (norm));
  g_assert_cmpfloat (fabs ((loss - moved) - 1e-3 * sqrt (norm)), <, 0.05 * 1e-3 * sqrt (norm));
}

/* The curve NAME of the final stage's records, as doubles. */
static GArray *
final_curve (const EpdTable *t,
             const char     *name)
{
  JsonArray *a = json_object_get_array_member (json_object_get_object_member (t->metadata, "final_stage"), name);
  GArray *v = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      double x = json_array_get_double_element (a, i);

      g_array_append_val (v, x);
    }
  return v;
}

/* The final stage's central differences run on several threads: the gradient
 * and the whole run are the same, bit for bit, for 1, 2 and 3 threads. */
static void
test_final_threads_bit_identical (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_small_mixture ();
  guint dim = epd_denoiser_get_dim (denoiser);
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;
  g_autofree double *x = NULL, *teacher = NULL, *theta = NULL, *grad1 = NULL;
  g_autoptr(EpdTable) one = NULL;
  gsize n_par, n;
  double loss1;

  final_options (&o);
  o.iterations = 60;
  o.final_iterations = 30;
  n_par = epd_distill_n_params (&o);
  n = (gsize) o.steps * o.n_points;
  x = epd_distill_initial_states (&o, 7, 64, dim);
  teacher = epd_distill_teacher_states (denoiser, &o, x, 64, NULL, &error);
  g_assert_no_error (error);
  theta = g_new (double, n_par);
  for (gsize i = 0; i < n_par; i++)
    theta[i] = 0.1 * sin (1.0 + i);
  grad1 = g_new (double, n_par);
  for (guint threads = 1; threads <= 3; threads++)
    {
      ProgressLog log = { 0 };
      g_autofree double *grad = g_new (double, n_par);
      g_autoptr(EpdTable) t = NULL;
      double loss;

      o.threads = threads;
      g_assert_true (epd_distill_final_loss_grad (denoiser, &o, theta, x, teacher + (o.steps - 1) * 64 * dim,
                                                  64, &loss, threads == 1 ? grad1 : grad, &error));
      g_assert_no_error (error);
      t = distill_small (denoiser, &o, &log);
      if (threads == 1)
        {
          loss1 = loss;
          one = g_steal_pointer (&t);
          continue;
        }
      g_assert_cmpmem (&loss, sizeof loss, &loss1, sizeof loss1);
      g_assert_cmpmem (grad, n_par * sizeof (double), grad1, n_par * sizeof (double));
      g_assert_cmpmem (t->r, n * sizeof (double), one->r, n * sizeof (double));
      g_assert_cmpmem (t->weight, n * sizeof (double), one->weight, n * sizeof (double));
      g_assert_cmpmem (t->scale_dir, n * sizeof (double), one->scale_dir, n * sizeof (double));
      g_assert_cmpmem (t->scale_time, n * sizeof (double), one->scale_time, n * sizeof (double));
      for (guint c = 0; c < 2; c++)
        {
          const char *name = c == 0 ? "loss_curve" : "val_curve";
          g_autoptr(GArray) a = final_curve (t, name), b = final_curve (one, name);

          g_assert_cmpuint (a->len, >, 0);
          g_assert_cmpmem (a->data, a->len * sizeof (double), b->data, b->len * sizeof (double));
        }
    }
}

/* Cancelled during the final stage, the run still returns the best table of
 * both stages, no worse than the step-wise stage's. */
static void
test_final_cancel_keeps_best (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_small_mixture ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  EpdDistillOptions o;
  ProgressLog log = { 0, 15, cancellable, "final" };
  g_autoptr(EpdTable) table = NULL;
  JsonObject *f;

  final_options (&o);
  table = distill_small (denoiser, &o, &log);
  g_assert_true (json_object_get_boolean_member (table->metadata, "cancelled"));
  f = json_object_get_object_member (table->metadata, "final_stage");
  g_assert_cmpint (json_object_get_int_member (f, "iterations_done"), ==, 15);
  g_assert_cmpint (json_object_get_int_member (table->metadata, "iterations_done"), ==, o.iterations);
  g_assert_cmpfloat (metadata_double (table, "val_error"), <=, json_object_get_double_member (f, "val_error_start"));
}

/* The grid search distils on three grids and keeps the one with the lowest
 * validation error; the run is deterministic, the same on 1 and 2 threads
 * (grids and central differences spread over them). */
static void
test_schedule_search (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_small_mixture ();
  EpdDistillOptions o;
  ProgressLog log = { 0 };
  g_autoptr(EpdTable) a = NULL, b = NULL;
  JsonArray *tried;
  double lowest = INFINITY;
  gsize n;

  final_options (&o);
  o.iterations = 100;
  o.final_iterations = 20;
  o.search_schedule = TRUE;
  o.threads = 2;
  a = distill_small (denoiser, &o, &log);
  o.threads = 1;
  b = distill_small (denoiser, &o, &log);
  tried = json_object_get_array_member (a->metadata, "schedule_search");
  g_assert_cmpuint (json_array_get_length (tried), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *e = json_array_get_object_element (tried, i);

      if (json_object_get_double_member (e, "val_error") < lowest)
        {
          lowest = json_object_get_double_member (e, "val_error");
          g_assert_true (epd_schedule_kind_from_string (json_object_get_string_member (e, "schedule"),
                                                        &o.schedule.kind, NULL));
        }
    }
  g_assert_cmpint (a->schedule.kind, ==, o.schedule.kind);
  g_assert_cmpfloat (metadata_double (a, "val_error"), <=, lowest);
  /* The step-wise records of the chosen grid are kept. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (a->metadata, "loss_curve")), ==, 100);
  n = (gsize) o.steps * o.n_points;
  g_assert_cmpmem (a->r, n * sizeof (double), b->r, n * sizeof (double));
  g_assert_cmpmem (a->scale_dir, n * sizeof (double), b->scale_dir, n * sizeof (double));
  g_assert_cmpmem (a->weight, n * sizeof (double), b->weight, n * sizeof (double));
  g_assert_cmpmem (a->scale_time, n * sizeof (double), b->scale_time, n * sizeof (double));
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *ea = json_array_get_object_element (tried, i);
      JsonObject *eb = json_array_get_object_element (json_object_get_array_member (b->metadata, "schedule_search"), i);
      double va = json_object_get_double_member (ea, "val_error"), vb = json_object_get_double_member (eb, "val_error");

      g_assert_cmpstr (json_object_get_string_member (ea, "schedule"), ==, json_object_get_string_member (eb, "schedule"));
      g_assert_cmpmem (&va, sizeof va, &vb, sizeof vb);
    }
}

static void
test_bad_options (void)
{
  EpdDistillOptions o;
  g_autoptr(GError) error = NULL;

  small_options (&o, EPD_SOLVER_EPD);
  o.val_seed = o.train_seed;
  g_assert_false (epd_distill_options_validate (&o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  small_options (&o, EPD_SOLVER_HEUN);
  g_assert_false (epd_distill_options_validate (&o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  small_options (&o, EPD_SOLVER_EPD);
  o.scale_dir_range = 1.5;
  g_assert_false (epd_distill_options_validate (&o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

/* The paper's teacher: Heun on the grid refined M times passes through every
 * grid time; its states there are those of a plain Heun solve with steps * (M + 1)
 * intervals, and close to (but not equal to) the adaptive teacher's. */
static void
test_heun_teacher (void)
{
  g_autoptr(EpdDenoiser) denoiser = open_preset ("ring8");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTrace) trace = epd_trace_new ();
  const gsize B = 8, dim = 2, nd = B * dim;
  g_autofree double *z = epd_random_latents (5, B, dim);
  g_autofree double *x0 = g_new (double, nd);
  g_autofree double *heun = NULL, *adaptive = NULL;
  g_autofree double *fine_out = g_new (double, nd);
  EpdDistillOptions o;
  EpdSolveOptions so;
  double max_gap = 0.0;

  small_options (&o, EPD_SOLVER_EPD);
  o.steps = 4;
  o.teacher_rtol = 1e-10;
  epd_solve_options_init (&so);
  so.schedule = o.schedule;
  so.steps = o.steps;
  epd_solve_init_from_noise (&so, z, nd, x0);
  adaptive = epd_distill_teacher_states (denoiser, &o, x0, B, NULL, &error);
  g_assert_no_error (error);
  o.teacher_heun_m = 3;
  g_assert_true (epd_distill_options_validate (&o, &error));
  heun = epd_distill_teacher_states (denoiser, &o, x0, B, NULL, &error);
  g_assert_no_error (error);

  so.solver = EPD_SOLVER_HEUN;
  so.steps = 16;
  g_assert_true (epd_solve (denoiser, &so, x0, B, fine_out, trace, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint n = 1; n < o.steps; n++)
    g_assert_cmpmem (heun + (n - 1) * nd, nd * sizeof (double),
                     epd_trace_get_step (trace, 4 * n)->x, nd * sizeof (double));
  g_assert_cmpmem (heun + (o.steps - 1) * nd, nd * sizeof (double), fine_out, nd * sizeof (double));
  for (gsize i = 0; i < o.steps * nd; i++)
    max_gap = MAX (max_gap, fabs (heun[i] - adaptive[i]));
  g_test_message ("Heun M=3 against the adaptive teacher: max gap %g", max_gap);
  g_assert_cmpfloat (max_gap, >, 1e-8);
  g_assert_cmpfloat (max_gap, <, 0.5);

  o.teacher_heun_m = EPD_DISTILL_MAX_TEACHER_HEUN + 1;
  g_assert_false (epd_distill_options_validate (&o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/distill/gradient/epd", test_gradient_epd);
  g_test_add_func ("/distill/gradient/plugin", test_gradient_plugin);
  g_test_add_func ("/distill/gradient/fd-jvp", test_gradient_fd_jvp);
  g_test_add_func ("/distill/forward-matches-solver-step", test_forward_matches_solver_step);
  g_test_add_func ("/distill/table-error-matches-solve", test_table_error_matches_solve);
  g_test_add_func ("/distill/improves", test_distill_improves);
  g_test_add_func ("/distill/plugin-improves", test_distill_plugin_improves);
  g_test_add_func ("/distill/flow-improves", test_distill_flow_improves);
  g_test_add_func ("/distill/deterministic", test_distill_deterministic);
  g_test_add_func ("/distill/shared-teacher", test_distill_shared_teacher);
  g_test_add_func ("/distill/metadata-and-reload", test_metadata_and_reload);
  g_test_add_func ("/distill/cancel-keeps-best", test_cancel_keeps_best);
  g_test_add_func ("/distill/validation-interval", test_validation_interval);
  g_test_add_func ("/distill/huge-learning-rate", test_huge_learning_rate);
  g_test_add_func ("/distill/async", test_distill_async);
  g_test_add_func ("/distill/bad-options", test_bad_options);
  g_test_add_func ("/distill/final/lowers-held-out", test_final_stage_lowers_held_out);
  g_test_add_func ("/distill/final/gradient-descends", test_final_gradient_descends);
  g_test_add_func ("/distill/final/cancel-keeps-best", test_final_cancel_keeps_best);
  g_test_add_func ("/distill/final/threads-bit-identical", test_final_threads_bit_identical);
  g_test_add_func ("/distill/schedule-search", test_schedule_search);
  g_test_add_func ("/distill/heun-teacher", test_heun_teacher);
  return g_test_run ();
}
