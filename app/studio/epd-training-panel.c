/* SPDX-License-Identifier: MIT */
/* epd-training-panel.c: distillation and RDPO runs in the background, live curves, logs. */
#include "epd-training-panel.h"
#include "epd-app-policy.h"

#include <math.h>

#include "epd-distill.h"
#include "epd-plot-curves.h"
#include "epd-rdpo.h"
#include "epd-studio-jobs.h"
#include "epd-studio-timing.h"

struct _EpdTrainingPanel
{
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkWidget       *area;
  GtkWidget       *distill_button;
  GtkWidget       *rdpo_button;
  GtkWidget       *cancel_button;
  GtkWidget       *compare_button;
  GtkWidget       *iterations_spin;          /* RDPO's */
  GtkWidget       *distill_iterations_spin;
  GtkWidget       *progress;
  GtkWidget       *status;
  GtkWidget       *offer_bar;      /* a distilled table worse than the one it would replace */
  GtkWidget       *offer_label;

  EpdDenoiser     *model;
  char            *model_spec;
  EpdSolveOptions  options;
  EpdTable        *table;

  EpdCurveLog     *log;
  char            *log_title;
  GCancellable    *cancellable;   /* of the running job, NULL when idle */
  EpdSolveOptions  job_options;   /* the settings the running job trains for */
  guint            job_iterations;
  gint64           job_started_us;
  EpdTable        *start_table;   /* every run keeps the table it started from */
  EpdTable        *result_table;  /* and its result, for Compare before/after */
  EpdTable        *offered;       /* a result offered, not applied, or NULL */
  double           offered_val;   /* its validation error */
  double           replaced_val;  /* and that of the table it would replace */

  /* Touched only by the running job's worker thread (one run at a time). */
  GPtrArray       *pending;       /* JsonObject records not yet posted */
  double           last_val;      /* the last validation error posted */
  gint64           posted_us;
};

