/* SPDX-License-Identifier: MIT */
/* epd-window.c: the model and solver panel, the views, and the live solve loop. */
#include "epd-window-private.h"
#include "epd-app-policy.h"

#include <math.h>
#include <string.h>

#include "epd-gmm.h"
#include "epd-model.h"
#include "epd-model-open.h"
#include "epd-vk-context.h"
#include "epd-coef-editor.h"
#include "epd-compare-view.h"
#include "epd-error-view.h"
#include "epd-studio-jobs.h"
#include "epd-studio-timing.h"
#include "epd-training-panel.h"
#include "epd-trajectory-view.h"

#define FASHION_MNIST_SPEC "dataset:fashion-mnist:10000"
#define IMAGE_BATCH 16

G_DEFINE_FINAL_TYPE (EpdWindow, epd_window, GTK_TYPE_APPLICATION_WINDOW)

enum { SOLVED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The solve settings. The panel's controls are bound to them (bind_panel),
 * and every change queues one re-solve. */
enum {
  PROP_0,
  PROP_SOLVER,
  PROP_STEPS,
  PROP_POINTS,
  PROP_SCHEDULE_KIND,
  PROP_SIGMA_MIN,
  PROP_SIGMA_MAX,
  PROP_RHO,
  PROP_SHIFT,
  PROP_AFS,
  PROP_SEED,
  PROP_BATCH,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];


/* ---- banner ---------------------------------------------------------- */

/* Notices go by themselves; errors stay until closed. */
#define NOTICE_SECONDS 10

static gboolean
banner_timeout (gpointer user_data)
{
  EpdWindow *self = user_data;

  self->banner_timeout_id = 0;
  gtk_info_bar_set_revealed (GTK_INFO_BAR (self->banner), FALSE);
  return G_SOURCE_REMOVE;
}

static void
show_banner (EpdWindow      *self,
             GtkMessageType  type,
             const char     *text)
{
  gtk_info_bar_set_message_type (GTK_INFO_BAR (self->banner), type);
  gtk_label_set_text (GTK_LABEL (self->banner_label), text);
  gtk_info_bar_set_revealed (GTK_INFO_BAR (self->banner), TRUE);
  g_clear_handle_id (&self->banner_timeout_id, g_source_remove);
  g_clear_handle_id (&self->solve_idle_id, g_source_remove);
  if (type == GTK_MESSAGE_INFO)
    self->banner_timeout_id = g_timeout_add_seconds (NOTICE_SECONDS, banner_timeout, self);
}

void
epd_window_show_error (EpdWindow    *self,
                       const char   *prefix,
                       const GError *error)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", prefix, error->message);

  show_banner (self, GTK_MESSAGE_ERROR, text);
}

void
epd_window_show_notice (EpdWindow  *self,
                        const char *text)
{
  show_banner (self, GTK_MESSAGE_INFO, text);
}

static void
banner_response (GtkInfoBar *bar,
                 int         response,
                 EpdWindow  *self)
{
  g_clear_handle_id (&self->banner_timeout_id, g_source_remove);
  gtk_info_bar_set_revealed (bar, FALSE);
}

/* ---- busy ------------------------------------------------------------ */

/* A job longer than a frame shows what runs, for how long, and a stop button. */
#define BUSY_TICK_MS 100

/* The live solve's phase, how far it has come, and the time left from the
 * pace of the phase so far (once it has gone a second and 5 %). */
static char *
progress_text (EpdWindow *self,
               double    *fraction)
{
  EpdSolvePhase phase = epd_solve_progress_get (self->solve_progress, fraction);
  gint64 now = g_get_monotonic_time ();
  double elapsed;

  if (phase != self->phase_shown)
    {
      self->phase_shown = phase;
      self->phase_since_us = now;
    }
  elapsed = (now - self->phase_since_us) / 1e6;
  if (phase == EPD_SOLVE_PHASE_WAITING || phase == EPD_SOLVE_PHASE_STUDENT)
    return g_strdup (epd_solve_phase_describe (phase));
  if (elapsed < 1 || *fraction < 0.05 || *fraction >= 1)
    return g_strdup_printf ("%s %.0f %%", epd_solve_phase_describe (phase), 100 * *fraction);
  return g_strdup_printf ("%s %.0f %%, about %.0f s left", epd_solve_phase_describe (phase), 100 * *fraction,
                          elapsed * (1 - *fraction) / *fraction);
}

static gboolean
busy_tick (gpointer user_data)
{
  EpdWindow *self = user_data;
  double seconds = (g_get_monotonic_time () - self->busy_since_us) / 1e6;
  double fraction = 0;
  g_autofree char *what = self->solve_progress != NULL ? progress_text (self, &fraction) : g_strdup (self->busy_what);
  g_autofree char *text = g_strdup_printf ("%s · %.1f s", what, seconds);

  gtk_label_set_text (GTK_LABEL (self->busy_label), text);
  gtk_widget_set_visible (self->busy_label, TRUE);
  gtk_widget_set_visible (self->stop_button, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->busy_progress), fraction);
  gtk_widget_set_visible (self->busy_progress, self->solve_progress != NULL &&
                                               (self->phase_shown == EPD_SOLVE_PHASE_TEACHER ||
                                                self->phase_shown == EPD_SOLVE_PHASE_BASELINES));
  return G_SOURCE_CONTINUE;
}

static void
busy_start (EpdWindow  *self,
            const char *what)
{
  g_free (self->busy_what);
  self->busy_what = g_strdup (what);
  self->busy_since_us = g_get_monotonic_time ();
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  if (self->busy_timeout_id == 0)
    self->busy_timeout_id = g_timeout_add (BUSY_TICK_MS, busy_tick, self);
}

static void
busy_stop (EpdWindow *self)
{
  g_clear_handle_id (&self->busy_timeout_id, g_source_remove);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  gtk_widget_set_visible (self->busy_label, FALSE);
  gtk_widget_set_visible (self->busy_progress, FALSE);
  gtk_widget_set_visible (self->stop_button, FALSE);
  g_clear_pointer (&self->solve_progress, epd_solve_progress_unref);
}

gboolean
epd_window_is_busy (EpdWindow *self)
{
  return gtk_spinner_get_spinning (GTK_SPINNER (self->spinner));
}

static void
stop_clicked (EpdWindow *self)
{
  g_cancellable_cancel (self->solve_cancellable);
  g_cancellable_cancel (self->open_cancellable);
  busy_stop (self);
  epd_window_show_notice (self, "Stopped. Change a setting to solve again.");
}

/* ---- reading the controls ------------------------------------------- */

static const char *
drop_string (GtkWidget *drop)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (drop));

  return item != NULL ? gtk_string_object_get_string (item) : "";
}

const char *
epd_window_get_model_spec (EpdWindow *self)
{
  return drop_string (self->model_drop);
}

