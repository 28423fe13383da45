/* SPDX-License-Identifier: MIT
 *
 * test-studio-smoke.c: the real window under Xvfb (tests/app/studio/meson.build),
 * driven from outside through the studio library: the default model solves
 * with its shipped table, a weight edit re-solves, tables save and load back
 * equal in both formats, the view exports, malformed files are refused, a
 * change of steps swaps tables, and a trained table survives a concurrent
 * change of settings and undo; a UNet folder that does not load stays out of
 * the model menu with an error, and a real one loads and solves as images;
 * distil -> RDPO -> Compare before/after shows the run's start (A) against
 * its result (B) on the same noises, each with a reward. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "epd-test-widget.h"
#include "epd-application.h"
#include "epd-coef-editor.h"
#include "epd-compare-view.h"
#include "epd-model.h"
#include "epd-studio-jobs.h"
#include "epd-training-panel.h"
#include "epd-window-private.h"

#define SMOKE_TIMEOUT_S 160

static struct
{
  guint     stage;
  guint     timeout_id;
  gulong    solved_id;
  char     *dir;
  EpdTable *trained;   /* the "trained" table the test hands over */
  gboolean  finished;
  char     *failure;
} smoke;

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = path != NULL ? g_dir_open (path, 0, NULL) : NULL;
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, entry, NULL);
      g_remove (file);
    }
  if (path != NULL)
    g_rmdir (path);
}

static void
smoke_finish (EpdWindow  *self,
              const char *failure)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (smoke.stage == 0)
    return;
  smoke.stage = 0;
  smoke.finished = TRUE;
  g_clear_handle_id (&smoke.timeout_id, g_source_remove);
  g_clear_signal_handler (&smoke.solved_id, self);
  smoke.failure = g_strdup (failure);
  g_clear_pointer (&smoke.trained, epd_table_free);
  remove_dir (smoke.dir);
  g_clear_pointer (&smoke.dir, g_free);
  g_application_quit (G_APPLICATION (app));
}

static gboolean
smoke_timeout (gpointer user_data)
{
  EpdWindow *self = user_data;

  smoke.timeout_id = 0;
  smoke_finish (self, "timed out");
  return G_SOURCE_REMOVE;
}

/* A saved table must load back equal, in both formats. */
static char *
smoke_save_and_reload (EpdWindow  *self,
                       const char *name)
{
  g_autofree char *path = g_build_filename (smoke.dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) loaded = NULL;
  const EpdTable *edited = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));

  if (!epd_window_save_table (self, path, &error) || (loaded = epd_table_load (path, &error)) == NULL)
    return g_strdup_printf ("%s: %s", name, error->message);
  for (gsize i = 0; i < (gsize) edited->steps * edited->n_points; i++)
    if (loaded->weight[i] != edited->weight[i] || loaded->r[i] != edited->r[i])
      return g_strdup_printf ("%s: coefficient %" G_GSIZE_FORMAT " changed in the round trip", name, i);
  return NULL;
}

static char *
smoke_check_edit (EpdWindow *self)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  gboolean can_undo = FALSE, can_redo = TRUE;
  double sum = 0;

  /* After one edit there is something to undo and nothing to redo. */
  g_object_get (self->coef_editor, "can-undo", &can_undo, "can-redo", &can_redo, NULL);
  if (!can_undo || can_redo)
    return g_strdup_printf ("after an edit can-undo is %d and can-redo %d", can_undo, can_redo);

  if (table->weight[0] != 0.8)
    return g_strdup_printf ("the edited weight is %g, not 0.8", table->weight[0]);
  for (guint k = 0; k < table->n_points; k++)
    sum += table->weight[k];
  if (fabs (sum - 1) > 1e-12)
    return g_strdup_printf ("the edited row sums to %.17g", sum);
  return NULL;
}

