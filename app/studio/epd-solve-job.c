/* SPDX-License-Identifier: MIT */
/* epd-solve-job.c: student, teacher and error data of one live solve. */
#include "epd-solve-job.h"
#include "epd-app-policy.h"

#include <math.h>

/* Denoisers need not be thread-safe (a Vulkan queue is not): jobs take turns.
 * A stale job is cancelled, and epd_solve returns at its next step. */
static GMutex solve_lock;
/* The last teacher solved, under solve_lock: a job that waited while another
 * (the window's, Compare's) solved the same teacher takes it instead of
 * solving it again (minutes on a learned model). */
static EpdTeacherRun *latest_teacher;

static const EpdSolverKind baselines[] = {
  EPD_SOLVER_EULER, EPD_SOLVER_DPMPP2M, EPD_SOLVER_IPNDM,
};
static const guint sweep_steps[] = { 2, 3, 4, 5, 6, 8, 10 };
/* Image models: each solve costs a good part of a second, so fewer grids. */
static const guint sweep_steps_images[] = { 2, 4, 6 };

static void teacher_run_clear (gpointer data);

/* ---- progress ---------------------------------------------------------- */

struct _EpdSolveProgress
{
  gint phase;     /* EpdSolvePhase */
  gint permille;  /* how far the phase has come, 0..1000 */
  gint reached[EPD_SOLVE_PHASE_DONE + 1];  /* where each phase ended (worker thread) */
};

EpdSolveProgress *
epd_solve_progress_new (void)
{
  return g_atomic_rc_box_new0 (EpdSolveProgress);
}

EpdSolveProgress *
epd_solve_progress_ref (EpdSolveProgress *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
epd_solve_progress_unref (EpdSolveProgress *self)
{
  if (self != NULL)
    g_atomic_rc_box_release (self);
}

EpdSolvePhase
epd_solve_progress_get (EpdSolveProgress *self,
                        double           *fraction)
{
  *fraction = g_atomic_int_get (&self->permille) / 1000.0;
  return g_atomic_int_get (&self->phase);
}

const char *
epd_solve_phase_describe (EpdSolvePhase phase)
{
  static const char *text[] = { "Waiting for another solve", "Solving", "Solving the teacher",
                                "Solving the baselines", "Done" };

  return text[MIN ((guint) phase, G_N_ELEMENTS (text) - 1)];
}

double
epd_solve_progress_reached (EpdSolveProgress *self,
                            EpdSolvePhase     phase)
{
  return g_atomic_int_get (&self->reached[phase]) / 1000.0;
}

static void
progress_set (EpdSolveProgress *self,
              EpdSolvePhase     phase,
              double            fraction)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->reached[self->phase], g_atomic_int_get (&self->permille));
  g_atomic_int_set (&self->permille, (gint) (CLAMP (fraction, 0, 1) * 1000));
  g_atomic_int_set (&self->phase, phase);
}

/* The teacher's own steps are adaptive: it reports through its denoiser,
 * whose noise level comes down from sigma_max to sigma_min (log scale). */
#define EPD_TYPE_PROGRESS_DENOISER (epd_progress_denoiser_get_type ())
G_DECLARE_FINAL_TYPE (EpdProgressDenoiser, epd_progress_denoiser, EPD, PROGRESS_DENOISER, GObject)

struct _EpdProgressDenoiser
{
  GObject           parent_instance;
  EpdDenoiser      *inner;
  EpdSolveProgress *progress;
  double            log_max;
  double            log_span;
};

static void epd_progress_denoiser_iface_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdProgressDenoiser, epd_progress_denoiser, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, epd_progress_denoiser_iface_init))

static guint
progress_get_dim (EpdDenoiser *self)
{
  return epd_denoiser_get_dim (EPD_PROGRESS_DENOISER (self)->inner);
}

static const char *
progress_describe (EpdDenoiser *self)
{
  return epd_denoiser_describe (EPD_PROGRESS_DENOISER (self)->inner);
}