void
epd_window_read_options (EpdWindow       *self,
                         EpdSolveOptions *options)
{
  epd_solve_options_init (options);
  epd_solver_kind_from_string (self->solver, &options->solver, NULL);
  options->steps = self->steps;
  epd_schedule_kind_from_string (self->schedule_kind, &options->schedule.kind, NULL);
  options->schedule.sigma_min = self->sigma_min;
  options->schedule.sigma_max = self->sigma_max;
  options->schedule.rho = self->rho;
  options->schedule.shift = self->shift;
  options->afs = self->afs;
}

guint32
epd_window_get_seed (EpdWindow *self)
{
  return self->seed;
}

gsize
epd_window_get_batch (EpdWindow *self)
{
  return self->batch;
}

/* The position of spec in the model menu, or G_MAXUINT. */
static guint
model_spec_position (EpdWindow  *self,
                     const char *spec)
{
  GListModel *list = G_LIST_MODEL (self->model_specs);

  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->model_specs, i), spec) == 0)
      return i;
  return G_MAXUINT;
}

static void open_spec (EpdWindow *self, const char *spec);
static void open_spec_with (EpdWindow *self, const char *spec, gboolean clears_error);

/* A spec the menu lacks (a file, a folder, the command line) enters it only
 * once it has loaded. */
void
epd_window_set_model_spec (EpdWindow  *self,
                           const char *spec)
{
  guint position = model_spec_position (self, spec);

  if (position != G_MAXUINT)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_drop), position);
  else
    open_spec (self, spec);
}

static gboolean
uses_table (const EpdSolveOptions *options)
{
  return options->solver == EPD_SOLVER_EPD || options->solver == EPD_SOLVER_EPD_PLUGIN;
}

/* ---- which table ---------------------------------------------------- */

static EpdSolverKind
table_solver (const EpdSolveOptions *options)
{
  return uses_table (options) ? options->solver : EPD_SOLVER_EPD;
}

/* A shipped table made for this model and exactly these settings (solver, steps,
 * K, AFS, the grid's times), or NULL; its name in name. A distilled one before
 * an RDPO one (app/core's order, with the tables loaded once). */
static const EpdTable *
find_shipped_table (EpdWindow             *self,
                    const EpdSolveOptions *options,
                    guint                  k,
                    const char           **name)
{
  const char *spec = epd_window_get_model_spec (self);

  if (self->shipped_tables == NULL)
    {
      self->shipped_tables = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_table_free);
      self->shipped_names = epd_table_builtin_names ();
      for (guint i = 0; self->shipped_names != NULL && self->shipped_names[i] != NULL; i++)
        {
          g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, self->shipped_names[i], NULL);
          /* A builtin that does not load (tests/data checks them all) matches nothing. */
          g_ptr_array_add (self->shipped_tables, epd_table_load (source, NULL));
        }
    }
  /* The distilled table first (the RDPO one is Compare's B), then any. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < self->shipped_tables->len; i++)
      {
        const EpdTable *table = self->shipped_tables->pdata[i];
        if (epd_table_fits (table, spec, table_solver (options), options->steps, k, options->afs,
                            &options->schedule) && (pass == 1 || !epd_table_is_rdpo (table)))
          {
            *name = self->shipped_names[i];
            return table;
          }
      }
  return NULL;
}

/* "builtin:NAME (distilled)", "uniform (...)", a file's name; ", edited" after a change. */
static char *
table_description (EpdWindow      *self,
                   const EpdTable *table)
{
  gboolean edited = !epd_table_equal (table, self->table_loaded);
  const char *created_by;

  if (self->table_name == NULL)
    return g_strdup_printf ("uniform%s", edited ? ", edited"
                            : self->table_auto ? " (no shipped table fits these settings)" : "");
  created_by = json_object_get_string_member_with_default (self->table_loaded->metadata, "created_by", "");
  return g_strdup_printf ("%s%s%s", self->table_name,
                          g_str_has_prefix (created_by, "epd distill") ? " (distilled)" : "",
                          edited ? ", edited" : "");
}

#define DISTIL_OFFER "Distil a table for these settings"

/* No table made for these settings: the window's uniform stand-in says so,
 * and distillation is offered. */
static gboolean
offers_distil (EpdWindow             *self,
               const EpdSolveOptions *options)
{
  return uses_table (options) && self->table_auto && self->table_name == NULL;
}

static void
update_table_label (EpdWindow *self)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  EpdSolveOptions options;
  const char *shipped_name = NULL;
  g_autofree char *description = NULL;
  g_autofree char *text = NULL;
  g_autofree char *offered = NULL;

  if (table == NULL)
    return;
  epd_window_read_options (self, &options);
  description = table_description (self, table);
  text = uses_table (&options) ? g_strdup_printf ("Table: %s", description)
                               : g_strdup_printf ("Table: %s — not used by %s", description,
                                                  epd_solver_kind_to_string (options.solver));
  gtk_label_set_text (GTK_LABEL (self->table_label), text);
  /* Offer the shipped table that fits when another one, or an edit of it, is in its place. */
  if (find_shipped_table (self, &options, self->points, &shipped_name) != NULL)
    offered = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, shipped_name, NULL);
  if (offered != NULL && g_strcmp0 (offered, self->table_name) == 0 && epd_table_equal (table, self->table_loaded))
    g_clear_pointer (&offered, g_free);
  if (offered != NULL)
    {
      g_autofree char *label = g_strdup_printf ("Use %s", offered);
      gtk_button_set_label (GTK_BUTTON (self->table_button), label);
    }
  else if (offers_distil (self, &options))
    gtk_button_set_label (GTK_BUTTON (self->table_button), DISTIL_OFFER);
  gtk_widget_set_visible (self->table_button, offered != NULL || offers_distil (self, &options));
}

void
epd_window_set_table (EpdWindow      *self,
                      const EpdTable *table,
                      const char     *name,
                      gboolean        automatic)
{
  epd_coef_editor_set_table (EPD_COEF_EDITOR (self->coef_editor), table, self->table_loaded != NULL);
  g_clear_pointer (&self->table_loaded, epd_table_free);
  self->table_loaded = epd_table_copy (table);
  g_free (self->table_name);
  self->table_name = g_strdup (name);
  self->table_auto = automatic;
  update_table_label (self);
}

void
epd_window_table_saved (EpdWindow  *self,
                        const char *path)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));

  g_clear_pointer (&self->table_loaded, epd_table_free);
  self->table_loaded = epd_table_copy (table);
  g_free (self->table_name);
  self->table_name = g_filename_display_basename (path);
  self->table_auto = FALSE;
  update_table_label (self);
}

/* The window's own choice follows the settings: the shipped table made for them,
 * else a uniform one. The user's table (opened, trained or edited) stays while
 * its shape fits the grid. */