/* A malformed file must be refused with the banner, the edited table kept. */
static char *
smoke_check_bad_file (EpdWindow  *self,
                      const char *name,
                      const char *contents)
{
  g_autofree char *path = g_build_filename (smoke.dir, name, NULL);
  g_autoptr(EpdTable) before = epd_table_copy (epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor)));

  gtk_info_bar_set_revealed (GTK_INFO_BAR (self->banner), FALSE);
  if (!g_file_set_contents (path, contents, -1, NULL))
    return g_strdup_printf ("cannot write %s", name);
  if (epd_window_open_file (self, path))
    return g_strdup_printf ("the malformed %s was accepted", name);
  if (!gtk_info_bar_get_revealed (GTK_INFO_BAR (self->banner)))
    return g_strdup_printf ("the malformed %s showed no error", name);
  if (!epd_table_equal (before, epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor))))
    return g_strdup_printf ("the malformed %s changed the edited table", name);
  g_test_message ("%s refused: %s", name, gtk_label_get_text (GTK_LABEL (self->banner_label)));
  return NULL;
}

static char *
smoke_export (EpdWindow *self)
{
  g_autofree char *path = g_build_filename (smoke.dir, "view.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  if (!epd_window_export_view (self, path, &error))
    return g_strdup_printf ("export: %s", error->message);
  if (!g_file_get_contents (path, &data, &length, NULL) || length < 1000 || memcmp (data, "\x89PNG", 4) != 0)
    return g_strdup ("the exported view is not a PNG");
  return NULL;
}

/* The final error of solver in the teacher's sweep at latency NFE nfe, or NAN. */
static double
sweep_error (const EpdErrorReport *report,
             const char           *solver,
             guint                 nfe)
{
  for (guint s = 0; s < report->sweeps->len; s++)
    {
      const EpdErrorSweep *sweep = report->sweeps->pdata[s];
      for (guint i = 0; g_strcmp0 (sweep->name, solver) == 0 && i < sweep->nfe->len; i++)
        if (g_array_index (sweep->nfe, double, i) == nfe)
          return g_array_index (sweep->error, double, i);
    }
  return NAN;
}

/* The default model starts with its shipped distilled table, and that table's
 * error to the teacher is well below the uniform table's (solved here, on the
 * same noises) and below Euler's at the same latency NFE. */
static char *
smoke_check_start_table (EpdWindow *self)
{
  EpdSolveResult *result = self->result;
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  g_autoptr(EpdTable) uniform = NULL;
  g_autoptr(EpdSolveRequest) request = NULL;
  g_autoptr(EpdSolveResult) uniform_result = NULL;
  g_autoptr(GError) error = NULL;
  EpdSolveOptions options;
  double euler;

  if (g_strcmp0 (epd_window_get_model_spec (self), EPD_DEFAULT_MODEL) != 0)
    return NULL;
  if (!self->table_auto || self->table_name == NULL ||
      !g_str_has_prefix (self->table_name, EPD_TABLE_BUILTIN_PREFIX) ||
      strstr (gtk_label_get_text (GTK_LABEL (self->table_label)), "(distilled)") == NULL)
    return g_strdup_printf ("the start table is “%s”, not a shipped distilled one",
                            gtk_label_get_text (GTK_LABEL (self->table_label)));
  epd_window_read_options (self, &options);
  uniform = epd_table_new (table->solver, table->steps, table->n_points);
  request = epd_solve_request_new (self->model, self->model_key, &options, uniform, epd_window_get_seed (self),
                                   epd_window_get_batch (self), self->teacher);
  uniform_result = epd_solve_request_run (request, NULL, &error);
  if (uniform_result == NULL)
    return g_strdup_printf ("the uniform table's solve failed: %s", error->message);
  euler = sweep_error (self->teacher->baselines, "euler", result->nfe.latency);
  g_test_message ("start table %s: final error %.4g; uniform table %.4g, Euler %.4g at latency NFE %u",
              self->table_name, result->final_error, uniform_result->final_error, euler, result->nfe.latency);
  if (uniform_result->teacher != self->teacher)
    return g_strdup ("the uniform table's solve did not reuse the teacher");
  if (!(result->final_error < 0.25 * uniform_result->final_error))
    return g_strdup ("the start table is not well below the uniform table's error");
  if (!(result->final_error < euler))
    return g_strdup ("the start table does not beat Euler at the same latency NFE");
  return NULL;
}

/* An edit of the shipped table says so, and the window offers the table back. */
static char *
smoke_check_offer (EpdWindow *self)
{
  const char *label = gtk_label_get_text (GTK_LABEL (self->table_label));

  if (g_strcmp0 (epd_window_get_model_spec (self), EPD_DEFAULT_MODEL) != 0)
    return NULL;
  if (strstr (label, ", edited") == NULL || !gtk_widget_get_visible (self->table_button))
    return g_strdup_printf ("the edited start table reads “%s”, %s offer of the shipped table", label,
                            gtk_widget_get_visible (self->table_button) ? "with an" : "with no");
  g_test_message ("%s; offered: %s", label, gtk_button_get_label (GTK_BUTTON (self->table_button)));
  return NULL;
}

/* Compare's column A (the edited table) solves as the other views do: the
 * window's AFS, hence its NFE. The uniform table itself has AFS off. */
static char *
smoke_check_compare (EpdWindow *self)
{
  EpdSolveOptions options;
  g_autoptr(GError) error = NULL;
  guint nfe;

  if (!epd_compare_view_get_column_options (EPD_COMPARE_VIEW (self->compare_view), 0, &options, &error))
    return g_strdup_printf ("compare column A: %s", error->message);
  nfe = epd_solve_options_nfe (&options).latency;
  g_test_message ("compare column A at NFE %u, the window at NFE %u", nfe, self->result->nfe.latency);
  if (nfe != self->result->nfe.latency ||
      !options.afs != !gtk_check_button_get_active (GTK_CHECK_BUTTON (self->afs_check)))
    return g_strdup ("compare column A does not solve the edited table as the window does");
  return NULL;
}

/* Row step's weights: w on the first point, the rest shared equally. */
static void
smoke_set_row (EpdTable *table,
               guint     step,
               double    w)
{
  double *row = table->weight + (gsize) step * table->n_points;

  row[0] = table->n_points > 1 ? w : 1;
  for (guint k = 1; k < table->n_points; k++)
    row[k] = (1 - w) / (table->n_points - 1);
}

static char *
smoke_check_trained (EpdWindow  *self,
                     const char *when)
{
  const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));

  g_test_message ("%s: %s", when, gtk_label_get_text (GTK_LABEL (self->table_label)));
  if (!epd_table_equal (table, smoke.trained))
    return g_strdup_printf ("%s, the editor has a %u-step table, not the trained one", when, table->steps);
  if ((guint) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->steps_spin)) != smoke.trained->steps)
    return g_strdup_printf ("%s, the steps are not the trained table's", when);
  return NULL;
}