static gboolean
progress_denoise (EpdDenoiser  *denoiser,
                  const double *x,
                  const double *sigma,
                  gsize         batch,
                  double       *out,
                  GError      **error)
{
  EpdProgressDenoiser *self = EPD_PROGRESS_DENOISER (denoiser);

  if (batch > 0 && sigma[0] > 0 && self->log_span > 0)
    {
      gint permille = (gint) (CLAMP ((self->log_max - log (sigma[0])) / self->log_span, 0, 1) * 1000);
      /* Trial steps may go back up: the bar only moves forward. */
      if (permille > g_atomic_int_get (&self->progress->permille))
        g_atomic_int_set (&self->progress->permille, permille);
    }
  return epd_denoiser_denoise (self->inner, x, sigma, batch, out, error);
}

static gboolean
progress_get_image_shape (EpdDenoiser *self,
                          guint       *side,
                          guint       *channels)
{
  return epd_denoiser_get_image_shape (EPD_PROGRESS_DENOISER (self)->inner, side, channels);
}

static gboolean
progress_get_sigma_range (EpdDenoiser *self,
                          double      *sigma_min,
                          double      *sigma_max)
{
  return epd_denoiser_get_sigma_range (EPD_PROGRESS_DENOISER (self)->inner, sigma_min, sigma_max);
}

static void
epd_progress_denoiser_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = progress_get_dim;
  iface->describe = progress_describe;
  iface->denoise = progress_denoise;
  iface->get_image_shape = progress_get_image_shape;
  iface->get_sigma_range = progress_get_sigma_range;
}

static void
epd_progress_denoiser_finalize (GObject *object)
{
  EpdProgressDenoiser *self = EPD_PROGRESS_DENOISER (object);

  g_object_unref (self->inner);
  epd_solve_progress_unref (self->progress);
  G_OBJECT_CLASS (epd_progress_denoiser_parent_class)->finalize (object);
}

static void
epd_progress_denoiser_class_init (EpdProgressDenoiserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_progress_denoiser_finalize;
}

static void
epd_progress_denoiser_init (EpdProgressDenoiser *self)
{
}

static EpdDenoiser *
progress_denoiser_new (EpdDenoiser       *inner,
                       EpdSolveProgress  *progress,
                       const EpdSchedule *schedule)
{
  EpdProgressDenoiser *self = g_object_new (EPD_TYPE_PROGRESS_DENOISER, NULL);

  self->inner = g_object_ref (inner);
  self->progress = epd_solve_progress_ref (progress);
  self->log_max = log (schedule->sigma_max);
  self->log_span = log (schedule->sigma_max / schedule->sigma_min);
  return EPD_DENOISER (self);
}

EpdTeacherRun *
epd_teacher_run_ref (EpdTeacherRun *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
epd_teacher_run_unref (EpdTeacherRun *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, teacher_run_clear);
}

EpdSolveRequest *
epd_solve_request_new (EpdDenoiser           *model,
                       const char            *model_key,
                       const EpdSolveOptions *options,
                       const EpdTable        *table,
                       guint32                seed,
                       gsize                  batch,
                       EpdTeacherRun         *teacher)
{
  EpdSolveRequest *self = g_new0 (EpdSolveRequest, 1);

  self->model = g_object_ref (model);
  self->model_key = g_strdup (model_key);
  self->options = *options;
  self->table = table != NULL ? epd_table_copy (table) : NULL;
  self->options.table = self->table;
  self->seed = seed;
  self->batch = batch;
  self->teacher = teacher != NULL ? epd_teacher_run_ref (teacher) : NULL;
  self->teacher_wanted = TRUE;
  self->created_us = g_get_monotonic_time ();
  return self;
}

void
epd_solve_request_free (EpdSolveRequest *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->model);
  g_free (self->model_key);
  epd_table_free (self->table);
  epd_teacher_run_unref (self->teacher);
  epd_solve_progress_unref (self->progress);
  g_free (self);
}

guint
epd_steps_for_latency (const EpdSolveOptions *options,
                       guint                  latency,
                       guint                  max_steps)
{
  EpdSolveOptions o = *options;
  guint best = MAX (options->steps, 1), best_gap = G_MAXUINT;

  for (o.steps = 1; o.steps <= max_steps; o.steps++)
    {
      guint nfe = epd_solve_options_nfe (&o).latency;
      guint gap = nfe > latency ? nfe - latency : latency - nfe;

      if (gap < best_gap)
        {
          best_gap = gap;
          best = o.steps;
        }
    }
  return best;
}