static void
choose_table (EpdWindow             *self,
              const EpdSolveOptions *options)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  guint k = self->points;
  gboolean fits = table != NULL && table->steps == options->steps && table->n_points == k;
  const char *shipped_name = NULL;
  const EpdTable *shipped = NULL;
  g_autoptr(EpdTable) uniform = NULL;

  if (fits && !self->table_auto)
    return;
  shipped = find_shipped_table (self, options, k, &shipped_name);
  if (shipped != NULL)
    {
      g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, shipped_name, NULL);
      if (!fits || g_strcmp0 (self->table_name, source) != 0)
        epd_window_set_table (self, shipped, source, TRUE);
      return;
    }
  if (fits && self->table_name == NULL)
    return;
  uniform = epd_table_new (epd_solver_kind_to_string (table_solver (options)), options->steps, k);
  epd_window_set_table (self, uniform, NULL, TRUE);
}

/* The offered shipped table becomes the window's choice again; where none
 * fits, the Training view distils one. */
static void
table_button_clicked (EpdWindow *self)
{
  EpdSolveOptions options;
  const char *shipped_name = NULL;
  const EpdTable *shipped;

  epd_window_read_options (self, &options);
  shipped = find_shipped_table (self, &options, self->points, &shipped_name);
  if (shipped != NULL)
    {
      g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, shipped_name, NULL);
      epd_window_set_table (self, shipped, source, TRUE);
      epd_window_solve (self, 0);
    }
  else if (offers_distil (self, &options))
    {
      gtk_notebook_set_current_page (GTK_NOTEBOOK (self->notebook), 4);
      epd_training_panel_start_distill (EPD_TRAINING_PANEL (self->training_panel));
    }
}

static void
update_grid_labels (EpdWindow             *self,
                    const EpdSolveOptions *options)
{
  g_autofree double *grid = epd_schedule_grid (&options->schedule, options->steps, NULL);
  EpdNfe nfe = epd_solve_options_nfe (options);
  g_autofree char *text = g_strdup_printf ("NFE %u (latency: a step's K points run as one batch)",
                                           nfe.latency);

  epd_coef_editor_set_grid (EPD_COEF_EDITOR (self->coef_editor), grid, options->steps + 1);
  gtk_label_set_text (GTK_LABEL (self->nfe_label), text);
}

/* ---- solving --------------------------------------------------------- */

typedef struct
{
  EpdWindow *window;
  gint64     edit_us;
} SolveData;

static void
update_status (EpdWindow *self)
{
  const EpdSolveResult *r = self->result;
  g_autofree char *error_text = NULL;
  g_autofree char *text = NULL;

  if (r == NULL)
    return;
  error_text = isnan (r->final_error) ? g_strdup ("teacher pending")
                                      : g_strdup_printf ("final error %.4g", r->final_error);
  text = g_strdup_printf ("%s · %" G_GSIZE_FORMAT " samples · NFE %u · solve %.1f ms · %s",
                          epd_denoiser_describe (self->model), r->trace->batch, r->nfe.latency,
                          r->solve_ms, error_text);
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
}

static void
show_result (EpdWindow      *self,
             EpdSolveResult *result)
{
  /* The views borrow the traces: the old result lives until they let go. */
  g_autoptr(EpdSolveResult) old = g_steal_pointer (&self->result);

  self->result = result;
  if (result->teacher != NULL && result->teacher != self->teacher)
    {
      g_clear_pointer (&self->teacher, epd_teacher_run_unref);
      self->teacher = epd_teacher_run_ref (result->teacher);
    }
  epd_trajectory_view_set_traces (EPD_TRAJECTORY_VIEW (self->trajectory_view), result->trace,
                                  result->teacher != NULL ? result->teacher->trace : NULL);
  epd_trajectory_view_set_traces (EPD_TRAJECTORY_VIEW (self->coef_preview), result->trace,
                                  result->teacher != NULL ? result->teacher->trace : NULL);
  epd_error_view_set_report (EPD_ERROR_VIEW (self->error_view), result->errors);
  if (result->teacher != NULL)
    epd_compare_view_set_teacher (EPD_COMPARE_VIEW (self->compare_view), self->model_key, result->teacher);
  update_status (self);
}

static void solve_with_teacher (EpdWindow *self, gint64 edit_us, gboolean teacher_wanted);

static void
solve_done (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  SolveData *data = user_data;
  EpdWindow *self = data->window;
  g_autoptr(GError) error = NULL;
  EpdSolveResult *result = epd_solve_request_run_finish (res, &error);

  epd_studio_jobs_remove (g_task_get_cancellable (G_TASK (res)));
  /* A newer request replaced this one: drop what it made. */
  if (g_task_get_cancellable (G_TASK (res)) != self->solve_cancellable)
    g_clear_pointer (&result, epd_solve_result_free);
  else if (result == NULL)
    {
      busy_stop (self);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        epd_window_show_error (self, "Solve failed", error);
    }
  else
    {
      busy_stop (self);
      epd_studio_timing_result (data->edit_us, result->queued_ms, result->solve_ms, result->total_ms);
      show_result (self, result);
      if (result->teacher == NULL)
        solve_with_teacher (self, 0, TRUE);
      else
        g_signal_emit (self, signals[SOLVED], 0);
    }
  g_object_unref (data->window);
  g_free (data);
}

static void
solve_with_teacher (EpdWindow *self,
                    gint64     edit_us,
                    gboolean   teacher_wanted)
{
  EpdSolveOptions options;
  EpdSolveRequest *request;
  SolveData *data;
  const EpdTable *table;

  if (self->model == NULL)
    return;
  epd_window_read_options (self, &options);
  choose_table (self, &options);
  update_table_label (self);
  update_grid_labels (self, &options);
  table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  g_cancellable_cancel (self->solve_cancellable);
  g_clear_object (&self->solve_cancellable);
  self->solve_cancellable = g_cancellable_new ();
  request = epd_solve_request_new (self->model, self->model_key, &options,
                                   uses_table (&options) ? table : NULL,
                                   epd_window_get_seed (self), epd_window_get_batch (self),
                                   self->teacher);
  /* Image models answer first without the (slow) teacher; it follows in a second job. */
  request->teacher_wanted = teacher_wanted;
  g_clear_pointer (&self->solve_progress, epd_solve_progress_unref);
  self->solve_progress = epd_solve_progress_new ();
  self->phase_shown = EPD_SOLVE_PHASE_WAITING;
  self->phase_since_us = g_get_monotonic_time ();
  request->progress = epd_solve_progress_ref (self->solve_progress);
  data = g_new0 (SolveData, 1);
  data->window = g_object_ref (self);
  data->edit_us = edit_us;
  busy_start (self, teacher_wanted && self->teacher == NULL ? "Solving with the teacher" : "Solving");
  epd_studio_jobs_add (self->solve_cancellable);
  epd_solve_request_run_async (request, self->solve_cancellable, solve_done, data);
  /* Compare solves under the window's key from the start: its column A and
   * this solve then share one teacher. */
  epd_compare_view_set_teacher (EPD_COMPARE_VIEW (self->compare_view), self->model_key, self->teacher);
  epd_compare_view_set_context (EPD_COMPARE_VIEW (self->compare_view), self->model,
                                epd_window_get_model_spec (self), self->mixture, &options,
                                table, epd_window_get_seed (self), epd_window_get_batch (self));
  epd_training_panel_set_context (EPD_TRAINING_PANEL (self->training_panel), self->model,
                                  epd_window_get_model_spec (self), &options, table);
}