static void smoke_start_models (EpdWindow *self);

/* A typed value out of range is shown invalid with the range, and applied
 * neither as typed nor clamped; a valid one clears the mark. */
static char *
smoke_check_invalid_input (EpdWindow *self)
{
  GtkSpinButton *spin = GTK_SPIN_BUTTON (self->steps_spin);
  guint steps = 0;
  g_autofree char *tooltip = NULL;

  gtk_editable_set_text (GTK_EDITABLE (spin), "-7");
  tooltip = g_strdup (gtk_widget_get_tooltip_text (GTK_WIDGET (spin)));
  g_test_message ("steps typed -7: tooltip %s", tooltip);
  if (!gtk_widget_has_css_class (GTK_WIDGET (spin), "error") || tooltip == NULL ||
      !g_str_has_prefix (tooltip, "Allowed: "))
    return g_strdup ("an out-of-range step count was not shown invalid with its range");
  /* Enter: the typed value is refused, not clamped to the lower bound. */
  gtk_spin_button_update (spin);
  g_object_get (self, "steps", &steps, NULL);
  if (steps != 3)
    return g_strdup_printf ("an out-of-range step count was applied as %u", steps);
  gtk_editable_set_text (GTK_EDITABLE (spin), "3");
  if (gtk_widget_has_css_class (GTK_WIDGET (spin), "error"))
    return g_strdup ("a valid step count is still shown invalid");
  return NULL;
}
static void smoke_start_training (EpdWindow *self);

/* Compare's B follows the model and the grid: the shipped table that fits,
 * else the uniform table. */