enum { TABLE_READY, COMPARE_REQUESTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (EpdTrainingPanel, epd_training_panel, GTK_TYPE_WIDGET)

static const char *panel_columns[] = { "loss", "val_error", "mixed_reward_mean", "kl", NULL };

void
epd_training_panel_draw (EpdTrainingPanel *self,
                         cairo_t          *cr,
                         double            width,
                         double            height)
{
  guint n;

  epd_plot_clear (cr, width, height);
  if (self->log == NULL)
    {
      epd_plot_draw_title (cr, 20, 20, "Distil or run RDPO from the current settings, or open an RDPO log (Ctrl+L).");
      return;
    }
  n = epd_curve_log_n_rows (self->log);
  epd_plot_draw_title (cr, 12, 4, self->log_title);
  cairo_save (cr);
  cairo_translate (cr, 0, 18);
  /* Long, noisy logs (RL) get a running mean of about 1% of their length. */
  epd_curve_plot_draw (cr, width, height - 18, self->log, panel_columns, n > 300 ? n / 100 : 1);
  cairo_restore (cr);
}

static void
set_log (EpdTrainingPanel *self,
         EpdCurveLog      *log,
         const char       *title)
{
  g_clear_pointer (&self->log, epd_curve_log_free);
  g_free (self->log_title);
  self->log = log;
  self->log_title = g_strdup (title);
  gtk_widget_queue_draw (self->area);
}

gboolean
epd_training_panel_open_log (EpdTrainingPanel  *self,
                             const char        *path,
                             GError           **error)
{
  EpdCurveLog *log = epd_curve_log_load_jsonl (path, error);
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *title = NULL;

  if (log == NULL)
    return FALSE;
  title = g_strdup_printf ("%s: %u records", name, epd_curve_log_n_rows (log));
  set_log (self, log, title);
  gtk_label_set_text (GTK_LABEL (self->status), "A training log in the reference RDPO format "
                      "(one JSON object per step; NaN marks unused rewards).");
  return TRUE;
}

void
epd_training_panel_set_context (EpdTrainingPanel      *self,
                                EpdDenoiser           *model,
                                const char            *model_spec,
                                const EpdSolveOptions *options,
                                const EpdTable        *table)
{
  g_set_object (&self->model, model);
  g_free (self->model_spec);
  self->model_spec = g_strdup (model_spec);
  self->options = *options;
  self->options.table = NULL;
  g_clear_pointer (&self->table, epd_table_free);
  self->table = table != NULL ? epd_table_copy (table) : NULL;
}

/* The table a run starts from, on the grid and first step the run uses. */
static void
keep_start_table (EpdTrainingPanel *self)
{
  g_clear_pointer (&self->start_table, epd_table_free);
  g_clear_pointer (&self->result_table, epd_table_free);
  gtk_widget_set_sensitive (self->compare_button, FALSE);
  if (self->table == NULL)
    return;
  self->start_table = epd_table_copy (self->table);
  self->start_table->schedule = self->job_options.schedule;
  self->start_table->afs = self->job_options.afs;
}

static void
set_running (EpdTrainingPanel *self,
             gboolean          running)
{
  /* The worker is done: the records it had not posted yet join the curves. */
  for (guint i = 0; !running && self->pending != NULL && self->log != NULL && i < self->pending->len; i++)
    epd_curve_log_append (self->log, self->pending->pdata[i]);
  if (!running)
    {
      g_clear_pointer (&self->pending, g_ptr_array_unref);
      gtk_widget_queue_draw (self->area);
    }
  self->posted_us = 0;
  if (running)
    {
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
      self->job_started_us = g_get_monotonic_time ();
      keep_start_table (self);
    }
  gtk_widget_set_sensitive (self->distill_button, !running);
  gtk_widget_set_sensitive (self->rdpo_button, !running);
  gtk_widget_set_sensitive (self->cancel_button, running);
  if (!running)
    g_clear_object (&self->cancellable);
}

/* Progress arrives on the worker thread, thousands of iterations a second for
 * small models: records are batched and reach the main loop every 50 ms. */
#define POST_INTERVAL_US 50000

typedef struct
{
  EpdTrainingPanel *panel;
  GPtrArray        *records;
  double            fraction;
  char             *text;
} ProgressUpdate;

/* The time left, from the pace so far, once a run has gone a second and 2 %. */
static char *
with_eta (EpdTrainingPanel *self,
          const char       *text,
          double            fraction)
{
  double elapsed = (g_get_monotonic_time () - self->job_started_us) / 1e6;

  if (elapsed < 1 || fraction < 0.02 || fraction >= 1)
    return g_strdup (text);
  return g_strdup_printf ("%s · about %.0f s left", text, elapsed * (1 - fraction) / fraction);
}

static gboolean
apply_progress (gpointer data)
{
  ProgressUpdate *update = data;
  EpdTrainingPanel *self = update->panel;

  if (self->log != NULL && self->cancellable != NULL)
    {
      for (guint i = 0; i < update->records->len; i++)
        epd_curve_log_append (self->log, update->records->pdata[i]);
      g_autofree char *text = with_eta (self, update->text, update->fraction);

      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), update->fraction);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      gtk_widget_queue_draw (self->area);
    }
  g_object_unref (update->panel);
  g_ptr_array_unref (update->records);
  g_free (update->text);
  g_free (update);
  return G_SOURCE_REMOVE;
}

/* Takes record and text; posts the batch when it is due or when last. */
static void
post_progress (EpdTrainingPanel *self,
               JsonObject       *record,
               double            fraction,
               char             *text,
               gboolean          last)
{
  gint64 now = g_get_monotonic_time ();
  ProgressUpdate *update;

  if (self->pending == NULL)
    self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_ptr_array_add (self->pending, record);
  if (!last && now - self->posted_us < POST_INTERVAL_US)
    {
      g_free (text);
      return;
    }
  self->posted_us = now;
  update = g_new0 (ProgressUpdate, 1);
  update->panel = g_object_ref (self);
  update->records = g_steal_pointer (&self->pending);
  update->fraction = fraction;
  update->text = text;
  /* At the priority of the task's completion, queued before it: the last
   * records are drawn before the run is marked done (an idle-priority
   * update would come after the completion and be dropped). */
  g_idle_add_full (G_PRIORITY_DEFAULT, apply_progress, update, NULL);
}