void
epd_window_solve (EpdWindow *self,
                  gint64     edit_us)
{
  gboolean small = self->model != NULL && !epd_studio_is_image_model (self->model);

  /* This solve covers whatever the controls queued. */
  g_clear_handle_id (&self->solve_idle_id, g_source_remove);
  solve_with_teacher (self, edit_us, small);
}

static gboolean
solve_idle (gpointer user_data)
{
  EpdWindow *self = user_data;

  self->solve_idle_id = 0;
  epd_window_solve (self, 0);
  return G_SOURCE_REMOVE;
}

/* Changed controls re-solve once, after the main loop's current work: code
 * that sets several controls (a table's settings) causes one solve, with all
 * of them, and no flag has to hold solves back meanwhile. */
static void
controls_changed (EpdWindow *self)
{
  if (self->solve_idle_id == 0)
    self->solve_idle_id = g_idle_add (solve_idle, self);
}

static void
table_edited (EpdWindow *self)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));

  /* An edited table is the user's: it stays when the settings change. */
  self->table_auto = FALSE;
  /* Undo and redo may bring back a table of another shape (the one a change
   * of steps or K replaced): the settings follow it, rather than replace it again. */
  if (table->steps != self->steps || table->n_points != self->points)
    {
      g_object_set (self, "steps", table->steps, "points", table->n_points, NULL);
      g_free (self->table_name);
      self->table_name = g_strdup ("restored by undo");
      g_clear_pointer (&self->table_loaded, epd_table_free);
      self->table_loaded = epd_table_copy (table);
    }
  epd_window_solve (self, g_get_monotonic_time ());
}

/* "auto", "cpu", "vulkan", or "INDEX: NAME (type)" of a listed device. */
static char *
device_selector (EpdWindow *self)
{
  const char *text = drop_string (self->device_drop);
  const char *colon = strchr (text, ':');

  return colon != NULL ? g_strndup (text, colon - text) : g_strdup (text);
}

static void
list_devices_in_thread (GTask        *task,
                        gpointer      source,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  g_autoptr(GPtrArray) devices = epd_vk_list_devices (NULL, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      EpdVkDeviceInfo *info = devices->pdata[i];
      if (info->usable)
        g_ptr_array_add (names, g_strdup_printf ("%u: %s (%s)", info->index, info->name,
                                                 epd_vk_device_type_to_string (info->type)));
    }
  g_task_return_pointer (task, names, (GDestroyNotify) g_ptr_array_unref);
}

static void
devices_listed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  EpdWindow *self = EPD_WINDOW (source);
  g_autoptr(GPtrArray) names = g_task_propagate_pointer (G_TASK (result), NULL);
  GtkStringList *list;

  epd_studio_jobs_remove (g_task_get_cancellable (G_TASK (result)));
  /* The window was closed meanwhile: its widgets are gone. */
  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  list = GTK_STRING_LIST (gtk_drop_down_get_model (GTK_DROP_DOWN (self->device_drop)));
  for (guint i = 0; names != NULL && i < names->len; i++)
    gtk_string_list_append (list, names->pdata[i]);
}

/* Listing Vulkan devices starts an instance: not on the main thread. */
static void
list_devices (EpdWindow *self)
{
  g_autoptr(GTask) task = NULL;

  self->devices_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->devices_cancellable, devices_listed, NULL);
  /* Not cancellable itself: the token tells the callback that the window closed. */
  g_task_set_check_cancellable (task, FALSE);
  epd_studio_jobs_add (self->devices_cancellable);
  g_task_run_in_thread (task, list_devices_in_thread);
}

/* ---- opening a model ------------------------------------------------- */

typedef struct
{
  char        *spec;
  char        *device;
  char        *notice;
  EpdDenoiser *cpu_model;  /* gmm: specs, for the exact density */
  gboolean     clears_error; /* FALSE for the reload after a failed load */
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *open = data;

  g_free (open->spec);
  g_free (open->device);
  g_free (open->notice);
  g_clear_object (&open->cpu_model);
  g_free (open);
}

static void
open_in_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  OpenData *open = task_data;
  GError *error = NULL;
  EpdDenoiser *model = epd_model_open (open->spec, open->device, &open->notice, &error);

  /* A mixture on Vulkan is not an EpdGmm: its CPU twin draws the density. */
  if (model != NULL && g_str_has_prefix (open->spec, "gmm:"))
    open->cpu_model = EPD_IS_GMM (model) ? g_object_ref (model) : epd_model_from_spec (open->spec, NULL);
  if (model == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, model, g_object_unref);
}

static void model_changed (EpdWindow *self);

/* The loaded spec into the menu (without opening it again) and the view. */
static void
select_loaded_spec (EpdWindow  *self,
                    const char *spec)
{
  guint position = model_spec_position (self, spec);

  if (position == G_MAXUINT)
    {
      gtk_string_list_append (self->model_specs, spec);
      position = g_list_model_get_n_items (G_LIST_MODEL (self->model_specs)) - 1;
    }
  g_signal_handlers_block_by_func (self->model_drop, model_changed, self);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_drop), position);
  g_signal_handlers_unblock_by_func (self->model_drop, model_changed, self);
}

static void
open_failed (EpdWindow    *self,
             const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  epd_window_show_error (self, "Cannot open the model", error);
  /* A failed new spec left the menu's model in place; if a cancelled open had
   * dropped that one, open it again. */
  if (self->model == NULL)
    open_spec_with (self, epd_window_get_model_spec (self), FALSE);
}

/* A learned model gets the grid's default range narrowed to the sigmas it was
 * trained on, as on the command line (app/core); other models keep the range. */
static void
fit_schedule_to_model (EpdWindow   *self,
                       EpdDenoiser *model)
{
  EpdSchedule schedule;
  EpdScheduleKind kind;

  if (!epd_schedule_kind_from_string (self->schedule_kind, &kind, NULL))
    return;
  epd_schedule_init (&schedule, kind);
  if (!epd_schedule_fit_model (&schedule, model, FALSE, FALSE))
    return;
  g_object_set (self, "sigma-min", schedule.sigma_min, "sigma-max", schedule.sigma_max, NULL);
}