static char *
smoke_check_compare_b (EpdWindow  *self,
                       const char *expected)
{
  const char *b = epd_compare_view_get_source (EPD_COMPARE_VIEW (self->compare_view), 1);

  g_test_message ("compare B: %s", b);
  if (g_strcmp0 (b, expected) != 0)
    return g_strdup_printf ("compare B is %s, not %s", b, expected);
  return NULL;
}

/* The result of a run is never lost: it arrives while the settings say 4
 * steps (stage 5), stays through its solve (6); a change of steps replaces
 * it (7), and undo brings it back for good (8). TRUE while going on. */
static gboolean
smoke_trained_step (EpdWindow  *self,
                    char      **failure)
{
  switch (smoke.stage++)
    {
    case 5:
      g_signal_emit_by_name (self->training_panel, "table-ready", smoke.trained);
      return TRUE;
    case 6:
      if ((*failure = smoke_check_trained (self, "trained during a change of steps")) != NULL)
        return FALSE;
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
      return TRUE;
    case 7:
      /* Ctrl+Z's action, as a user's key press would activate it. */
      if (!gtk_widget_activate_action (GTK_WIDGET (self), "win.undo", NULL))
        {
          *failure = g_strdup ("win.undo is missing");
          return FALSE;
        }
      return TRUE;
    default:
      *failure = smoke_check_trained (self, "after undo");
      if (*failure == NULL)
        smoke_start_training (self);
      return *failure == NULL;
    }
}

/* ---- distil -> RDPO -> compare before/after ---------------------------- */

#define SMOKE_TRAIN_ITERATIONS 20

static gboolean
smoke_click (EpdWindow  *self,
             const char *label)
{
  GtkWidget *button = epd_test_find_widget (self->training_panel, GTK_TYPE_BUTTON, label);

  if (button == NULL || !gtk_widget_get_sensitive (button))
    return FALSE;
  g_signal_emit_by_name (button, "clicked");
  return TRUE;
}

/* The run is over when Compare before/after becomes available. */
static gboolean
smoke_run_over (EpdWindow *self)
{
  GtkWidget *button = epd_test_find_widget (self->training_panel, GTK_TYPE_BUTTON, "Compare before/after");

  return button != NULL && gtk_widget_get_sensitive (button);
}

static char *
smoke_check_pair (EpdWindow *self)
{
  EpdCompareView *view = EPD_COMPARE_VIEW (self->compare_view);
  const EpdTable *start, *result;
  const EpdSolveResult *a, *b;
  double ra, rb, rt;

  if (!epd_training_panel_get_before_after (EPD_TRAINING_PANEL (self->training_panel), &start, &result))
    return g_strdup ("the run kept no start table or no result");
  if (gtk_notebook_get_current_page (GTK_NOTEBOOK (self->notebook)) != 3)
    return g_strdup ("Compare before/after did not show the Compare view");
  if (g_strcmp0 (epd_compare_view_get_source (view, 0), "training run: start") != 0 ||
      g_strcmp0 (epd_compare_view_get_source (view, 1), "training run: result") != 0)
    return g_strdup_printf ("Compare shows %s against %s, not the run's start against its result",
                            epd_compare_view_get_source (view, 0), epd_compare_view_get_source (view, 1));
  a = epd_compare_view_get_result (view, 0, &ra);
  b = epd_compare_view_get_result (view, 1, &rb);
  epd_compare_view_get_result (view, 2, &rt);
  g_test_message ("before/after: reward A %.4f, B %.4f, teacher %.4f", ra, rb, rt);
  if (a->trace->batch != b->trace->batch || !isfinite (ra) || !isfinite (rb) || !isfinite (rt))
    return g_strdup ("the before/after panels lack a reward or differ in batch");
  /* Same noises: both columns start from the same x_T. */
  if (epd_trace_n_steps (a->trace) == 0 || epd_trace_n_steps (b->trace) == 0 ||
      memcmp (epd_trace_get_step (a->trace, 0)->x, epd_trace_get_step (b->trace, 0)->x,
              a->trace->batch * a->trace->dim * sizeof (double)) != 0)
    return g_strdup ("the before/after columns do not start from the same noise");
  return NULL;
}