static void
distill_progress (const EpdDistillProgress *progress,
                  gpointer                  user_data)
{
  EpdTrainingPanel *self = user_data;
  JsonObject *record = json_object_new ();

  if (g_strcmp0 (progress->phase, "training") != 0)
    {
      json_object_unref (record);
      return;
    }
  json_object_set_int_member (record, "step", progress->iteration);
  json_object_set_double_member (record, "loss", progress->loss);
  /* Only a new validation: the curve joins its points, unsmoothed. */
  if (isfinite (progress->val_error) && progress->val_error != self->last_val)
    json_object_set_double_member (record, "val_error", progress->val_error);
  self->last_val = progress->val_error;
  post_progress (self, record, (double) progress->iteration / MAX (progress->iterations, 1),
                 g_strdup_printf ("Distilling: iteration %u of %u, loss %.3g, best validation error %.4g",
                                  progress->iteration, progress->iterations, progress->loss,
                                  progress->best_val_error),
                 progress->iteration >= progress->iterations);
}

static void
keep_result_table (EpdTrainingPanel *self,
                   const EpdTable   *table)
{
  g_clear_pointer (&self->result_table, epd_table_free);
  self->result_table = epd_table_copy (table);
  gtk_widget_set_sensitive (self->compare_button, self->start_table != NULL);
}

static void
hand_over (EpdTrainingPanel *self,
           EpdTable         *table,
           const char       *what)
{
  g_autofree char *text = g_strdup_printf ("%s finished: the best table is now in the editor.", what);

  /* The table records the grid and first step it was trained on: the window
   * applies them, whatever the settings became during the run. */
  table->schedule = self->job_options.schedule;
  table->afs = self->job_options.afs;
  keep_result_table (self, table);
  gtk_label_set_text (GTK_LABEL (self->status), text);
  g_signal_emit (self, signals[TABLE_READY], 0, table);
}

/* The bar ends where the run did: full when complete, else at the last
 * logged step (progress comes in batches, so the log may stop short). */
static void
show_final_progress (EpdTrainingPanel *self,
                     gboolean          complete)
{
  const double *step = self->log != NULL ? epd_curve_log_column (self->log, "step") : NULL;
  guint n = self->log != NULL ? epd_curve_log_n_rows (self->log) : 0;
  double last = 0;

  for (guint i = 0; step != NULL && i < n; i++)
    if (isfinite (step[i]))
      last = MAX (last, step[i]);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                 complete ? 1 : CLAMP (last / MAX (self->job_iterations, 1), 0, 1));
}

/* The running job's callback: FALSE when the window was closed meanwhile
 * (the job kept the panel alive, but nobody is left to take the table). */
static gboolean
job_finished (EpdTrainingPanel *self)
{
  epd_studio_jobs_remove (self->cancellable);
  if (self->box == NULL || gtk_widget_get_root (GTK_WIDGET (self)) == NULL)
    {
      g_clear_object (&self->cancellable);
      return FALSE;
    }
  set_running (self, FALSE);
  return TRUE;
}

/* A distillation run: its teacher states are solved here, so that the
 * table it would replace is validated on the same noises as its result. */
typedef struct
{
  EpdTrainingPanel  *panel;
  EpdDenoiser       *model;
  EpdDistillOptions *options;
  EpdTable          *replaced;      /* the edited table on the run's grid, or NULL */
  EpdTable          *result;
  double             result_val;    /* mean L2 error of the final samples on the validation noises */
  double             replaced_val;  /* NaN when there is no table to replace */
} DistillJob;

static void
distill_job_free (DistillJob *job)
{
  g_object_unref (job->panel);
  g_object_unref (job->model);
  epd_distill_options_free (job->options);
  g_clear_pointer (&job->replaced, epd_table_free);
  g_clear_pointer (&job->result, epd_table_free);
  g_free (job);
}