static void
open_done (GObject      *source,
           GAsyncResult *res,
           gpointer      user_data)
{
  EpdWindow *self = EPD_WINDOW (source);
  OpenData *open = g_task_get_task_data (G_TASK (res));
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = g_task_propagate_pointer (G_TASK (res), &error);

  epd_studio_jobs_remove (g_task_get_cancellable (G_TASK (res)));
  if (g_task_get_cancellable (G_TASK (res)) != self->open_cancellable)
    return;
  busy_stop (self);
  if (model == NULL)
    {
      open_failed (self, error);
      return;
    }
  select_loaded_spec (self, open->spec);
  /* The error of an earlier load no longer holds. */
  if (open->clears_error && gtk_info_bar_get_message_type (GTK_INFO_BAR (self->banner)) == GTK_MESSAGE_ERROR)
    gtk_info_bar_set_revealed (GTK_INFO_BAR (self->banner), FALSE);
  g_set_object (&self->model, model);
  g_clear_object (&self->mixture);
  if (open->cpu_model != NULL && EPD_IS_GMM (open->cpu_model))
    self->mixture = EPD_GMM (g_object_ref (open->cpu_model));
  g_free (self->model_key);
  self->model_key = g_strdup_printf ("%s|%s", open->spec, open->device);
  if (open->notice != NULL && !g_str_has_prefix (open->notice, "device:"))
    epd_window_show_notice (self, open->notice);
  fit_schedule_to_model (self, model);
  epd_trajectory_view_set_model (EPD_TRAJECTORY_VIEW (self->trajectory_view), model, self->mixture);
  epd_trajectory_view_set_model (EPD_TRAJECTORY_VIEW (self->coef_preview), model, self->mixture);
  /* Image models: a few samples; 2-D mixtures: a cloud of paths, the
   * batch they had before an image model took it down. */
  if (epd_studio_is_image_model (model) && epd_window_get_batch (self) > IMAGE_BATCH)
    {
      self->points_batch = epd_window_get_batch (self);
      g_object_set (self, "batch", IMAGE_BATCH, NULL);
    }
  else if (!epd_studio_is_image_model (model) && self->points_batch > 0)
    {
      if (epd_window_get_batch (self) == IMAGE_BATCH)
        g_object_set (self, "batch", (guint) self->points_batch, NULL);
      self->points_batch = 0;
    }
  epd_window_solve (self, 0);
}

static void
open_spec_with (EpdWindow  *self,
                const char *spec,
                gboolean    clears_error)
{
  g_autoptr(GTask) task = NULL;
  OpenData *open = g_new0 (OpenData, 1);

  open->spec = g_strdup (spec);
  open->clears_error = clears_error;
  open->device = device_selector (self);
  g_cancellable_cancel (self->open_cancellable);
  g_clear_object (&self->open_cancellable);
  self->open_cancellable = g_cancellable_new ();
  /* The menu's choice replaces the model at once; a new spec keeps it until it loads. */
  if (model_spec_position (self, spec) != G_MAXUINT)
    g_clear_object (&self->model);
  task = g_task_new (self, self->open_cancellable, open_done, NULL);
  g_task_set_task_data (task, open, open_data_free);
  g_clear_pointer (&self->solve_progress, epd_solve_progress_unref);
  busy_start (self, "Loading the model");
  epd_studio_jobs_add (self->open_cancellable);
  g_task_run_in_thread (task, open_in_thread);
}

static void
open_spec (EpdWindow  *self,
           const char *spec)
{
  open_spec_with (self, spec, TRUE);
}

static void
open_model (EpdWindow *self)
{
  open_spec (self, epd_window_get_model_spec (self));
}

/* ---- shipped learned models ----------------------------------------- */

/* The shipped UNets enter the menu only where they load. */
static const char *shipped_unets[] = { "unet:fashion-mnist" };

static void
probe_in_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (shipped_unets); i++)
    {
      g_autoptr(EpdDenoiser) model = epd_model_from_spec (shipped_unets[i], NULL);

      if (model != NULL)
        g_ptr_array_add (found, g_strdup (shipped_unets[i]));
    }
  g_task_return_pointer (task, found, (GDestroyNotify) g_ptr_array_unref);
}

static void
probe_done (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  EpdWindow *self = EPD_WINDOW (source);
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (res));
  g_autoptr(GPtrArray) found = g_task_propagate_pointer (G_TASK (res), NULL);

  epd_studio_jobs_remove (cancellable);
  if (g_cancellable_is_cancelled (cancellable) || found == NULL)
    return;
  for (guint i = 0; i < found->len; i++)
    if (model_spec_position (self, g_ptr_array_index (found, i)) == G_MAXUINT)
      gtk_string_list_append (self->model_specs, g_ptr_array_index (found, i));
}

static void
probe_shipped_models (EpdWindow *self)
{
  g_autoptr(GTask) task = NULL;

  self->probe_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->probe_cancellable, probe_done, NULL);
  /* Not cancellable itself: the token tells the callback that the window closed. */
  g_task_set_check_cancellable (task, FALSE);
  epd_studio_jobs_add (self->probe_cancellable);
  g_task_run_in_thread (task, probe_in_thread);
}

/* ---- the panel ------------------------------------------------------- */

/* The drop-downs that list enums get their items from the enums' names. */
static void
set_solver_items (GtkWidget *drop)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  for (int k = 0; k < EPD_N_SOLVERS; k++)
    if (k != EPD_SOLVER_TEACHER)
      gtk_string_list_append (list, epd_solver_kind_to_string (k));
  gtk_drop_down_set_model (GTK_DROP_DOWN (drop), G_LIST_MODEL (list));
}

static void
set_schedule_items (GtkWidget *drop)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  for (int k = EPD_SCHEDULE_POLYNOMIAL; k <= EPD_SCHEDULE_FLOWMATCH; k++)
    gtk_string_list_append (list, epd_schedule_kind_to_string (k));
  gtk_drop_down_set_model (GTK_DROP_DOWN (drop), G_LIST_MODEL (list));
}

static void
select_string (GtkWidget  *drop,
               const char *value)
{
  GListModel *model = gtk_drop_down_get_model (GTK_DROP_DOWN (drop));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (model, i);
      if (g_strcmp0 (gtk_string_object_get_string (item), value) == 0)
        {
          gtk_drop_down_set_selected (GTK_DROP_DOWN (drop), i);
          return;
        }
    }
}

/* The kind first: its notify resets the parameters to the kind's defaults,
 * which the second call then replaces. */
static void
set_schedule (EpdWindow         *self,
              const EpdSchedule *schedule)
{
  g_object_set (self, "schedule-kind", epd_schedule_kind_to_string (schedule->kind), NULL);
  g_object_set (self, "sigma-min", schedule->sigma_min, "sigma-max", schedule->sigma_max,
                "rho", schedule->rho, "shift", schedule->shift, NULL);
}

static void
schedule_kind_changed (EpdWindow *self)
{
  EpdSchedule schedule;
  EpdScheduleKind kind;

  if (!epd_schedule_kind_from_string (self->schedule_kind, &kind, NULL))
    return;
  /* A new kind starts from its own defaults. */
  epd_schedule_init (&schedule, kind);
  g_object_set (self, "sigma-min", schedule.sigma_min, "sigma-max", schedule.sigma_max,
                "rho", schedule.rho, "shift", schedule.shift, NULL);
  controls_changed (self);
}