static gboolean
smoke_training_poll (gpointer user_data)
{
  EpdWindow *self = user_data;
  EpdCompareView *view = EPD_COMPARE_VIEW (self->compare_view);
  g_autofree char *failure = NULL;

  if (smoke.stage == 0)
    return G_SOURCE_REMOVE;
  if (smoke.stage == 11 && smoke_run_over (self))
    {
      g_test_message ("distilled: %s", gtk_label_get_text (GTK_LABEL (self->table_label)));
      smoke.stage = 12;
      if (!smoke_click (self, "RDPO (Stage 2)"))
        failure = g_strdup ("RDPO could not be started after distillation");
    }
  else if (smoke.stage == 12 && smoke_run_over (self))
    {
      smoke.stage = 13;
      if (!smoke_click (self, "Compare before/after"))
        failure = g_strdup ("Compare before/after is not available after RDPO");
    }
  else if (smoke.stage == 13 && epd_compare_view_get_result (view, 0, NULL) != NULL &&
           epd_compare_view_get_result (view, 1, NULL) != NULL)
    {
      if ((failure = smoke_check_pair (self)) == NULL)
        {
          smoke_start_models (self);
          return G_SOURCE_REMOVE;
        }
    }
  if (failure == NULL)
    return G_SOURCE_CONTINUE;
  smoke_finish (self, failure);
  return G_SOURCE_REMOVE;
}

static void
smoke_start_training (EpdWindow *self)
{
  GtkWidget *row = gtk_widget_get_parent (epd_test_find_widget (self->training_panel, GTK_TYPE_SPIN_BUTTON, NULL));

  smoke.stage = 11;
  /* Distillation's and RDPO's iterations: every spin button of the panel. */
  for (GtkWidget *child = gtk_widget_get_first_child (gtk_widget_get_parent (row)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *spin = epd_test_find_widget (child, GTK_TYPE_SPIN_BUTTON, NULL);
      if (spin != NULL)
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), SMOKE_TRAIN_ITERATIONS);
    }
  if (!smoke_click (self, "Distil (Stage 1)"))
    {
      smoke_finish (self, "the distil button is missing or insensitive");
      return;
    }
  g_timeout_add (100, smoke_training_poll, self);
}

/* ---- learned models ---------------------------------------------------- */

#define SMOKE_BAD_UNET "unet:/nonexistent/epd-smoke-unet"

static gboolean
smoke_menu_has (EpdWindow  *self,
                const char *spec)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->model_specs)); i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->model_specs, i), spec) == 0)
      return TRUE;
  return FALSE;
}

/* The fixture's load failing ends the test at once rather than by the timeout. */
static gboolean
smoke_unet_failed (gpointer user_data)
{
  EpdWindow *self = user_data;
  const char *text = gtk_label_get_text (GTK_LABEL (self->banner_label));

  if (smoke.stage != 10)
    return G_SOURCE_REMOVE;
  if (epd_window_is_busy (self) || !gtk_info_bar_get_revealed (GTK_INFO_BAR (self->banner)) ||
      gtk_info_bar_get_message_type (GTK_INFO_BAR (self->banner)) != GTK_MESSAGE_ERROR ||
      strstr (text, "epd-smoke-unet") != NULL)
    return G_SOURCE_CONTINUE;
  smoke_finish (self, text);
  return G_SOURCE_REMOVE;
}

/* A folder that does not load leaves an error and the menu as it was; then a
 * real (random-weight, 12x12 RGB) UNet fixture loads and solves (stage 10). */
static gboolean
smoke_bad_unet_settled (gpointer user_data)
{
  EpdWindow *self = user_data;
  g_autofree char *dir = NULL;
  g_autofree char *spec = NULL;

  if (epd_window_is_busy (self))
    return G_SOURCE_CONTINUE;
  g_test_message ("bad UNet folder: %s", gtk_label_get_text (GTK_LABEL (self->banner_label)));
  if (!gtk_info_bar_get_revealed (GTK_INFO_BAR (self->banner)) ||
      gtk_info_bar_get_message_type (GTK_INFO_BAR (self->banner)) != GTK_MESSAGE_ERROR ||
      strstr (gtk_label_get_text (GTK_LABEL (self->banner_label)), "epd-smoke-unet") == NULL)
    smoke_finish (self, "a UNet folder that does not load showed no error naming it");
  else if (smoke_menu_has (self, SMOKE_BAD_UNET))
    smoke_finish (self, "a UNet folder that does not load entered the model menu");
  else
    {
      dir = g_test_build_filename (G_TEST_DIST, "data", "unet", "rgb", "unet", NULL);
      spec = g_strconcat ("unet:", dir, NULL);
      smoke.stage = 10;
      epd_window_set_model_spec (self, spec);
      g_timeout_add (50, smoke_unet_failed, self);
    }
  return G_SOURCE_REMOVE;
}

