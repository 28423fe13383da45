/* SPDX-License-Identifier: MIT */
/* epd-compare-view.c: tables A and B as coefficient plots and as samples from the same noise. */
#include "epd-compare-view.h"
#include "epd-app-policy.h"

#include <math.h>
#include <string.h>

#include "epd-gmm.h"
#include "epd-image-grid.h"
#include "epd-plot-coef.h"
#include "epd-plot-samples.h"
#include "epd-reward.h"
#include "epd-solve-job.h"
#include "epd-studio-jobs.h"
#include "epd-studio-timing.h"
#include "epd-window.h"

#define EDITED_TABLE "edited table"
#define UNIFORM_TABLE "uniform table"
/* Compare before/after: the last training run's two tables. */
#define RUN_START "training run: start"
#define RUN_RESULT "training run: result"

struct _EpdCompareView
{
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkWidget       *area;
  GtkWidget       *a_drop;
  GtkWidget       *b_drop;
  GtkWidget       *open_b_button;
  GtkWidget       *run_button;
  GtkStringList   *sources;
  GtkWidget       *status;
  GtkWidget       *stop_button;
  GtkWidget       *progress;

  EpdDenoiser     *model;
  char            *model_key;     /* the window's, with its teacher: A reuses it where it fits */
  gboolean         own_key;       /* model_key was made here: no window gave one */
  EpdTeacherRun   *teacher;
  EpdSolveProgress *column_progress[2];  /* of the running comparison, or NULL */
  guint            progress_id;
  char            *model_spec;
  gboolean         b_chosen;      /* the user picked B: it no longer follows the model */
  gboolean         setting_b;     /* B changes from here, not from the user */
  EpdGmm          *mixture;
  EpdSolveOptions  options;
  EpdTable        *edited;
  guint32          seed;
  gsize            batch;

  EpdTable        *pair[2];       /* RUN_START, RUN_RESULT, or NULL */
  EpdTable        *tables[2];
  EpdSolveResult  *results[2];
  double           rewards[3];    /* A, B, teacher: mean reward, NaN if none */
  double           reward_sds[3]; /* their standard deviations over the samples */
  char            *reward_name;
  GCancellable    *cancellable;
};

G_DEFINE_FINAL_TYPE (EpdCompareView, epd_compare_view, GTK_TYPE_WIDGET)

/* ---- solving both tables --------------------------------------------- */

typedef struct
{
  EpdSolveRequest *requests[2];
  EpdSolveResult  *results[2];
  EpdDenoiser     *reward_model;  /* the CPU mixture, or the model */
  const char      *reward_spec;   /* static */
  double           rewards[3];
  double           reward_sds[3];
  char            *reward_error;
} CompareJob;

static void
compare_job_free (CompareJob *job)
{
  for (guint i = 0; i < 2; i++)
    {
      epd_solve_request_free (job->requests[i]);
      epd_solve_result_free (job->results[i]);
    }
  g_clear_object (&job->reward_model);
  g_free (job->reward_error);
  g_free (job);
}

static double
mean (const double *v,
      gsize         n)
{
  double s = 0;

  for (gsize i = 0; i < n; i++)
    s += v[i];
  return n > 0 ? s / n : NAN;
}

/* The sample standard deviation (n - 1), NaN below two values. */
static double
standard_deviation (const double *v,
                    gsize         n,
                    double        m)
{
  double s = 0;

  for (gsize i = 0; i < n; i++)
    s += (v[i] - m) * (v[i] - m);
  return n > 1 ? sqrt (s / (n - 1)) : NAN;
}