/* Both tables' validation errors, by the same function on the same noises. */
static gboolean
distill_validate_both (DistillJob    *job,
                       const double  *x_val,
                       const double  *teacher_val,
                       GError       **error)
{
  guint n = job->options->n_val;

  job->result_val = epd_distill_table_error (job->model, job->result, x_val, teacher_val, n, NULL, error);
  if (job->result_val < 0)
    return FALSE;
  if (job->replaced == NULL)
    return TRUE;
  job->replaced_val = epd_distill_table_error (job->model, job->replaced, x_val, teacher_val, n, NULL, error);
  return job->replaced_val >= 0;
}

static void
distill_in_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  DistillJob *job = task_data;
  EpdDistillOptions *o = job->options;
  guint dim = epd_denoiser_get_dim (job->model);
  g_autofree double *x_train = epd_distill_initial_states (o, o->train_seed, o->n_train, dim);
  g_autofree double *x_val = epd_distill_initial_states (o, o->val_seed, o->n_val, dim);
  g_autofree double *teacher_train = NULL;
  g_autofree double *teacher_val = NULL;
  GError *error = NULL;

  if ((teacher_train = epd_distill_teacher_states (job->model, o, x_train, o->n_train, cancellable, &error)) == NULL ||
      (teacher_val = epd_distill_teacher_states (job->model, o, x_val, o->n_val, cancellable, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  o->teacher_train = teacher_train;
  o->teacher_val = teacher_val;
  job->result = epd_distill_run (job->model, o, distill_progress, job->panel, cancellable, &error);
  o->teacher_train = o->teacher_val = NULL;
  if (job->result == NULL || !distill_validate_both (job, x_val, teacher_val, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
hide_offer (EpdTrainingPanel *self)
{
  g_clear_pointer (&self->offered, epd_table_free);
  gtk_info_bar_set_revealed (GTK_INFO_BAR (self->offer_bar), FALSE);
}

/* The result (distilled from the uniform table: the edited one has another
 * solver) is worse than the edited table on validation: it is kept for
 * Compare and offered, and the edited table stays. */
static void
offer_result (EpdTrainingPanel *self,
              DistillJob       *job,
              const char       *what)
{
  g_autofree char *text = g_strdup_printf ("%s: the distilled table is worse on validation (mean final "
                                           "error %.4g) than the edited table (%.4g), which stays.",
                                           what, job->result_val, job->replaced_val);

  job->result->schedule = self->job_options.schedule;
  job->result->afs = self->job_options.afs;
  keep_result_table (self, job->result);
  g_clear_pointer (&self->offered, epd_table_free);
  self->offered = epd_table_copy (job->result);
  self->offered_val = job->result_val;
  self->replaced_val = job->replaced_val;
  gtk_label_set_text (GTK_LABEL (self->offer_label), text);
  gtk_info_bar_set_revealed (GTK_INFO_BAR (self->offer_bar), TRUE);
  gtk_label_set_text (GTK_LABEL (self->status), "Distillation finished: its table is offered above, not applied.");
}

/* A run from the edited table validates it first and keeps it while nothing
 * beats it: the result is the edited table itself, not a new one. */
static void
distill_nothing_better (EpdTrainingPanel *self,
                        DistillJob       *job,
                        const char       *what)
{
  g_autofree char *text = g_strdup_printf ("%s found nothing better than the edited table (mean final "
                                           "validation error %.4g): it is unchanged.", what, job->replaced_val);

  if (self->start_table != NULL)
    keep_result_table (self, self->start_table);
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

static void
offer_response (EpdTrainingPanel *self,
                int               response)
{
  g_autoptr(EpdTable) table = g_steal_pointer (&self->offered);

  hide_offer (self);
  if (response == GTK_RESPONSE_ACCEPT && table != NULL)
    hand_over (self, table, "Distillation (applied anyway)");
}

static void
distill_report (EpdTrainingPanel *self,
                DistillJob       *job,
                const GError     *error)
{
  gboolean cancelled;
  const char *what;

  if (job->result == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Distillation stopped: %s", error->message);
      show_final_progress (self, FALSE);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      return;
    }
  /* A cancelled run still returns its best table, marked in the metadata. */
  cancelled = json_object_get_boolean_member_with_default (job->result->metadata, "cancelled", FALSE);
  what = cancelled ? "Distillation (cancelled)" : "Distillation";
  show_final_progress (self, !cancelled);
  if (job->replaced == NULL || job->result_val < job->replaced_val)
    hand_over (self, job->result, what);
  else if (job->options->init != NULL)
    distill_nothing_better (self, job, what);
  else
    offer_result (self, job, what);
}

static void
distill_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  EpdTrainingPanel *self = EPD_TRAINING_PANEL (source);
  DistillJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
  if (job_finished (self))
    distill_report (self, job, error);
}

/* The edited table, when it has the run's steps, on the run's grid: what the
 * result would replace. */
static EpdTable *
replaced_table (EpdTrainingPanel        *self,
                const EpdDistillOptions *init)
{
  EpdTable *table;

  if (self->table == NULL || self->table->steps != init->steps)
    return NULL;
  table = epd_table_copy (self->table);
  table->schedule = init->schedule;
  table->afs = init->afs;
  return table;
}

void
epd_training_panel_start_distill (EpdTrainingPanel *self)
{
  EpdDistillOptions init;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  DistillJob *job;

  if (self->model == NULL || self->cancellable != NULL)
    return;
  epd_distill_options_init (&init);
  init.solver = self->options.solver == EPD_SOLVER_EPD_PLUGIN ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD;
  init.steps = self->options.steps;
  init.n_points = self->table != NULL ? self->table->n_points : 2;
  init.schedule = self->options.schedule;
  init.afs = self->options.afs;
  init.iterations = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->distill_iterations_spin));
  /* From the edited table when it has this shape: a run refines the work so far. */
  if (self->table != NULL && self->table->steps == init.steps && self->table->n_points == init.n_points &&
      g_strcmp0 (self->table->solver, epd_solver_kind_to_string (init.solver)) == 0)
    init.init = self->table;
  init.model_spec = self->model_spec;
  if (!epd_distill_options_validate (&init, &error))
    {
      gtk_label_set_text (GTK_LABEL (self->status), error->message);
      return;
    }
  hide_offer (self);
  self->cancellable = g_cancellable_new ();
  self->job_options = self->options;
  self->job_iterations = init.iterations;
  self->last_val = NAN;
  set_running (self, TRUE);
  set_log (self, epd_curve_log_new (), "Distillation: training loss and validation error");
  gtk_label_set_text (GTK_LABEL (self->status), "Distilling: running the teacher…");
  job = g_new0 (DistillJob, 1);
  job->panel = g_object_ref (self);
  job->model = g_object_ref (self->model);
  job->options = epd_distill_options_copy (&init);
  job->replaced = replaced_table (self, &init);
  job->result_val = job->replaced_val = NAN;
  task = g_task_new (self, self->cancellable, distill_done, NULL);
  /* A cancelled run still returns its best table. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, job, (GDestroyNotify) distill_job_free);
  epd_studio_jobs_add (self->cancellable);
  g_task_run_in_thread (task, distill_in_thread);
}

/* RDPO needs its trainer, environment and reward alive until the run ends. */
typedef struct
{
  EpdTrainingPanel *panel;
  EpdSolveOptions   options;
  EpdReward        *reward;
  EpdRdpoEnv       *env;
  EpdRdpo          *rdpo;
  guint             iterations;
  gboolean          found_better;  /* an evaluation beat the start table (worker thread) */
} RdpoRun;

static void
rdpo_run_free (RdpoRun *run)
{
  epd_rdpo_free (run->rdpo);
  epd_rdpo_env_free (run->env);
  epd_reward_free (run->reward);
  g_object_unref (run->panel);
  g_free (run);
}

static void
rdpo_progress (const EpdRdpoRecord *record,
               gpointer             user_data)
{
  RdpoRun *run = user_data;
  JsonNode *node = epd_rdpo_record_to_json (record);
  JsonObject *object = json_object_ref (json_node_get_object (node));

  json_node_unref (node);
  if (record->best)
    run->found_better = TRUE;
  post_progress (run->panel, object, (double) record->step / MAX (run->iterations, 1),
                 g_strdup_printf ("RDPO: iteration %u of %u, reward %.4g, KL %.3g", record->step,
                                  run->iterations, record->mixed_reward_mean, record->kl),
                 record->step >= run->iterations);
}

/* The best table is then the start table with its points perhaps reordered
 * (the policy sorts them): the start table itself stands as the result, so
 * nothing presents the reordered copy as new. */
static void
report_nothing_better (EpdTrainingPanel *self,
                       gboolean          complete)
{
  if (self->start_table != NULL)
    keep_result_table (self, self->start_table);
  gtk_label_set_text (GTK_LABEL (self->status),
                      complete ? "RDPO found nothing better than the start table on the held-out seeds: "
                                 "the edited table is unchanged, and the result is the start table."
                               : "RDPO (cancelled) had found nothing better than the start table: "
                                 "the edited table is unchanged, and the result is the start table.");
}

static void
rdpo_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  RdpoRun *run = user_data;
  EpdTrainingPanel *self = run->panel;
  g_autoptr(GError) error = NULL;
  gboolean ok = epd_rdpo_run_finish (result, &error);
  /* Cancelled or not, the best table so far is kept. */
  g_autoptr(EpdTable) best = epd_rdpo_dup_best_table (run->rdpo, NULL);

  if (job_finished (self))
    {
      show_final_progress (self, ok);
      if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf ("RDPO stopped: %s", error->message);
          gtk_label_set_text (GTK_LABEL (self->status), text);
        }
      else if (best != NULL && !run->found_better)
        report_nothing_better (self, ok);
      else if (best != NULL)
        hand_over (self, best, ok ? "RDPO" : "RDPO (cancelled)");
    }
  rdpo_run_free (run);
}

static RdpoRun *
rdpo_run_new (EpdTrainingPanel  *self,
              GError           **error)
{
  RdpoRun *run = g_new0 (RdpoRun, 1);
  EpdRewardContext context = { 0 };
  EpdRdpoOptions options;

  run->panel = g_object_ref (self);
  run->options = self->options;
  run->options.table = NULL;
  context.model = self->model;
  context.solve = &run->options;
  context.timeout_s = 60;
  epd_rdpo_options_init (&options);
  options.iters = run->iterations = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->iterations_spin));
  options.reward_spec = epd_default_reward (self->model);
  options.start_name = "epd-studio edited table";
  if ((run->reward = epd_reward_parse (options.reward_spec, &context, error)) == NULL ||
      (run->env = epd_rdpo_env_new_model (self->model, run->reward)) == NULL ||
      (run->rdpo = epd_rdpo_new (run->env, self->table, &options, error)) == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "cannot set up RDPO on this model");
      rdpo_run_free (run);
      return NULL;
    }
  return run;
}