static void
smoke_start_models (EpdWindow *self)
{
  smoke.stage = 9;
  epd_window_set_model_spec (self, SMOKE_BAD_UNET);
  g_timeout_add (50, smoke_bad_unet_settled, self);
}

static char *
smoke_check_unet (EpdWindow *self)
{
  const char *spec = epd_window_get_model_spec (self);
  guint side = 0, channels = 0;
  double lo = 0, hi = 0;

  g_test_message ("UNet solved: %s", gtk_label_get_text (GTK_LABEL (self->status_label)));
  if (!g_str_has_prefix (spec, "unet:") || !smoke_menu_has (self, spec))
    return g_strdup_printf ("the loaded UNet is not the menu's choice (%s)", spec);
  if (gtk_info_bar_get_revealed (GTK_INFO_BAR (self->banner)) &&
      gtk_info_bar_get_message_type (GTK_INFO_BAR (self->banner)) == GTK_MESSAGE_ERROR)
    return g_strdup ("the error of the failed load stayed after a successful one");
  if (!epd_denoiser_get_image_shape (self->model, &side, &channels) || side != 12 || channels != 3)
    return g_strdup_printf ("the UNet fixture is not 12x12 RGB (side %u, %u channels)", side, channels);
  /* Its grid spans the sigmas it was trained on (0.029 to 14.6), not the EDM range. */
  if (!epd_denoiser_get_sigma_range (self->model, &lo, &hi) || lo <= 0.002 || hi >= 80 ||
      self->sigma_min != lo || self->sigma_max != hi)
    return g_strdup_printf ("the UNet's grid is sigma %g to %g, not its trained %g to %g",
                            self->sigma_min, self->sigma_max, lo, hi);
  if (epd_window_get_batch (self) != 16 || self->result->trace->batch != 16 ||
      !isfinite (self->result->final_error))
    return g_strdup_printf ("an image model solves a batch of %zu, final error %g",
                            (size_t) self->result->trace->batch, self->result->final_error);
  return smoke_check_compare_b (self, "uniform table");
}