/* Mean reward of A, B and the teacher on the same noise. */
static gboolean
score_samples (CompareJob    *job,
               GCancellable  *cancellable,
               GError       **error)
{
  const EpdSolveRequest *request = job->requests[0];
  const EpdTrace *trace = job->results[0]->trace;
  EpdRewardContext context = { job->reward_model, &request->options, 60 };
  g_autoptr(EpdReward) reward = epd_reward_parse (job->reward_spec, &context, error);
  g_autofree double *z = epd_random_latents (request->seed, trace->batch, trace->dim);
  g_autofree double *scores = g_new (double, trace->batch);
  const double *samples[3] = { job->results[0]->trace->x_final, job->results[1]->trace->x_final,
                               job->results[0]->teacher != NULL ? job->results[0]->teacher->trace->x_final : NULL };

  if (reward == NULL)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    {
      job->rewards[i] = job->reward_sds[i] = NAN;
      if (samples[i] == NULL)
        continue;
      if (!epd_reward_score (reward, samples[i], z, trace->batch, scores, NULL, cancellable, error))
        return FALSE;
      job->rewards[i] = mean (scores, trace->batch);
      job->reward_sds[i] = standard_deviation (scores, trace->batch, job->rewards[i]);
    }
  return TRUE;
}

static void
compare_in_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  CompareJob *job = task_data;
  GError *error = NULL;

  for (guint i = 0; i < 2; i++)
    {
      /* B reuses A's teacher when the grids agree. */
      if (i == 1 && job->results[0]->teacher != NULL && job->requests[1]->teacher == NULL)
        job->requests[1]->teacher = epd_teacher_run_ref (job->results[0]->teacher);
      job->results[i] = epd_solve_request_run (job->requests[i], cancellable, &error);
      if (job->results[i] == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  /* A missing reward (no classifier yet, say) leaves the errors standing. */
  if (!score_samples (job, cancellable, &error))
    {
      job->reward_error = g_strdup (error->message);
      g_clear_error (&error);
    }
  g_task_return_boolean (task, TRUE);
}

/* Each table runs on the current schedule with its own grid; the edited
 * table runs exactly as in the other views (the window's AFS), files and
 * shipped tables with the first step they were made for. */
static void
column_options (EpdCompareView  *self,
                const EpdTable  *table,
                gboolean         edited,
                EpdSolveOptions *options)
{
  *options = self->options;
  if (!epd_solver_kind_from_string (table->solver, &options->solver, NULL))
    options->solver = EPD_SOLVER_EPD;
  options->steps = table->steps;
  if (!edited)
    options->afs = table->afs;
}

/* The running comparison says which column it solves and how far it is:
 * the teacher of a learned model takes minutes. */
static gboolean
show_progress (gpointer user_data)
{
  EpdCompareView *self = user_data;
  double fraction = 0;
  EpdSolvePhase phase = EPD_SOLVE_PHASE_DONE;
  guint column = 0;
  g_autofree char *text = NULL;

  for (column = 0; column < 2; column++)
    if ((phase = epd_solve_progress_get (self->column_progress[column], &fraction)) != EPD_SOLVE_PHASE_DONE)
      break;
  if (column == 2)
    text = g_strdup ("Scoring the samples…");
  else if (phase == EPD_SOLVE_PHASE_TEACHER || phase == EPD_SOLVE_PHASE_BASELINES)
    text = g_strdup_printf ("%s: %s %.0f %%…", column == 0 ? "A" : "B", epd_solve_phase_describe (phase),
                            100 * fraction);
  else
    text = g_strdup_printf ("%s: %s…", column == 0 ? "A" : "B", epd_solve_phase_describe (phase));
  gtk_label_set_text (GTK_LABEL (self->status), text);
  /* Two columns, each its own run: the bar covers both. */
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), MIN (column + fraction, 2) / 2);
  return G_SOURCE_CONTINUE;
}

static void
set_running (EpdCompareView *self,
             gboolean        running)
{
  if (!running)
    {
      g_clear_handle_id (&self->progress_id, g_source_remove);
      for (guint i = 0; i < 2; i++)
        g_clear_pointer (&self->column_progress[i], epd_solve_progress_unref);
    }
  else if (self->progress_id == 0)
    self->progress_id = g_timeout_add (100, show_progress, self);
  gtk_widget_set_visible (self->progress, running);
  gtk_widget_set_visible (self->stop_button, running);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
}

static void
stop_clicked (EpdCompareView *self)
{
  g_cancellable_cancel (self->cancellable);
  set_running (self, FALSE);
  gtk_label_set_text (GTK_LABEL (self->status), "Stopped. Compare runs it again.");
}