void
epd_window_apply_table_settings (EpdWindow      *self,
                                 const EpdTable *table)
{
  /* The table's solver comes with its own steps: no NFE to keep. */
  self->applying_table = TRUE;
  g_object_set (self, "solver", table->solver, "steps", table->steps, "points", table->n_points,
                "afs", table->afs, NULL);
  self->applying_table = FALSE;
  set_schedule (self, &table->schedule);
}

/* A new solver keeps the latency NFE (the budget a comparison is about):
 * the steps become those whose latency NFE is nearest the old solver's. */
static void
solver_changed (EpdWindow *self)
{
  EpdSolveOptions options;
  EpdSolverKind old;
  guint latency, steps;

  if (!self->applying_table && self->solver_shown != NULL &&
      epd_solver_kind_from_string (self->solver_shown, &old, NULL))
    {
      epd_window_read_options (self, &options);
      options.solver = old;
      latency = epd_solve_options_nfe (&options).latency;
      epd_window_read_options (self, &options);
      steps = epd_steps_for_latency (&options, latency,
                                            (guint) gtk_adjustment_get_upper (
                                              gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (self->steps_spin))));
      g_object_set (self, "steps", steps, NULL);
    }
  g_free (self->solver_shown);
  self->solver_shown = g_strdup (self->solver);
}

/* A drop-down's selected position as its item's string, and back. */
static gboolean
selected_to_string (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      drop)
{
  GListModel *model = gtk_drop_down_get_model (drop);
  guint position = g_value_get_uint (from);
  g_autoptr(GtkStringObject) item = NULL;

  if (model == NULL || position >= g_list_model_get_n_items (model))
    return FALSE;
  item = g_list_model_get_item (model, position);
  g_value_set_string (to, gtk_string_object_get_string (item));
  return TRUE;
}

static gboolean
string_to_selected (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      drop)
{
  GListModel *model = gtk_drop_down_get_model (drop);

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (gtk_string_object_get_string (item), g_value_get_string (from)) == 0)
        {
          g_value_set_uint (to, i);
          return TRUE;
        }
    }
  return FALSE;
}

/* A typed value outside the control's range is shown invalid, with the range,
 * and not applied (nor clamped) until corrected. */
static void
spin_text_changed (GtkEditable *editable,
                   GtkWidget   *spin)
{
  GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (spin));
  const char *text = gtk_editable_get_text (editable);
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);
  gboolean valid = end != text && *end == '\0' && isfinite (value) &&
                   value >= gtk_adjustment_get_lower (adjustment) &&
                   value <= gtk_adjustment_get_upper (adjustment);
  g_autofree char *range = NULL;

  /* The template's tooltip is kept aside while the range replaces it. */
  if (g_object_get_data (G_OBJECT (spin), "epd-tooltip") == NULL)
    g_object_set_data_full (G_OBJECT (spin), "epd-tooltip",
                            g_strdup (gtk_widget_get_tooltip_text (spin) ? gtk_widget_get_tooltip_text (spin) : ""),
                            g_free);
  if (valid)
    {
      const char *tooltip = g_object_get_data (G_OBJECT (spin), "epd-tooltip");

      gtk_widget_remove_css_class (spin, "error");
      gtk_widget_set_tooltip_text (spin, *tooltip != '\0' ? tooltip : NULL);
      return;
    }
  range = g_strdup_printf ("Allowed: %g to %g", gtk_adjustment_get_lower (adjustment),
                           gtk_adjustment_get_upper (adjustment));
  gtk_widget_add_css_class (spin, "error");
  gtk_widget_set_tooltip_text (spin, range);
}

static void
bind_spin (EpdWindow  *self,
           GtkWidget  *spin,
           const char *property)
{
  gtk_spin_button_set_update_policy (GTK_SPIN_BUTTON (spin), GTK_UPDATE_IF_VALID);
  g_signal_connect (spin, "changed", G_CALLBACK (spin_text_changed), spin);
  /* The template's values are the defaults. */
  g_object_bind_property (gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (spin)), "value", self, property,
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}

static void
bind_drop (EpdWindow  *self,
           GtkWidget  *drop,
           const char *property)
{
  g_object_bind_property_full (self, property, drop, "selected", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                               string_to_selected, selected_to_string, drop, NULL);
}

static void
bind_panel (EpdWindow *self)
{
  bind_drop (self, self->solver_drop, "solver");
  bind_drop (self, self->schedule_drop, "schedule-kind");
  bind_spin (self, self->steps_spin, "steps");
  bind_spin (self, self->points_spin, "points");
  bind_spin (self, self->sigma_min_spin, "sigma-min");
  bind_spin (self, self->sigma_max_spin, "sigma-max");
  bind_spin (self, self->rho_spin, "rho");
  bind_spin (self, self->shift_spin, "shift");
  bind_spin (self, self->seed_spin, "seed");
  bind_spin (self, self->batch_spin, "batch");
  g_object_bind_property (self->afs_check, "active", self, "afs", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}

static void
model_changed (EpdWindow *self)
{
  open_model (self);
}

/* Model specs can be long paths: shown ellipsized in the middle, so the
 * sidebar keeps its width; the tooltip has the whole spec. */
static void
spec_item_setup (GtkSignalListItemFactory *factory,
                 GtkListItem              *item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_width_chars (GTK_LABEL (label), 12);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 28);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
}

static void
spec_item_bind (GtkSignalListItemFactory *factory,
                GtkListItem              *item)
{
  const char *spec = gtk_string_object_get_string (gtk_list_item_get_item (item));
  GtkWidget *label = gtk_list_item_get_child (item);

  gtk_label_set_text (GTK_LABEL (label), spec);
  gtk_widget_set_tooltip_text (label, spec);
}

static void
setup_model_drop (EpdWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  const char * const *presets = epd_gmm_preset_names ();

  self->model_specs = gtk_string_list_new (NULL);
  for (guint i = 0; presets[i] != NULL; i++)
    {
      g_autofree char *spec = g_strdup_printf ("gmm:%s", presets[i]);
      gtk_string_list_append (self->model_specs, spec);
    }
  gtk_string_list_append (self->model_specs, FASHION_MNIST_SPEC);
  g_signal_connect (factory, "setup", G_CALLBACK (spec_item_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (spec_item_bind), NULL);
  gtk_drop_down_set_factory (GTK_DROP_DOWN (self->model_drop), factory);
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->model_drop), G_LIST_MODEL (self->model_specs));
  select_string (self->model_drop, EPD_DEFAULT_MODEL);
  g_signal_connect_swapped (self->model_drop, "notify::selected", G_CALLBACK (model_changed), self);
}

/* The panel's widgets come from the template (gtk/epd-window.ui); their
 * lists and handlers from here. */