static void
smoke_step (EpdWindow *self)
{
  g_autofree char *failure = NULL;
  EpdSolveResult *result = self->result;

  if (smoke.stage == 1)
    {
      if (epd_trace_n_steps (result->trace) == 0 || !isfinite (result->final_error))
        failure = g_strdup ("the first solve gave no trace or no error to the teacher");
      else if ((failure = smoke_check_start_table (self)) == NULL &&
               (failure = smoke_check_invalid_input (self)) == NULL &&
               (failure = smoke_check_compare_b (self, self->table_name)) == NULL)
        {
          g_test_message ("solved, final error %.4g", result->final_error);
          smoke.stage = 2;
          epd_coef_editor_edit_weight (EPD_COEF_EDITOR (self->coef_editor), 0, 0, 0.8);
          return;
        }
    }
  else if (smoke.stage == 2)
    {
      g_test_message ("edited weight re-solved, final error %.4g", result->final_error);
      if ((failure = smoke_check_edit (self)) == NULL &&
          (failure = smoke_check_offer (self)) == NULL &&
          (failure = smoke_save_and_reload (self, "table.json")) == NULL &&
          (failure = smoke_save_and_reload (self, "table.npz")) == NULL &&
          (failure = smoke_export (self)) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.json", "{\"r\": [[0.5, \"x\"]]")) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.npz", "PK\003\004 truncated")) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.jsonl", "{\"loss\": 1}\n{\"loss\": ")) == NULL)
        {
          /* No shipped table has 4 steps: the uniform table takes over. */
          smoke.stage = 3;
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
          return;
        }
    }
  else if (smoke.stage == 3)
    {
      const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
      guint steps = 0;

      /* The spin button is bound to the window's steps property. */
      g_object_get (self, "steps", &steps, NULL);
      g_test_message ("4 steps: %s", gtk_label_get_text (GTK_LABEL (self->table_label)));
      if (steps != 4)
        failure = g_strdup_printf ("the steps property is %u after the spin button went to 4", steps);
      else if (table->steps != 4 || self->table_name != NULL ||
          !g_str_has_prefix (gtk_label_get_text (GTK_LABEL (self->table_label)), "Table: uniform"))
        failure = g_strdup ("with 4 steps the uniform table did not take over");
      else if ((failure = smoke_check_compare (self)) == NULL)
        {
          /* Back to 3 steps, through the property this time: the shipped
           * table fits again. */
          smoke.stage = 4;
          g_object_set (self, "steps", 3, NULL);
          return;
        }
    }
  else if (smoke.stage == 4)
    {
      g_test_message ("3 steps again: %s", gtk_label_get_text (GTK_LABEL (self->table_label)));
      if (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->steps_spin)) != 3)
        failure = g_strdup ("the steps spin button does not show the steps property");
      else if (g_strcmp0 (epd_window_get_model_spec (self), EPD_DEFAULT_MODEL) == 0 &&
          (self->table_name == NULL || !g_str_has_prefix (self->table_name, EPD_TABLE_BUILTIN_PREFIX) ||
           gtk_widget_get_visible (self->table_button)))
        failure = g_strdup ("back at 3 steps the shipped table did not come back, or is still offered");
      else
        {
          /* A run is trained on 3 steps; the user sets 4 while it runs. */
          smoke.stage = 5;
          smoke.trained = epd_table_copy (epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor)));
          for (guint i = 0; i < smoke.trained->steps; i++)
            smoke_set_row (smoke.trained, i, 0.3);
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
          return;
        }
    }
  else if (smoke.stage == 9 || smoke.stage >= 11)
    return;  /* polled for: the bad folder's error, the training runs */
  else if (smoke.stage == 10)
    failure = smoke_check_unet (self);
  else if (smoke.stage >= 5)
    {
      if (smoke_trained_step (self, &failure))
        return;
    }
  smoke_finish (self, failure);
}

static void
on_activate (GApplication *app)
{
  EpdWindow *self = EPD_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_autoptr(GError) error = NULL;

  smoke.dir = g_dir_make_tmp ("epd-studio-smoke-XXXXXX", &error);
  smoke.stage = 1;
  if (smoke.dir == NULL)
    {
      smoke_finish (self, error->message);
      return;
    }
  smoke.timeout_id = g_timeout_add_seconds (SMOKE_TIMEOUT_S, smoke_timeout, self);
  smoke.solved_id = g_signal_connect (self, "solved", G_CALLBACK (smoke_step), NULL);
  /* A solve may already have finished before the test started. */
  if (self->result != NULL && self->result->teacher != NULL)
    smoke_step (self);
}

/* The real application, driven through its window's "solved" signal. */
static void
test_smoke (void)
{
  g_autoptr(EpdApplication) app = epd_application_new ();
  char *argv[] = { (char *) g_get_prgname (), NULL };
  int status;

  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_signal_connect_after (app, "activate", G_CALLBACK (on_activate), NULL);
  status = g_application_run (G_APPLICATION (app), 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (smoke.finished);
  g_assert_cmpstr (smoke.failure, ==, NULL);
}

int
main (int    argc,
      char **argv)
{
  int status;

  /* As epd-studio.c does: Cairo draws every view. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_test_init (&argc, &argv, NULL);
  /* GTK warns about a missing session bus under Xvfb; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/studio/smoke", test_smoke);
  status = g_test_run ();
  /* A job inside OpenBLAS would make its exit handler wait (see epd-studio.c). */
  if (epd_studio_jobs_n_running () > 0)
    {
      fflush (NULL);
      _exit (status);
    }
  return status;
}