static void
start_rdpo (EpdTrainingPanel *self)
{
  g_autoptr(GError) error = NULL;
  RdpoRun *run;

  if (self->model == NULL || self->table == NULL || self->cancellable != NULL)
    return;
  run = rdpo_run_new (self, &error);
  if (run == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Cannot start RDPO: %s", error->message);
      gtk_label_set_text (GTK_LABEL (self->status), text);
      return;
    }
  self->cancellable = g_cancellable_new ();
  self->job_options = run->options;
  self->job_iterations = run->iterations;
  set_running (self, TRUE);
  set_log (self, epd_curve_log_new (), "RDPO from the edited table: loss, reward and KL to the start");
  gtk_label_set_text (GTK_LABEL (self->status), "RDPO: first iteration…");
  epd_studio_jobs_add (self->cancellable);
  epd_rdpo_run_async (run->rdpo, NULL, 0, rdpo_progress, run, self->cancellable, rdpo_done, run);
}

gboolean
epd_training_panel_get_before_after (EpdTrainingPanel  *self,
                                     const EpdTable   **start,
                                     const EpdTable   **result)
{
  *start = self->start_table;
  *result = self->result_table;
  return self->start_table != NULL && self->result_table != NULL;
}

const EpdTable *
epd_training_panel_get_offer (EpdTrainingPanel *self,
                              double           *result_val,
                              double           *replaced_val)
{
  if (result_val != NULL)
    *result_val = self->offered != NULL ? self->offered_val : NAN;
  if (replaced_val != NULL)
    *replaced_val = self->offered != NULL ? self->replaced_val : NAN;
  return self->offered;
}