static void
setup_panel (EpdWindow *self)
{
  static const char *live[] = { "notify::solver", "notify::steps", "notify::points", "notify::sigma-min",
                                 "notify::sigma-max", "notify::rho", "notify::shift", "notify::afs",
                                 "notify::seed", "notify::batch" };

  setup_model_drop (self);
  set_solver_items (self->solver_drop);
  set_schedule_items (self->schedule_drop);
  bind_panel (self);
  g_signal_connect_swapped (self->table_button, "clicked", G_CALLBACK (table_button_clicked), self);
  g_signal_connect_swapped (self->stop_button, "clicked", G_CALLBACK (stop_clicked), self);
  g_signal_connect_swapped (self->device_drop, "notify::selected", G_CALLBACK (model_changed), self);
  g_signal_connect (self, "notify::schedule-kind", G_CALLBACK (schedule_kind_changed), NULL);
  self->solver_shown = g_strdup (self->solver);
  g_signal_connect (self, "notify::solver", G_CALLBACK (solver_changed), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (live); i++)
    g_signal_connect (self, live[i], G_CALLBACK (controls_changed), NULL);
}

/* ---- the views ------------------------------------------------------- */

static void
training_table_ready (EpdWindow      *self,
                      const EpdTable *table)
{
  /* The run's settings come with its table, as when a file is opened: a
   * setting changed during the run must not replace the result. */
  epd_window_apply_table_settings (self, table);
  epd_window_set_table (self, table, "trained in the Training view", FALSE);
  epd_window_show_notice (self, "The trained table is now the edited table (Ctrl+Z goes back).");
  epd_window_solve (self, 0);
}

/* Compare before/after: the run's start table (A) and its result (B). */
static void
training_compare (EpdWindow *self)
{
  const EpdTable *start, *result;

  if (!epd_training_panel_get_before_after (EPD_TRAINING_PANEL (self->training_panel), &start, &result))
    return;
  epd_compare_view_show_pair (EPD_COMPARE_VIEW (self->compare_view), start, result);
  gtk_notebook_set_current_page (GTK_NOTEBOOK (self->notebook), 3);
}

/* win.undo and win.redo (Ctrl+Z, Shift+Ctrl+Z) follow the editor's history. */
static void
sync_undo_actions (EpdWindow *self)
{
  gboolean can_undo, can_redo;

  g_object_get (self->coef_editor, "can-undo", &can_undo, "can-redo", &can_redo, NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", can_undo);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", can_redo);
}

static void
undo_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  EpdCoefEditor *editor = EPD_COEF_EDITOR (EPD_WINDOW (widget)->coef_editor);

  if (g_str_equal (action_name, "win.undo"))
    epd_coef_editor_undo (editor);
  else
    epd_coef_editor_redo (editor);
}

static void
setup_views (EpdWindow *self)
{
  /* Under the editor the paths fill a wide strip: each axis fits its data. */
  epd_trajectory_view_set_free_aspect (EPD_TRAJECTORY_VIEW (self->coef_preview), TRUE);
  g_signal_connect_object (self->coef_editor, "notify::can-undo", G_CALLBACK (sync_undo_actions), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->coef_editor, "notify::can-redo", G_CALLBACK (sync_undo_actions), self,
                           G_CONNECT_SWAPPED);
  /* A training job keeps its panel alive after the window closed: the
   * handlers must go with the window. */
  g_signal_connect_object (self->coef_editor, "changed", G_CALLBACK (table_edited), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->training_panel, "table-ready", G_CALLBACK (training_table_ready), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->training_panel, "compare-requested", G_CALLBACK (training_compare), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect (self->banner, "response", G_CALLBACK (banner_response), self);
}

/* ---- view actions ---------------------------------------------------- */

static void
view_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  EpdWindow *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));
  EpdTrajectoryView *view = EPD_TRAJECTORY_VIEW (self->trajectory_view);
  EpdCoefEditor *editor = EPD_COEF_EDITOR (self->coef_editor);

  if (g_str_equal (name, "play"))
    epd_trajectory_view_toggle_play (view);
  else if (g_str_equal (name, "step-forward"))
    epd_trajectory_view_step (view, 1);
  else if (g_str_equal (name, "step-back"))
    epd_trajectory_view_step (view, -1);
  else if (g_str_equal (name, "reset-zoom"))
    epd_trajectory_view_reset_zoom (view);
  else if (g_str_equal (name, "reset-step"))
    epd_coef_editor_reset_step (editor);
  else if (g_str_equal (name, "solve"))
    epd_window_solve (self, 0);
  else if (g_str_has_prefix (name, "page-"))
    gtk_notebook_set_current_page (GTK_NOTEBOOK (self->notebook), atoi (name + 5) - 1);
}

static void
install_view_actions (EpdWindow *self)
{
  static const char *names[] = { "play", "step-forward", "step-back", "reset-zoom", "reset-step", "solve", "page-1", "page-2", "page-3", "page-4",
                                 "page-5" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GSimpleAction) action = g_simple_action_new (names[i], NULL);
      g_signal_connect (action, "activate", G_CALLBACK (view_action), self);
      g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
    }
}

static const char *view_names[] = { "trajectories", "coefficients", "error", "compare", "training" };

gboolean
epd_window_show_view (EpdWindow  *self,
                      const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (view_names); i++)
    if (g_strcmp0 (name, view_names[i]) == 0)
      {
        gtk_notebook_set_current_page (GTK_NOTEBOOK (self->notebook), i);
        return TRUE;
      }
  return FALSE;
}

/* ---- object ---------------------------------------------------------- */

static void
epd_window_dispose (GObject *object)
{
  EpdWindow *self = EPD_WINDOW (object);

  g_cancellable_cancel (self->solve_cancellable);
  g_cancellable_cancel (self->open_cancellable);
  g_cancellable_cancel (self->devices_cancellable);
  g_cancellable_cancel (self->probe_cancellable);
  g_clear_handle_id (&self->banner_timeout_id, g_source_remove);
  g_clear_object (&self->solve_cancellable);
  g_clear_object (&self->open_cancellable);
  g_clear_object (&self->devices_cancellable);
  g_clear_object (&self->probe_cancellable);
  g_clear_handle_id (&self->busy_timeout_id, g_source_remove);
  g_clear_pointer (&self->busy_what, g_free);
  g_clear_pointer (&self->solve_progress, epd_solve_progress_unref);
  G_OBJECT_CLASS (epd_window_parent_class)->dispose (object);
}

static void
epd_window_finalize (GObject *object)
{
  EpdWindow *self = EPD_WINDOW (object);

  g_clear_pointer (&self->result, epd_solve_result_free);
  g_clear_pointer (&self->teacher, epd_teacher_run_unref);
  g_clear_object (&self->model);
  g_clear_object (&self->mixture);
  g_clear_object (&self->model_specs);
  g_free (self->model_key);
  g_clear_pointer (&self->table_loaded, epd_table_free);
  g_free (self->table_name);
  g_free (self->solver);
  g_free (self->solver_shown);
  g_free (self->schedule_kind);
  g_clear_pointer (&self->shipped_tables, g_ptr_array_unref);
  g_strfreev (self->shipped_names);
  G_OBJECT_CLASS (epd_window_parent_class)->finalize (object);
}