gboolean
epd_compare_view_is_running (EpdCompareView *self)
{
  return self->progress_id != 0;
}

static void
compare_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  EpdCompareView *self = EPD_COMPARE_VIEW (source);
  CompareJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  epd_studio_jobs_remove (g_task_get_cancellable (G_TASK (result)));
  if (g_task_get_cancellable (G_TASK (result)) != self->cancellable)
    return;
  set_running (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (GTK_LABEL (self->status), error->message);
      return;
    }
  for (guint i = 0; i < 2; i++)
    {
      epd_solve_result_free (self->results[i]);
      self->results[i] = g_steal_pointer (&job->results[i]);
    }
  memcpy (self->rewards, job->rewards, sizeof self->rewards);
  memcpy (self->reward_sds, job->reward_sds, sizeof self->reward_sds);
  if (job->reward_error != NULL)
    {
      g_autofree char *text = g_strdup_printf ("No %s reward: %s", job->reward_spec, job->reward_error);
      gtk_label_set_text (GTK_LABEL (self->status), text);
    }
  else
    gtk_label_set_text (GTK_LABEL (self->status), "Same seeds, same schedule; each table on its own grid.");
  gtk_widget_queue_draw (self->area);
}

/* The uniform table of the edited table's shape, on the current grid. */
static EpdTable *
uniform_table (EpdCompareView *self)
{
  EpdTable *table = self->edited != NULL
                    ? epd_table_new (self->edited->solver, self->edited->steps, self->edited->n_points)
                    : epd_table_new ("epd", self->options.steps, 2);

  table->schedule = self->options.schedule;
  return table;
}

static EpdTable *
load_source (EpdCompareView *self,
             const char     *source,
             GError        **error)
{
  if (g_strcmp0 (source, EDITED_TABLE) == 0)
    {
      if (self->edited == NULL)
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "there is no edited table yet");
      return self->edited != NULL ? epd_table_copy (self->edited) : NULL;
    }
  if (g_strcmp0 (source, UNIFORM_TABLE) == 0)
    return uniform_table (self);
  for (guint i = 0; i < 2; i++)
    if (g_strcmp0 (source, i == 0 ? RUN_START : RUN_RESULT) == 0 && self->pair[i] != NULL)
      return epd_table_copy (self->pair[i]);
  return epd_table_load (source, error);
}

static const char *
drop_string (GtkWidget *drop)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (drop));

  return item != NULL ? gtk_string_object_get_string (item) : EDITED_TABLE;
}

gboolean
epd_compare_view_get_column_options (EpdCompareView   *self,
                                     guint             column,
                                     EpdSolveOptions  *options,
                                     GError          **error)
{
  const char *source = drop_string (column == 0 ? self->a_drop : self->b_drop);
  g_autoptr(EpdTable) table = load_source (self, source, error);

  if (table == NULL)
    return FALSE;
  column_options (self, table, g_strcmp0 (source, EDITED_TABLE) == 0, options);
  options->table = NULL;
  return TRUE;
}

/* The window's key; without one, a key of this model alone, which no other
 * model's teacher can match. */
static const char *
model_key (EpdCompareView *self)
{
  static guint models_seen;

  if (self->model_key == NULL)
    {
      self->model_key = g_strdup_printf ("compare model %u", ++models_seen);
      self->own_key = TRUE;
    }
  return self->model_key;
}

