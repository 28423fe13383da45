/* SPDX-License-Identifier: MIT */
/* test-solve-job.c: the studio's live solve job, without GTK. */
#include "epd-solve-job.h"
#include "epd-studio-jobs.h"
#include "epd-model.h"

#include <math.h>

static EpdSolveRequest *
make_request (EpdDenoiser   *model,
              const EpdTable *table,
              guint32        seed,
              EpdTeacherRun *teacher)
{
  /* The window's key names the model, so that no other model's teacher is taken. */
  g_autofree char *key = g_strdup_printf ("%s|cpu", epd_denoiser_describe (model));
  EpdSolveOptions options;

  epd_solve_options_init (&options);
  options.solver = EPD_SOLVER_EPD;
  options.steps = table->steps;
  options.afs = TRUE;
  return epd_solve_request_new (model, key, &options, table, seed, 64, teacher);
}

static void
test_job (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdSolveRequest) first = NULL;
  g_autoptr(EpdSolveRequest) again = NULL;
  g_autoptr(EpdSolveRequest) reseeded = NULL;
  g_autoptr(EpdSolveResult) a = NULL;
  g_autoptr(EpdSolveResult) b = NULL;
  g_autoptr(EpdSolveResult) c = NULL;
  const EpdErrorCurve *curve;

  g_assert_no_error (error);
  first = make_request (model, table, 7, NULL);
  a = epd_solve_request_run (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_trace_n_steps (a->trace), ==, 3);
  g_assert_cmpuint (a->trace->batch, ==, 64);
  g_assert_cmpuint (a->nfe.latency, ==, 5);
  g_assert_nonnull (a->teacher);
  /* The table's curve, then Euler, DPM-Solver++(2M) and iPNDM on the same grid. */
  g_assert_cmpuint (a->errors->curves->len, ==, 4);
  curve = a->errors->curves->pdata[0];
  g_assert_cmpuint (curve->n_points, ==, 4);
  g_assert_cmpfloat (curve->per_step[0], ==, 0);
  g_assert_true (isfinite (a->final_error) && a->final_error > 0);
  g_assert_cmpfloat (curve->per_step[3], ==, a->final_error);
  /* A 2-D model also gets final error against NFE: the table's point and 3 baselines. */
  g_assert_cmpuint (a->errors->sweeps->len, ==, 4);

  /* Same model, grid, seed and batch: the teacher is reused, not recomputed. */
  table->weight[0] = 0.9;
  table->weight[1] = 0.1;
  again = make_request (model, table, 7, a->teacher);
  b = epd_solve_request_run (again, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (b->teacher == a->teacher);
  g_assert_cmpfloat (b->final_error, !=, a->final_error);

  /* Another seed is another teacher. */
  reseeded = make_request (model, table, 8, a->teacher);
  c = epd_solve_request_run (reseeded, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (c->teacher != a->teacher);
}

static void
test_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdSolveRequest) request = make_request (model, table, 1, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_cancellable_cancel (cancellable);
  g_assert_null (epd_solve_request_run (request, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

typedef struct
{
  gboolean  returned;
  GError   *error;
} Returned;

static void
job_returned (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Returned *returned = user_data;
  g_autoptr(EpdSolveResult) solved = epd_solve_request_run_finish (result, &returned->error);

  epd_studio_jobs_remove (g_task_get_cancellable (G_TASK (result)));
  returned->returned = TRUE;
}

/* Quitting: a long job (the teacher of 200000 paths) is cancelled and its
 * callback has run when cancel_and_wait returns; a job started afterwards is
 * cancelled at once. */
static void
test_cancel_and_wait (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) late = g_cancellable_new ();
  EpdSolveOptions options;
  Returned returned = { FALSE, NULL };

  epd_solve_options_init (&options);
  options.steps = 3;
  epd_studio_jobs_add (cancellable);
  epd_solve_request_run_async (epd_solve_request_new (model, "gmm:ring8|cpu", &options, table, 1, 200000, NULL),
                               cancellable, job_returned, &returned);
  g_usleep (50000);
  g_assert_cmpuint (epd_studio_jobs_n_running (), ==, 1);
  g_assert_true (epd_studio_jobs_cancel_and_wait (60000));
  g_assert_true (returned.returned);
  g_assert_error (returned.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (epd_studio_jobs_n_running (), ==, 0);
  g_clear_error (&returned.error);
  epd_studio_jobs_add (late);
  g_assert_true (g_cancellable_is_cancelled (late));
  epd_studio_jobs_remove (late);
}

/* A request reports its phases: the teacher's noise level comes all the way
 * down, and every baseline solve is counted. */
static void
test_progress (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdSolveRequest) request = NULL;
  g_autoptr(EpdSolveResult) result = NULL;
  g_autoptr(EpdSolveProgress) progress = epd_solve_progress_new ();
  double fraction = -1;

  g_assert_no_error (error);
  request = make_request (model, table, 7, NULL);
  request->progress = epd_solve_progress_ref (progress);
  result = epd_solve_request_run (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result->teacher);
  g_assert_cmpint (epd_solve_progress_get (progress, &fraction), ==, EPD_SOLVE_PHASE_DONE);
  g_assert_cmpfloat (fraction, ==, 1);
  g_test_message ("teacher reached %.3f, baselines %.3f", epd_solve_progress_reached (progress, EPD_SOLVE_PHASE_TEACHER),
                  epd_solve_progress_reached (progress, EPD_SOLVE_PHASE_BASELINES));
  g_assert_cmpfloat (epd_solve_progress_reached (progress, EPD_SOLVE_PHASE_TEACHER), >=, 0.999);
  g_assert_cmpfloat (epd_solve_progress_reached (progress, EPD_SOLVE_PHASE_BASELINES), ==, 1);
}

/* The per-step curves compare at the student's latency NFE: EPD's 3 steps
 * with AFS (NFE 5) against Euler, DPM++(2M) and iPNDM on 6 steps (NFE 5),
 * each against the teacher on its own grid; every curve ends at NFE 5. On a
 * 2-D mixture and on an image model alike. */
static void
test_equal_nfe (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (data, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdSolveRequest) request = NULL;
  g_autoptr(EpdSolveResult) result = NULL;

  g_assert_no_error (error);
  request = make_request (model, table, 7, NULL);
  result = epd_solve_request_run (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->errors->curves->len, ==, 4);
  for (guint c = 0; c < result->errors->curves->len; c++)
    {
      const EpdErrorCurve *curve = result->errors->curves->pdata[c];

      g_test_message ("%s: %u grid points, NFE %g, final error %.4g", curve->name, curve->n_points,
                      curve->nfe[curve->n_points - 1], curve->per_step[curve->n_points - 1]);
      g_assert_nonnull (curve->nfe);
      g_assert_cmpfloat (curve->nfe[0], ==, 0);
      g_assert_cmpfloat (curve->nfe[curve->n_points - 1], ==, 5);
      g_assert_cmpuint (curve->n_points, ==, c == 0 ? 4 : 7);
      g_assert_true (isfinite (curve->per_step[curve->n_points - 1]));
    }
  g_assert_nonnull (result->teacher->baseline_trace);
  g_assert_cmpuint (epd_trace_n_steps (result->teacher->baseline_trace), ==, 6);
}

/* A request made without a teacher takes the one another request just solved
 * under the same key, rather than solving it again. */
static void
test_shared_teacher (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdSolveRequest) first = NULL;
  g_autoptr(EpdSolveRequest) second = NULL;
  g_autoptr(EpdSolveRequest) other = NULL;
  g_autoptr(EpdSolveResult) a = NULL;
  g_autoptr(EpdSolveResult) b = NULL;
  g_autoptr(EpdSolveResult) c = NULL;

  g_assert_no_error (error);
  first = make_request (model, table, 11, NULL);
  second = make_request (model, table, 11, NULL);
  other = make_request (model, table, 12, NULL);
  a = epd_solve_request_run (first, NULL, &error);
  b = epd_solve_request_run (second, NULL, &error);
  c = epd_solve_request_run (other, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (a->teacher == b->teacher);
  g_assert_true (c->teacher != a->teacher);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/solve-job/teacher-reuse", test_job);
  g_test_add_func ("/solve-job/cancelled", test_cancelled);
  /* Last: after it, every new job is cancelled at once. */
  g_test_add_func ("/solve-job/cancel-and-wait", test_cancel_and_wait);
  g_test_add_func ("/solve-job/progress", test_progress);
  g_test_add_data_func ("/solve-job/equal-nfe/mixture", EPD_DEFAULT_MODEL, test_equal_nfe);
  g_test_add_data_func ("/solve-job/equal-nfe/images", "dataset:fashion-mnist:64", test_equal_nfe);
  g_test_add_func ("/solve-job/shared-teacher", test_shared_teacher);
  return g_test_run ();
}