static void
epd_window_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  EpdWindow *self = EPD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SOLVER: g_value_set_string (value, self->solver); break;
    case PROP_STEPS: g_value_set_uint (value, self->steps); break;
    case PROP_POINTS: g_value_set_uint (value, self->points); break;
    case PROP_SCHEDULE_KIND: g_value_set_string (value, self->schedule_kind); break;
    case PROP_SIGMA_MIN: g_value_set_double (value, self->sigma_min); break;
    case PROP_SIGMA_MAX: g_value_set_double (value, self->sigma_max); break;
    case PROP_RHO: g_value_set_double (value, self->rho); break;
    case PROP_SHIFT: g_value_set_double (value, self->shift); break;
    case PROP_AFS: g_value_set_boolean (value, self->afs); break;
    case PROP_SEED: g_value_set_uint (value, self->seed); break;
    case PROP_BATCH: g_value_set_uint (value, self->batch); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Each setter notifies only on a change, so bindings and re-solves settle. */
static void
set_string (EpdWindow  *self,
            char      **field,
            const char *value,
            guint       prop)
{
  /* (g_set_str() is GLib 2.76, past the 2.74 this builds against.) */
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

#define SET_FIELD(field, value, prop) \
  G_STMT_START { \
    if (self->field != (value)) \
      { \
        self->field = (value); \
        g_object_notify_by_pspec (object, properties[prop]); \
      } \
  } G_STMT_END

static void
epd_window_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  EpdWindow *self = EPD_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SOLVER: set_string (self, &self->solver, g_value_get_string (value), prop_id); break;
    case PROP_STEPS: SET_FIELD (steps, g_value_get_uint (value), prop_id); break;
    case PROP_POINTS: SET_FIELD (points, g_value_get_uint (value), prop_id); break;
    case PROP_SCHEDULE_KIND: set_string (self, &self->schedule_kind, g_value_get_string (value), prop_id); break;
    case PROP_SIGMA_MIN: SET_FIELD (sigma_min, g_value_get_double (value), prop_id); break;
    case PROP_SIGMA_MAX: SET_FIELD (sigma_max, g_value_get_double (value), prop_id); break;
    case PROP_RHO: SET_FIELD (rho, g_value_get_double (value), prop_id); break;
    case PROP_SHIFT: SET_FIELD (shift, g_value_get_double (value), prop_id); break;
    case PROP_AFS: SET_FIELD (afs, g_value_get_boolean (value), prop_id); break;
    case PROP_SEED: SET_FIELD (seed, g_value_get_uint (value), prop_id); break;
    case PROP_BATCH: SET_FIELD (batch, g_value_get_uint (value), prop_id); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#undef SET_FIELD

static void
install_properties (GObjectClass *object_class)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  EpdSchedule edm;

  /* The grid's defaults are the solver library's (a learned model's range
   * then comes from app/core when it opens). */
  epd_schedule_init (&edm, EPD_SCHEDULE_POLYNOMIAL);
  properties[PROP_SOLVER] = g_param_spec_string ("solver", NULL, NULL, "epd", flags);
  properties[PROP_STEPS] = g_param_spec_uint ("steps", NULL, NULL, 1, G_MAXUINT, 3, flags);
  properties[PROP_POINTS] = g_param_spec_uint ("points", NULL, NULL, 1, G_MAXUINT, 2, flags);
  properties[PROP_SCHEDULE_KIND] = g_param_spec_string ("schedule-kind", NULL, NULL, "polynomial", flags);
  properties[PROP_SIGMA_MIN] = g_param_spec_double ("sigma-min", NULL, NULL, 0, G_MAXDOUBLE, edm.sigma_min, flags);
  properties[PROP_SIGMA_MAX] = g_param_spec_double ("sigma-max", NULL, NULL, 0, G_MAXDOUBLE, edm.sigma_max, flags);
  properties[PROP_RHO] = g_param_spec_double ("rho", NULL, NULL, 0, G_MAXDOUBLE, 7, flags);
  properties[PROP_SHIFT] = g_param_spec_double ("shift", NULL, NULL, 0, G_MAXDOUBLE, 3, flags);
  properties[PROP_AFS] = g_param_spec_boolean ("afs", NULL, NULL, TRUE, flags);
  properties[PROP_SEED] = g_param_spec_uint ("seed", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_BATCH] = g_param_spec_uint ("batch", NULL, NULL, 1, G_MAXUINT, 256, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
epd_window_class_init (EpdWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = epd_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = epd_window_finalize;
  G_OBJECT_CLASS (klass)->get_property = epd_window_get_property;
  G_OBJECT_CLASS (klass)->set_property = epd_window_set_property;
  install_properties (G_OBJECT_CLASS (klass));
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_activated);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, undo_activated);

  g_type_ensure (EPD_TYPE_TRAJECTORY_VIEW);
  g_type_ensure (EPD_TYPE_COEF_EDITOR);
  g_type_ensure (EPD_TYPE_ERROR_VIEW);
  g_type_ensure (EPD_TYPE_COMPARE_VIEW);
  g_type_ensure (EPD_TYPE_TRAINING_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/epdstudio/EpdStudio/gtk/epd-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, EpdWindow, name)
  BIND (model_drop);
  BIND (device_drop);
  BIND (solver_drop);
  BIND (steps_spin);
  BIND (points_spin);
  BIND (schedule_drop);
  BIND (sigma_min_spin);
  BIND (sigma_max_spin);
  BIND (rho_spin);
  BIND (shift_spin);
  BIND (afs_check);
  BIND (seed_spin);
  BIND (batch_spin);
  BIND (nfe_label);
  BIND (table_label);
  BIND (table_button);
  BIND (notebook);
  BIND (trajectory_view);
  BIND (coef_editor);
  BIND (coef_preview);
  BIND (error_view);
  BIND (compare_view);
  BIND (training_panel);
  BIND (spinner);
  BIND (stop_button);
  BIND (busy_label);
  BIND (busy_progress);
  BIND (status_label);
  BIND (banner);
  BIND (banner_label);
#undef BIND

  /* A solve with its teacher is on screen (scripts and tests wait for it). */
  signals[SOLVED] = g_signal_new ("solved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
epd_window_init (EpdWindow *self)
{
  EpdSchedule edm;

  /* The properties' defaults; the template's controls take them over. */
  self->solver = g_strdup ("epd");
  self->export_scale = 1;
  self->schedule_kind = g_strdup ("polynomial");
  gtk_widget_init_template (GTK_WIDGET (self));
  setup_panel (self);
  /* The template's numbers only fill the controls: the schedule starts from
   * the solver library's defaults. */
  epd_schedule_init (&edm, EPD_SCHEDULE_POLYNOMIAL);
  set_schedule (self, &edm);
  setup_views (self);
  install_view_actions (self);
  sync_undo_actions (self);
  epd_window_install_file_actions (self);
  epd_window_setup_drop (self);
  list_devices (self);
  probe_shipped_models (self);
  open_model (self);
}

EpdWindow *
epd_window_new (GtkApplication *application)
{
  return g_object_new (EPD_TYPE_WINDOW, "application", application, NULL);
}