/* The baselines (one evaluation a step each) run at the student's latency NFE,
 * on every model: with the reference tolerance following the model's cost
 * (epd_studio_teacher_rtol), the teacher on their grid takes seconds on image
 * models too. */
static guint
baseline_steps (const EpdSolveRequest *self)
{
  EpdSolveOptions options = self->options;

  options.solver = baselines[0];
  options.table = NULL;
  return epd_steps_for_latency (&options, epd_solve_options_nfe (&self->options).latency, EPD_NFE_MAX);
}

char *
epd_solve_request_teacher_key (const EpdSolveRequest *self)
{
  const EpdSchedule *s = &self->options.schedule;

  return g_strdup_printf ("%s|%d|%.17g|%.17g|%.17g|%.17g|%u|%u|%" G_GSIZE_FORMAT "|%u",
                          self->model_key, s->kind, s->sigma_min, s->sigma_max, s->rho, s->shift,
                          self->options.steps, self->seed, self->batch, baseline_steps (self));
}

/* The latency NFE spent to reach each of the grid points 0..steps. */
static double *
nfe_spent (const EpdSolveOptions *options,
           guint                  steps)
{
  EpdSolveOptions o = *options;
  double *nfe = g_new (double, steps + 1);

  for (guint n = 0; n <= steps; n++)
    {
      o.steps = n;
      nfe[n] = n == 0 ? 0 : epd_solve_options_nfe (&o).latency;
    }
  return nfe;
}