static void
compare_clicked (EpdTrainingPanel *self)
{
  if (self->start_table != NULL && self->result_table != NULL)
    g_signal_emit (self, signals[COMPARE_REQUESTED], 0);
}

static void
cancel_clicked (EpdTrainingPanel *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_label_set_text (GTK_LABEL (self->status), "Cancelling: the best table so far will be kept…");
}

static void
epd_training_panel_dispose (GObject *object)
{
  EpdTrainingPanel *self = EPD_TRAINING_PANEL (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), EPD_TYPE_TRAINING_PANEL);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (epd_training_panel_parent_class)->dispose (object);
}

static void
epd_training_panel_finalize (GObject *object)
{
  EpdTrainingPanel *self = EPD_TRAINING_PANEL (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->log, epd_curve_log_free);
  g_clear_pointer (&self->table, epd_table_free);
  g_clear_pointer (&self->start_table, epd_table_free);
  g_clear_pointer (&self->result_table, epd_table_free);
  g_clear_pointer (&self->offered, epd_table_free);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_free (self->log_title);
  g_free (self->model_spec);
  G_OBJECT_CLASS (epd_training_panel_parent_class)->finalize (object);
}

static void
epd_training_panel_class_init (EpdTrainingPanelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = epd_training_panel_dispose;
  G_OBJECT_CLASS (klass)->finalize = epd_training_panel_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (GTK_WIDGET_CLASS (klass),
                                               "/org/epdstudio/EpdStudio/gtk/epd-training-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (GTK_WIDGET_CLASS (klass), EpdTrainingPanel, name)
  BIND (box);
  BIND (area);
  BIND (distill_button);
  BIND (rdpo_button);
  BIND (cancel_button);
  BIND (compare_button);
  BIND (iterations_spin);
  BIND (distill_iterations_spin);
  BIND (progress);
  BIND (status);
  BIND (offer_bar);
  BIND (offer_label);
#undef BIND
  /* The trained table, borrowed for the emission (static scope: not copied). */
  signals[TABLE_READY] = g_signal_new ("table-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                       EPD_TYPE_TABLE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* Compare before/after: the window shows epd_training_panel_get_before_after (). */
  signals[COMPARE_REQUESTED] = g_signal_new ("compare-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
epd_training_panel_init (EpdTrainingPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  epd_studio_timing_set_draw_func (self->area, "training",
                                   EPD_STUDIO_DRAW_FUNC (epd_training_panel_draw), self);
  g_signal_connect_swapped (self->distill_button, "clicked", G_CALLBACK (epd_training_panel_start_distill), self);
  g_signal_connect_swapped (self->rdpo_button, "clicked", G_CALLBACK (start_rdpo), self);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (cancel_clicked), self);
  g_signal_connect_swapped (self->compare_button, "clicked", G_CALLBACK (compare_clicked), self);
  g_signal_connect_swapped (self->offer_bar, "response", G_CALLBACK (offer_response), self);
}

GtkWidget *
epd_training_panel_new (void)
{
  return g_object_new (EPD_TYPE_TRAINING_PANEL, NULL);
}