static void
run_compare (EpdCompareView *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *drops[2] = { self->a_drop, self->b_drop };
  CompareJob *job;

  if (self->model == NULL)
    return;
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&self->tables[i], epd_table_free);
      g_clear_pointer (&self->results[i], epd_solve_result_free);
      self->tables[i] = load_source (self, drop_string (drops[i]), &error);
      if (self->tables[i] == NULL)
        {
          gtk_label_set_text (GTK_LABEL (self->status), error->message);
          gtk_widget_queue_draw (self->area);
          return;
        }
    }
  job = g_new0 (CompareJob, 1);
  for (guint i = 0; i < 2; i++)
    {
      EpdSolveOptions options;
      column_options (self, self->tables[i], g_strcmp0 (drop_string (drops[i]), EDITED_TABLE) == 0, &options);
      /* Under the window's key, A reuses the window's teacher where the grids agree. */
      job->requests[i] = epd_solve_request_new (self->model, model_key (self), &options, self->tables[i],
                                                self->seed, self->batch, i == 0 ? self->teacher : NULL);
      g_clear_pointer (&self->column_progress[i], epd_solve_progress_unref);
      self->column_progress[i] = epd_solve_progress_new ();
      job->requests[i]->progress = epd_solve_progress_ref (self->column_progress[i]);
    }
  /* The shared default (app/core); a mixture's log-density runs on its CPU twin. */
  job->reward_spec = epd_default_reward (self->model);
  job->reward_model = g_object_ref (self->mixture != NULL ? EPD_DENOISER (self->mixture) : self->model);
  g_free (self->reward_name);
  self->reward_name = g_strdup (job->reward_spec);
  for (guint i = 0; i < 3; i++)
    job->rewards[i] = self->rewards[i] = NAN;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, compare_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) compare_job_free);
  gtk_label_set_text (GTK_LABEL (self->status), "Solving both tables…");
  set_running (self, TRUE);
  gtk_widget_queue_draw (self->area);
  epd_studio_jobs_add (self->cancellable);
  g_task_run_in_thread (task, compare_in_thread);
}

/* B's default: the shipped RDPO table that fits the model and the grid, else
 * a fitting distilled one (app/core's policy), else the uniform table; A, the
 * edited table, starts as the distilled one (the window's choice). */
static void
select_default_b (EpdCompareView *self)
{
  g_autofree char *name = NULL;
  g_autoptr(EpdTable) shipped = NULL;
  const char *want = UNIFORM_TABLE;
  EpdSolverKind solver = EPD_SOLVER_EPD;

  if (self->edited != NULL && self->model_spec != NULL &&
      epd_solver_kind_from_string (self->edited->solver, &solver, NULL))
    shipped = epd_find_shipped_table_preferring (self->model_spec, solver, self->edited->steps,
                                                 self->edited->n_points, self->options.afs,
                                                 &self->options.schedule, TRUE, &name);
  if (shipped != NULL)
    want = name;
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->sources)); i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->sources, i), want) == 0 &&
        gtk_drop_down_get_selected (GTK_DROP_DOWN (self->b_drop)) != i)
      {
        self->setting_b = TRUE;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->b_drop), i);
        self->setting_b = FALSE;
      }
}

/* The sources: the edited table, the uniform one, the shipped tables made for
 * this model (a published table for another model does not fit it), and the
 * files opened so far. */
static void
fill_sources (EpdCompareView *self)
{
  g_auto(GStrv) names = epd_table_builtin_names ();
  GListModel *list = G_LIST_MODEL (self->sources);
  guint n = 0;

  self->setting_b = TRUE;
  for (guint i = g_list_model_get_n_items (list); i-- > 0;)
    if (g_str_has_prefix (gtk_string_list_get_string (self->sources, i), EPD_TABLE_BUILTIN_PREFIX))
      gtk_string_list_remove (self->sources, i);
  if (g_list_model_get_n_items (list) == 0)
    {
      gtk_string_list_append (self->sources, EDITED_TABLE);
      gtk_string_list_append (self->sources, UNIFORM_TABLE);
    }
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, names[i], NULL);
      g_autoptr(EpdTable) table = epd_table_load (source, NULL);
      const char *made_for = table != NULL
                             ? json_object_get_string_member_with_default (table->metadata, "model", NULL) : NULL;

      if (self->model_spec != NULL && g_strcmp0 (made_for, self->model_spec) == 0)
        gtk_string_list_splice (self->sources, 2 + n++, 0, (const char * const[]) { source, NULL });
    }
  self->setting_b = FALSE;
}