void
epd_solve_result_free (EpdSolveResult *self)
{
  if (self == NULL)
    return;
  epd_trace_free (self->trace);
  epd_teacher_run_unref (self->teacher);
  epd_error_report_free (self->errors);
  g_free (self);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static char *
solver_label (const EpdSolveOptions *options)
{
  EpdNfe nfe = epd_solve_options_nfe (options);

  return g_strdup_printf ("%s (NFE %u)", epd_solver_kind_to_string (options->solver), nfe.latency);
}

/* The baselines on the student's grid, then on each grid of the sweep. */
static guint
n_baseline_solves (const EpdSolveRequest *self)
{
  guint n_steps = epd_denoiser_get_dim (self->model) <= 64 ? G_N_ELEMENTS (sweep_steps)
                                                           : G_N_ELEMENTS (sweep_steps_images);

  return G_N_ELEMENTS (baselines) * (1 + n_steps);
}

/* Per-step error of the baselines at the student's latency NFE (small models)
 * or on its grid (images), each against the teacher on its own grid. */
static gboolean
add_baselines (EpdSolveRequest *self,
               const double    *x_init,
               EpdTeacherRun   *run,
               GCancellable    *cancellable,
               GError         **error)
{
  guint dim = epd_denoiser_get_dim (self->model);
  g_autofree double *x_out = g_new (double, self->batch * dim);
  const EpdTrace *teacher = run->baseline_trace != NULL ? run->baseline_trace : run->trace;

  for (guint b = 0; b < G_N_ELEMENTS (baselines); b++)
    {
      EpdSolveOptions options = self->options;
      g_autoptr(EpdTrace) trace = epd_trace_new ();
      g_autofree char *name = NULL;
      double *per_step;

      options.solver = baselines[b];
      options.table = NULL;
      options.steps = epd_trace_n_steps (teacher);
      if (!epd_solve (self->model, &options, x_init, self->batch, x_out, trace, NULL, cancellable, error))
        return FALSE;
      progress_set (self->progress, EPD_SOLVE_PHASE_BASELINES, (double) (b + 1) / n_baseline_solves (self));
      per_step = epd_trace_error_per_step (trace, teacher, error);
      if (per_step == NULL)
        return FALSE;
      name = solver_label (&options);
      epd_error_report_add_curve_nfe (run->baselines, name, per_step, nfe_spent (&options, options.steps),
                                      options.steps + 1);
    }
  return TRUE;
}

/* Final error against NFE of the baselines over several grids. */
static gboolean
add_sweep (EpdSolveRequest *self,
           const double    *x_init,
           EpdTeacherRun   *run,
           GCancellable    *cancellable,
           GError         **error)
{
  guint dim = epd_denoiser_get_dim (self->model);
  g_autofree double *x_out = g_new (double, self->batch * dim);
  const guint *steps = dim <= 64 ? sweep_steps : sweep_steps_images;
  guint n_steps = dim <= 64 ? G_N_ELEMENTS (sweep_steps) : G_N_ELEMENTS (sweep_steps_images);

  for (guint b = 0; b < G_N_ELEMENTS (baselines); b++)
    for (guint s = 0; s < n_steps; s++)
      {
        EpdSolveOptions options = self->options;
        EpdNfe nfe;

        options.solver = baselines[b];
        options.table = NULL;
        options.steps = steps[s];
        if (!epd_solve (self->model, &options, x_init, self->batch, x_out, NULL, &nfe, cancellable, error))
          return FALSE;
        progress_set (self->progress, EPD_SOLVE_PHASE_BASELINES,
                      (double) (G_N_ELEMENTS (baselines) + b * n_steps + s + 1) / n_baseline_solves (self));
        epd_error_report_add_point (run->baselines, epd_solver_kind_to_string (baselines[b]),
                                    nfe.latency, epd_final_error (x_out, run->trace->x_final,
                                                                  self->batch, dim));
      }
  return TRUE;
}

static void
teacher_run_clear (gpointer data)
{
  EpdTeacherRun *self = data;

  g_free (self->key);
  epd_trace_free (self->trace);
  epd_trace_free (self->baseline_trace);
  epd_error_report_free (self->baselines);
}

/* The teacher again on the baselines' grid, when theirs is another. */
static gboolean
solve_baseline_teacher (EpdSolveRequest       *self,
                        EpdDenoiser           *teacher_model,
                        const EpdSolveOptions *teacher_options,
                        const double          *x_init,
                        EpdTeacherRun         *run,
                        GCancellable          *cancellable,
                        GError               **error)
{
  EpdSolveOptions options = *teacher_options;
  g_autofree double *x_out = g_new (double, self->batch * epd_denoiser_get_dim (self->model));

  options.steps = baseline_steps (self);
  if (options.steps == self->options.steps)
    return TRUE;
  run->baseline_trace = epd_trace_new ();
  return epd_solve (teacher_model, &options, x_init, self->batch, x_out, run->baseline_trace, NULL,
                    cancellable, error);
}

static EpdTeacherRun *
run_teacher (EpdSolveRequest *self,
             const double    *x_init,
             char            *key,
             GCancellable    *cancellable,
             GError         **error)
{
  EpdSolveOptions options = self->options;
  guint dim = epd_denoiser_get_dim (self->model);
  g_autofree double *x_out = g_new (double, self->batch * dim);
  EpdTeacherRun *run = g_atomic_rc_box_new0 (EpdTeacherRun);
  g_autoptr(EpdDenoiser) teacher_model = NULL;

  run->key = g_strdup (key);
  run->trace = epd_trace_new ();
  run->baselines = epd_error_report_new ();
  options.solver = EPD_SOLVER_TEACHER;
  options.table = NULL;
  /* Image models and learned networks: a looser tolerance keeps the reference
   * to seconds. */
  options.teacher_rtol = epd_studio_teacher_rtol (self->model, options.teacher_rtol);
  teacher_model = self->progress != NULL ? progress_denoiser_new (self->model, self->progress, &options.schedule)
                                         : g_object_ref (self->model);
  progress_set (self->progress, EPD_SOLVE_PHASE_TEACHER, 0);
  if (!epd_solve (teacher_model, &options, x_init, self->batch, x_out, run->trace, NULL, cancellable, error) ||
      !solve_baseline_teacher (self, teacher_model, &options, x_init, run, cancellable, error) ||
      !add_baselines (self, x_init, run, cancellable, error) ||
      !add_sweep (self, x_init, run, cancellable, error))
    {
      g_atomic_rc_box_release_full (run, teacher_run_clear);
      return NULL;
    }
  return run;
}

/* The table's curve first, then copies of the baselines'. */
static gboolean
add_errors (EpdSolveRequest *self,
            EpdSolveResult  *result,
            GError         **error)
{
  g_autofree char *name = solver_label (&self->options);
  const EpdErrorReport *baseline = result->teacher->baselines;
  double *per_step = epd_trace_error_per_step (result->trace, result->teacher->trace, error);
  guint n_points = epd_trace_n_steps (result->trace) + 1;

  if (per_step == NULL)
    return FALSE;
  result->final_error = per_step[n_points - 1];
  epd_error_report_add_curve_nfe (result->errors, name, per_step, nfe_spent (&self->options, n_points - 1),
                                  n_points);
  for (guint c = 0; c < baseline->curves->len; c++)
    {
      const EpdErrorCurve *curve = baseline->curves->pdata[c];
      epd_error_report_add_curve_nfe (result->errors, curve->name,
                                      g_memdup2 (curve->per_step, curve->n_points * sizeof (double)),
                                      g_memdup2 (curve->nfe, curve->n_points * sizeof (double)),
                                      curve->n_points);
    }
  epd_error_report_add_point (result->errors, "this table", result->nfe.latency, result->final_error);
  for (guint s = 0; s < baseline->sweeps->len; s++)
    {
      const EpdErrorSweep *sweep = baseline->sweeps->pdata[s];
      for (guint i = 0; i < sweep->nfe->len; i++)
        epd_error_report_add_point (result->errors, sweep->name, g_array_index (sweep->nfe, double, i),
                                    g_array_index (sweep->error, double, i));
    }
  return TRUE;
}

static gboolean
run_locked (EpdSolveRequest *self,
            EpdSolveResult  *result,
            GCancellable    *cancellable,
            GError         **error)
{
  guint dim = epd_denoiser_get_dim (self->model);
  gsize n = self->batch * dim;
  g_autofree double *z = epd_random_latents (self->seed, self->batch, dim);
  g_autofree double *x_init = g_new (double, n);
  g_autofree double *x_out = g_new (double, n);
  g_autofree char *key = epd_solve_request_teacher_key (self);
  double start = now_ms ();

  epd_solve_init_from_noise (&self->options, z, n, x_init);
  progress_set (self->progress, EPD_SOLVE_PHASE_STUDENT, 0);
  if (!epd_solve (self->model, &self->options, x_init, self->batch, x_out, result->trace,
                  &result->nfe, cancellable, error))
    return FALSE;
  result->solve_ms = now_ms () - start;
  if (self->teacher != NULL && g_strcmp0 (self->teacher->key, key) == 0)
    result->teacher = epd_teacher_run_ref (self->teacher);
  else if (self->teacher_wanted && latest_teacher != NULL && g_strcmp0 (latest_teacher->key, key) == 0)
    result->teacher = epd_teacher_run_ref (latest_teacher);
  else if (self->teacher_wanted && (result->teacher = run_teacher (self, x_init, key, cancellable, error)) != NULL)
    {
      epd_teacher_run_unref (latest_teacher);
      latest_teacher = epd_teacher_run_ref (result->teacher);
    }
  if (self->teacher_wanted && result->teacher == NULL)
    return FALSE;
  return result->teacher == NULL || add_errors (self, result, error);
}

EpdSolveResult *
epd_solve_request_run (EpdSolveRequest *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(EpdSolveResult) result = g_new0 (EpdSolveResult, 1);
  double start = now_ms ();
  gboolean ok;

  result->trace = epd_trace_new ();
  result->errors = epd_error_report_new ();
  result->final_error = NAN;
  result->queued_ms = (g_get_monotonic_time () - self->created_us) / 1000.0;
  progress_set (self->progress, EPD_SOLVE_PHASE_WAITING, 0);
  g_mutex_lock (&solve_lock);
  ok = !g_cancellable_set_error_if_cancelled (cancellable, error) &&
       run_locked (self, result, cancellable, error);
  g_mutex_unlock (&solve_lock);
  if (!ok)
    return NULL;
  progress_set (self->progress, EPD_SOLVE_PHASE_DONE, 1);
  result->total_ms = now_ms () - start;
  return g_steal_pointer (&result);
}

static void
run_in_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GError *error = NULL;
  EpdSolveResult *result = epd_solve_request_run (task_data, cancellable, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) epd_solve_result_free);
}

void
epd_solve_request_run_async (EpdSolveRequest     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, epd_solve_request_run_async);
  g_task_set_task_data (task, self, (GDestroyNotify) epd_solve_request_free);
  g_task_run_in_thread (task, run_in_thread);
}

EpdSolveResult *
epd_solve_request_run_finish (GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
epd_studio_is_image_model (EpdDenoiser *model)
{
  guint side, channels;

  return model != NULL && epd_denoiser_get_image_shape (model, &side, &channels);
}