void
epd_compare_view_set_context (EpdCompareView        *self,
                              EpdDenoiser           *model,
                              const char            *model_spec,
                              EpdGmm                *mixture,
                              const EpdSolveOptions *options,
                              const EpdTable        *table,
                              guint32                seed,
                              gsize                  batch)
{
  gboolean new_model = self->model != model;

  /* The teacher (and a key made here) of another model must not be taken for this one's. */
  if (new_model)
    {
      g_clear_pointer (&self->teacher, epd_teacher_run_unref);
      if (self->own_key)
        g_clear_pointer (&self->model_key, g_free);
    }
  g_set_object (&self->model, model);
  g_set_object (&self->mixture, mixture);
  self->options = *options;
  self->options.table = NULL;
  g_clear_pointer (&self->edited, epd_table_free);
  self->edited = table != NULL ? epd_table_copy (table) : NULL;
  self->seed = seed;
  self->batch = batch;
  if (g_strcmp0 (model_spec, self->model_spec) != 0)
    {
      g_free (self->model_spec);
      self->model_spec = g_strdup (model_spec);
      self->b_chosen = FALSE;
      fill_sources (self);
    }
  if (!self->b_chosen)
    select_default_b (self);
  /* Only while shown; small models compare live, image models when asked. */
  if (model != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)) &&
      (new_model || !epd_studio_is_image_model (model)))
    run_compare (self);
}

void
epd_compare_view_set_teacher (EpdCompareView *self,
                              const char     *model_key,
                              EpdTeacherRun  *teacher)
{
  g_free (self->model_key);
  self->model_key = g_strdup (model_key);
  self->own_key = FALSE;
  g_clear_pointer (&self->teacher, epd_teacher_run_unref);
  self->teacher = teacher != NULL ? epd_teacher_run_ref (teacher) : NULL;
}

static void
select_source (EpdCompareView *self,
               GtkWidget      *drop,
               const char     *source)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->sources));
  guint i = 0;

  while (i < n && g_strcmp0 (gtk_string_list_get_string (self->sources, i), source) != 0)
    i++;
  if (i == n)
    gtk_string_list_append (self->sources, source);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (drop), i);
}

void
epd_compare_view_show_pair (EpdCompareView *self,
                            const EpdTable *start,
                            const EpdTable *result)
{
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&self->pair[i], epd_table_free);
  self->pair[0] = epd_table_copy (start);
  self->pair[1] = epd_table_copy (result);
  self->setting_b = TRUE;
  select_source (self, self->a_drop, RUN_START);
  select_source (self, self->b_drop, RUN_RESULT);
  self->setting_b = FALSE;
  /* B is the user's choice now: it no longer follows the model. */
  self->b_chosen = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    run_compare (self);
}

const EpdSolveResult *
epd_compare_view_get_result (EpdCompareView *self,
                             guint           column,
                             double         *reward)
{
  if (reward != NULL)
    *reward = self->rewards[MIN (column, 2)];
  return column < 2 ? self->results[column] : NULL;
}

const char *
epd_compare_view_get_source (EpdCompareView *self,
                             guint           column)
{
  return drop_string (column == 0 ? self->a_drop : self->b_drop);
}

/* ---- drawing --------------------------------------------------------- */

static void
draw_coefficients (EpdCompareView *self,
                   cairo_t        *cr,
                   double          width,
                   double          height)
{
  GtkWidget *drops[2] = { self->a_drop, self->b_drop };

  for (guint i = 0; i < 2; i++)
    {
      EpdCoefPlot plot;
      g_autofree char *title = NULL;

      if (self->tables[i] == NULL)
        continue;
      title = g_strdup_printf ("%s: %s (%u steps, K %u)", i == 0 ? "A" : "B", drop_string (drops[i]),
                               self->tables[i]->steps, self->tables[i]->n_points);
      epd_coef_plot_init (&plot, self->tables[i]);
      plot.title = i == 0 ? "A" : "B";
      cairo_save (cr);
      cairo_translate (cr, i * width / 2, 0);
      epd_coef_plot_draw (cr, width / 2, height, &plot);
      epd_plot_draw_title (cr, 12, 4, title);
      cairo_restore (cr);
    }
}

static char *
panel_title (EpdCompareView       *self,
             const char           *name,
             const EpdSolveResult *result,
             guint                 which)
{
  GString *title = g_string_new (name);

  /* Short: four panels share the width. */
  if (result != NULL)
    g_string_append_printf (title, " · NFE %u", result->nfe.latency);
  if (result != NULL && !isnan (result->final_error))
    g_string_append_printf (title, " · err %.3g", result->final_error);
  /* The reward on its own line: four panels share the width. */
  if (!isnan (self->rewards[which]))
    g_string_append_printf (title, "\n%s %.3g ± %.2g",
                            g_strcmp0 (self->reward_name, "logdensity") == 0 ? "log p" :
                            g_strcmp0 (self->reward_name, "classifier") == 0 ? "conf." : "reward",
                            self->rewards[which], self->reward_sds[which]);
  return g_string_free (title, FALSE);
}

/* The samples' frame in a panel x height figure: a square plot area, top
 * aligned, over a square data range, so that the ring stays round as in the
 * Trajectories view. */
static void
scatter_viewport (const EpdSamplesPlot *plot,
                  double                panel,
                  double                height,
                  EpdPlotViewport      *vp)
{
  double side;

  epd_plot_viewport_init (vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (vp, panel, height);
  side = MIN (vp->width, vp->height);
  epd_plot_viewport_set_area (vp, vp->left, vp->top, side, side);
  epd_samples_plot_fit_view (plot, vp);
  epd_plot_viewport_equal_aspect (vp);
}

#define TITLE_LINE 15.0

/* A panel's title, one line per '\n'. */
static void
draw_panel_title (cairo_t    *cr,
                  double      x,
                  double      y,
                  const char *title)
{
  g_auto(GStrv) lines = g_strsplit (title, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    epd_plot_draw_title (cr, x, y + i * TITLE_LINE, lines[i]);
}

static void
draw_scatter (EpdCompareView *self,
              cairo_t        *cr,
              double          x,
              double          panel,
              double          height,
              const double   *samples,
              const char     *title,
              guint           colour)
{
  EpdSamplesPlot plot;
  EpdPlotViewport vp;

  epd_samples_plot_init (&plot, self->mixture, samples,
                         self->results[0]->trace->batch, self->results[0]->trace->dim);
  plot.colour = colour;
  cairo_save (cr);
  /* Below the title's second line. */
  cairo_translate (cr, x, TITLE_LINE);
  scatter_viewport (&plot, panel, height - TITLE_LINE, &vp);
  epd_samples_plot_draw (cr, &vp, &plot);
  draw_panel_title (cr, vp.left, 6 - TITLE_LINE, title);
  cairo_restore (cr);
}

/* 2-D: a segment from each A sample to the B sample from the same noise. */
static void
draw_displacements (EpdCompareView *self,
                    cairo_t        *cr,
                    double          x,
                    double          panel,
                    double          height)
{
  const EpdTrace *a = self->results[0]->trace, *b = self->results[1]->trace;
  EpdSamplesPlot plot;
  EpdPlotViewport vp;

  epd_samples_plot_init (&plot, self->mixture,
                         a->x_final, a->batch, a->dim);
  cairo_save (cr);
  cairo_translate (cr, x, TITLE_LINE);
  scatter_viewport (&plot, panel, height - TITLE_LINE, &vp);
  epd_plot_draw_axes (cr, &vp, NULL, NULL);
  epd_plot_draw_title (cr, vp.left, 4 - TITLE_LINE, "A → B, same noise");
  cairo_rectangle (cr, vp.left, vp.top, vp.width, vp.height);
  cairo_clip (cr);
  cairo_set_line_width (cr, 1);
  for (gsize i = 0; i < MIN (a->batch, b->batch); i++)
    {
      double px0, py0, px1, py1;
      epd_plot_viewport_to_pixel (&vp, a->x_final[i * a->dim], a->x_final[i * a->dim + 1], &px0, &py0);
      epd_plot_viewport_to_pixel (&vp, b->x_final[i * b->dim], b->x_final[i * b->dim + 1], &px1, &py1);
      epd_plot_set_palette_colour (cr, 3, 0.8);
      epd_plot_draw_arrow (cr, px0, py0, px1, py1, 4);
    }
  cairo_restore (cr);
}

/* Pixels between two neighbouring grids, so that A, B, the teacher and
 * |A − B| read as four pictures. */
#define GRID_GAP 16.0

/* The grid scaled to fit panel x height below its title, crisp (nearest pixel). */
static void
draw_grid (cairo_t      *cr,
           double        x,
           double        panel,
           double        height,
           const double *images,
           gsize         n,
           guint         side,
           guint         channels,
           const char   *title)
{
  cairo_surface_t *grid = epd_image_grid_render (images, n, side, channels, 0, 1, NULL);
  double fit;

  draw_panel_title (cr, x + GRID_GAP / 2, 4, title);
  if (grid == NULL)
    return;
  fit = MIN ((panel - GRID_GAP) / cairo_image_surface_get_width (grid),
             (height - 30 - TITLE_LINE) / cairo_image_surface_get_height (grid));
  cairo_save (cr);
  cairo_translate (cr, x + GRID_GAP / 2, 24 + TITLE_LINE);
  cairo_scale (cr, fit, fit);
  cairo_set_source_surface (cr, grid, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (grid);
}

static void
draw_images (EpdCompareView *self,
             cairo_t        *cr,
             double          panel,
             double          height,
             guint           side,
             guint           channels)
{
  const EpdTrace *a = self->results[0]->trace, *b = self->results[1]->trace;
  gsize n = MIN (a->batch, b->batch) * a->dim;
  g_autofree double *diff = g_new (double, n);
  g_autofree char *ta = panel_title (self, "A", self->results[0], 0);
  g_autofree char *tb = panel_title (self, "B", self->results[1], 1);
  g_autofree char *tt = panel_title (self, "teacher", NULL, 2);
  g_autofree char *td = NULL;
  double largest = 0;

  /* |A - B| rescaled to its largest value: black where they agree, white at
   * the largest difference, which the title gives. */
  for (gsize i = 0; i < n; i++)
    largest = MAX (largest, fabs (a->x_final[i] - b->x_final[i]));
  for (gsize i = 0; i < n; i++)
    diff[i] = largest > 0 ? 2 * fabs (a->x_final[i] - b->x_final[i]) / largest - 1 : -1;
  td = g_strdup_printf ("|A − B|, white = %.3g", largest);
  draw_grid (cr, 0, panel, height, a->x_final, a->batch, side, channels, ta);
  draw_grid (cr, panel, panel, height, b->x_final, b->batch, side, channels, tb);
  if (self->results[0]->teacher != NULL)
    draw_grid (cr, 2 * panel, panel, height, self->results[0]->teacher->trace->x_final, a->batch, side, channels, tt);
  draw_grid (cr, 3 * panel, panel, height, diff, MIN (a->batch, b->batch), side, channels, td);
}

static void
draw_samples (EpdCompareView *self,
              cairo_t        *cr,
              double          width,
              double          height)
{
  double panel = floor (width / 4);
  guint side, channels;
  g_autofree char *ta = NULL, *tb = NULL, *tt = NULL;

  if (self->results[0] == NULL || self->results[1] == NULL)
    return;
  if (epd_denoiser_get_image_shape (self->model, &side, &channels))
    {
      draw_images (self, cr, panel, height, side, channels);
      return;
    }
  if (self->results[0]->trace->dim < 2)
    return;
  ta = panel_title (self, "A", self->results[0], 0);
  tb = panel_title (self, "B", self->results[1], 1);
  tt = panel_title (self, "teacher", NULL, 2);
  draw_scatter (self, cr, 0, panel, height, self->results[0]->trace->x_final, ta, 0);
  draw_scatter (self, cr, panel, panel, height, self->results[1]->trace->x_final, tb, 1);
  if (self->results[0]->teacher != NULL)
    draw_scatter (self, cr, 2 * panel, panel, height, self->results[0]->teacher->trace->x_final, tt, 6);
  draw_displacements (self, cr, 3 * panel, panel, height);
}

void
epd_compare_view_draw (EpdCompareView *self,
                       cairo_t        *cr,
                       double          width,
                       double          height)
{
  double top = floor (height * 0.42);

  epd_plot_clear (cr, width, height);
  draw_coefficients (self, cr, width, top);
  cairo_save (cr);
  cairo_translate (cr, 0, top);
  draw_samples (self, cr, width, height - top);
  cairo_restore (cr);
}

/* ---- widget ---------------------------------------------------------- */

static void
source_changed (EpdCompareView *self,
                GParamSpec     *pspec,
                GtkDropDown    *drop)
{
  if (self->setting_b)
    return;
  if (GTK_WIDGET (drop) == self->b_drop)
    self->b_chosen = TRUE;
  run_compare (self);
}

static void
setup_source_drop (EpdCompareView *self,
                   GtkWidget      *drop,
                   guint           selected)
{
  gtk_drop_down_set_model (GTK_DROP_DOWN (drop), G_LIST_MODEL (self->sources));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (drop), selected);
  g_signal_connect_object (drop, "notify::selected", G_CALLBACK (source_changed), self, G_CONNECT_SWAPPED);
}

static void
open_b_clicked (EpdCompareView *self)
{
  epd_window_choose_table_into (GTK_WIDGET (self), "Open Table B", self->sources, GTK_DROP_DOWN (self->b_drop));
}

static void
epd_compare_view_dispose (GObject *object)
{
  EpdCompareView *self = EPD_COMPARE_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->progress_id, g_source_remove);
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&self->column_progress[i], epd_solve_progress_unref);
  g_clear_pointer (&self->model_key, g_free);
  g_clear_pointer (&self->teacher, epd_teacher_run_unref);
  gtk_widget_dispose_template (GTK_WIDGET (object), EPD_TYPE_COMPARE_VIEW);
  g_clear_object (&self->model);
  g_clear_object (&self->mixture);
  g_clear_object (&self->sources);
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&self->tables[i], epd_table_free);
      g_clear_pointer (&self->results[i], epd_solve_result_free);
    }
  g_clear_pointer (&self->edited, epd_table_free);
  g_clear_pointer (&self->reward_name, g_free);
  g_clear_pointer (&self->model_spec, g_free);
  g_clear_pointer (&self->pair[0], epd_table_free);
  g_clear_pointer (&self->pair[1], epd_table_free);
  G_OBJECT_CLASS (epd_compare_view_parent_class)->dispose (object);
}

static void
epd_compare_view_class_init (EpdCompareViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = epd_compare_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (GTK_WIDGET_CLASS (klass),
                                               "/org/epdstudio/EpdStudio/gtk/epd-compare-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (GTK_WIDGET_CLASS (klass), EpdCompareView, name)
  BIND (box);
  BIND (area);
  BIND (a_drop);
  BIND (b_drop);
  BIND (open_b_button);
  BIND (run_button);
  BIND (status);
  BIND (stop_button);
  BIND (progress);
#undef BIND
}

static void
epd_compare_view_init (EpdCompareView *self)
{
  for (guint i = 0; i < 3; i++)
    self->rewards[i] = NAN;
  gtk_widget_init_template (GTK_WIDGET (self));
  epd_studio_timing_set_draw_func (self->area, "compare",
                                   EPD_STUDIO_DRAW_FUNC (epd_compare_view_draw), self);
  self->sources = gtk_string_list_new (NULL);
  fill_sources (self);
  setup_source_drop (self, self->a_drop, 0);
  setup_source_drop (self, self->b_drop, 1);
  g_signal_connect_swapped (self->open_b_button, "clicked", G_CALLBACK (open_b_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (run_compare), self);
  g_signal_connect_swapped (self->stop_button, "clicked", G_CALLBACK (stop_clicked), self);
  g_signal_connect_swapped (self, "map", G_CALLBACK (run_compare), self);
}

GtkWidget *
epd_compare_view_new (void)
{
  return g_object_new (EPD_TYPE_COMPARE_VIEW, NULL);
}
