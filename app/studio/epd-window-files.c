/* epd-window-files.c: tables, models and logs in and out; export; drag-and-drop; smoke test. */
#include "epd-window-private.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "epd-model.h"
#include "epd-plot.h"
#include "epd-application.h"
#include "epd-coef-editor.h"
#include "epd-compare-view.h"
#include "epd-error-view.h"
#include "epd-studio-timing.h"
#include "epd-training-panel.h"
#include "epd-trajectory-view.h"

typedef void (*ChosenFunc) (EpdWindow  *self,
                            const char *path);

/* ---- file choosers (GtkFileChooserNative: GTK 4.8 has no GtkFileDialog) ---- */

static void
chooser_response (GtkNativeDialog *dialog,
                  int              response,
                  gpointer         user_data)
{
  EpdWindow *self = EPD_WINDOW (gtk_native_dialog_get_transient_for (dialog));
  ChosenFunc func = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        func (self, path);
    }
  g_object_unref (dialog);
}

static GtkFileFilter *
table_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Coefficient tables (.json, .npz)");
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_filter_add_suffix (filter, "npz");
  return filter;
}

static void
choose (EpdWindow            *self,
        const char           *title,
        GtkFileChooserAction  action,
        const char           *suggested,
        GtkFileFilter        *filter,
        ChosenFunc            func)
{
  g_autoptr(GtkFileFilter) owned_filter = filter;
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (title, GTK_WINDOW (self), action,
                                 action == GTK_FILE_CHOOSER_ACTION_SAVE ? "_Save" : "_Open", "_Cancel");

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  if (filter != NULL)
    gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  if (suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  g_signal_connect (dialog, "response", G_CALLBACK (chooser_response), func);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

typedef struct
{
  GtkStringList *sources;
  GtkDropDown   *drop;
} IntoDrop;

static void
into_drop_response (GtkNativeDialog *dialog,
                    int              response,
                    IntoDrop        *into)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        {
          gtk_string_list_append (into->sources, path);
          gtk_drop_down_set_selected (into->drop, g_list_model_get_n_items (G_LIST_MODEL (into->sources)) - 1);
        }
    }
  g_object_unref (into->sources);
  g_object_unref (into->drop);
  g_free (into);
  g_object_unref (dialog);
}

void
epd_window_choose_table_into (GtkWidget     *widget,
                              const char    *title,
                              GtkStringList *sources,
                              GtkDropDown   *drop)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  g_autoptr(GtkFileFilter) filter = table_filter ();
  IntoDrop *into = g_new0 (IntoDrop, 1);

  into->sources = g_object_ref (sources);
  into->drop = g_object_ref (drop);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (into_drop_response), into);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- tables ---------------------------------------------------------- */

/* A table is tuned for one model: say so when it runs on another. */
static void
notice_other_model (EpdWindow      *self,
                    const EpdTable *table,
                    const char     *name)
{
  const char *made_for = json_object_get_string_member_with_default (table->metadata, "model", NULL);
  g_autofree char *text = NULL;

  if (made_for == NULL || g_strcmp0 (made_for, epd_window_get_model_spec (self)) == 0)
    return;
  text = g_strdup_printf ("“%s” was made for the model %s; it now runs on %s. "
                          "Choose %s in the Model list to see it where it was tuned.",
                          name, made_for, epd_window_get_model_spec (self), made_for);
  epd_window_show_notice (self, text);
}

gboolean
epd_window_open_table (EpdWindow  *self,
                       const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) table = epd_table_load (path, &error);
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *prefix = g_strdup_printf ("Cannot open the table “%s”", name);

  if (table == NULL)
    {
      epd_window_show_error (self, prefix, error);
      return FALSE;
    }
  epd_window_apply_table_settings (self, table);
  epd_window_set_table (self, table, name, FALSE);
  epd_window_solve (self, 0);
  notice_other_model (self, table, name);
  return TRUE;
}

gboolean
epd_window_save_table (EpdWindow   *self,
                       const char  *path,
                       GError     **error)
{
  const EpdTable *edited = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
  g_autoptr(EpdTable) table = NULL;
  EpdSolveOptions options;

  if (edited == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "there is no table to save yet");
      return FALSE;
    }
  /* The file records the settings the table was tuned with. */
  epd_window_read_options (self, &options);
  table = epd_table_copy (edited);
  table->schedule = options.schedule;
  table->afs = options.afs;
  json_object_set_string_member (table->metadata, "edited_with", "epd-studio");
  /* The loaded table's metadata stays; say that these are no longer its coefficients. */
  if (self->table_name != NULL && !epd_table_equal (edited, self->table_loaded))
    json_object_set_string_member (table->metadata, "edited_from", self->table_name);
  json_object_set_string_member (table->metadata, "model", epd_window_get_model_spec (self));
  return epd_table_save (table, path, error);
}

static void
table_chosen (EpdWindow  *self,
              const char *path)
{
  epd_window_open_table (self, path);
}

static void
table_save_chosen (EpdWindow  *self,
                   const char *path)
{
  g_autoptr(GError) error = NULL;

  if (!epd_window_save_table (self, path, &error))
    epd_window_show_error (self, "Cannot save the table", error);
}

/* ---- models ---------------------------------------------------------- */

static void
mixture_chosen (EpdWindow  *self,
                const char *path)
{
  g_autofree char *spec = g_strdup_printf ("gmm:%s", path);

  epd_window_set_model_spec (self, spec);
}

static void
folder_chosen (EpdWindow  *self,
               const char *path)
{
  g_autofree char *spec = g_strdup_printf ("dataset:%s", path);

  epd_window_set_model_spec (self, spec);
}

static gboolean
open_log (EpdWindow  *self,
          const char *path)
{
  g_autoptr(GError) error = NULL;

  if (!epd_training_panel_open_log (EPD_TRAINING_PANEL (self->training_panel), path, &error))
    {
      epd_window_show_error (self, "Cannot read the training log", error);
      return FALSE;
    }
  gtk_notebook_set_current_page (GTK_NOTEBOOK (self->notebook), 4);
  return TRUE;
}

static void
log_chosen (EpdWindow  *self,
            const char *path)
{
  open_log (self, path);
}

gboolean
epd_window_open_file (EpdWindow  *self,
                      const char *path)
{
  if (g_str_has_suffix (path, ".jsonl"))
    return open_log (self, path);
  return epd_window_open_table (self, path);
}

/* ---- export ---------------------------------------------------------- */

static void
draw_current_page (cairo_t  *cr,
                   double    width,
                   double    height,
                   gpointer  user_data)
{
  EpdWindow *self = user_data;

  switch (gtk_notebook_get_current_page (GTK_NOTEBOOK (self->notebook)))
    {
    case 0:
      epd_trajectory_view_draw (EPD_TRAJECTORY_VIEW (self->trajectory_view), cr, width, height);
      break;
    case 1:
      epd_coef_editor_draw (EPD_COEF_EDITOR (self->coef_editor), cr, width, height);
      break;
    case 2:
      epd_error_view_draw (EPD_ERROR_VIEW (self->error_view), cr, width, height);
      break;
    case 3:
      epd_compare_view_draw (EPD_COMPARE_VIEW (self->compare_view), cr, width, height);
      break;
    default:
      epd_training_panel_draw (EPD_TRAINING_PANEL (self->training_panel), cr, width, height);
      break;
    }
}

static gboolean
export_view (EpdWindow   *self,
             const char  *path,
             GError     **error)
{
  GtkWidget *page = gtk_notebook_get_nth_page (GTK_NOTEBOOK (self->notebook),
                                               gtk_notebook_get_current_page (GTK_NOTEBOOK (self->notebook)));
  double width = MAX (gtk_widget_get_width (page), 640);
  double height = MAX (gtk_widget_get_height (page), 420);

  return epd_plot_export (path, width, height, draw_current_page, self, error);
}

static void
export_chosen (EpdWindow  *self,
               const char *path)
{
  g_autoptr(GError) error = NULL;

  if (!export_view (self, path, &error))
    epd_window_show_error (self, "Cannot export the view", error);
}

static void
csv_chosen (EpdWindow  *self,
            const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = NULL;

  if (self->result == NULL || self->result->errors->curves->len == 0)
    {
      epd_window_show_notice (self, "No error data yet: the teacher's solve has not finished.");
      return;
    }
  csv = epd_error_report_to_csv (self->result->errors);
  if (!g_file_set_contents (path, csv, -1, &error))
    epd_window_show_error (self, "Cannot write the CSV file", error);
}

/* ---- actions --------------------------------------------------------- */

static void
file_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  EpdWindow *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));

  if (g_str_equal (name, "open-table"))
    choose (self, "Open a Coefficient Table", GTK_FILE_CHOOSER_ACTION_OPEN, NULL, table_filter (), table_chosen);
  else if (g_str_equal (name, "save-table"))
    choose (self, "Save the Table (.json or .npz)", GTK_FILE_CHOOSER_ACTION_SAVE, "table.json", NULL,
            table_save_chosen);
  else if (g_str_equal (name, "export-view"))
    choose (self, "Export the View (.png, .svg or .pdf)", GTK_FILE_CHOOSER_ACTION_SAVE, "view.png", NULL,
            export_chosen);
  else if (g_str_equal (name, "export-csv"))
    choose (self, "Export the Error Data", GTK_FILE_CHOOSER_ACTION_SAVE, "errors.csv", NULL, csv_chosen);
  else if (g_str_equal (name, "open-log"))
    choose (self, "Open a Training Log (JSON lines)", GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL, log_chosen);
  else if (g_str_equal (name, "open-mixture"))
    choose (self, "Open a Gaussian Mixture (JSON)", GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL, mixture_chosen);
  else if (g_str_equal (name, "open-folder"))
    choose (self, "Open a Folder of PNG Images", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL, NULL, folder_chosen);
}

void
epd_window_install_file_actions (EpdWindow *self)
{
  static const char *names[] = { "open-table", "save-table", "export-view", "export-csv",
                                 "open-log", "open-mixture", "open-folder" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GSimpleAction) action = g_simple_action_new (names[i], NULL);
      g_signal_connect (action, "activate", G_CALLBACK (file_action), self);
      g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
    }
}

/* ---- drag and drop --------------------------------------------------- */

static gboolean
file_dropped (GtkDropTarget *target,
              const GValue  *value,
              double         x,
              double         y,
              EpdWindow     *self)
{
  GFile *file = g_value_get_object (value);
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (path == NULL)
    return FALSE;
  epd_window_open_file (self, path);
  return TRUE;
}

void
epd_window_setup_drop (EpdWindow *self)
{
  GtkDropTarget *target = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);

  g_signal_connect (target, "drop", G_CALLBACK (file_dropped), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}

/* ---- smoke test ------------------------------------------------------ */

#define SMOKE_TIMEOUT_S 120
#define SMOKE_STAGE_BENCH 10

static void
smoke_finish (EpdWindow  *self,
              const char *failure)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->smoke_stage == 0)
    return;
  self->smoke_stage = 0;
  g_clear_handle_id (&self->smoke_timeout_id, g_source_remove);
  if (self->bench_remaining > 0 || failure != NULL)
    g_printerr ("smoke test: FAILED: %s\n", failure != NULL ? failure : "benchmark incomplete");
  else if (self->smoke_dir != NULL)
    g_printerr ("smoke test: passed\n");
  epd_studio_timing_summary ();
  g_clear_pointer (&self->smoke_trained, epd_table_free);
  epd_application_set_exit_status (EPD_APPLICATION (app), failure != NULL ? 1 : 0);
  if (self->smoke_dir != NULL)
    {
      g_autoptr(GDir) dir = g_dir_open (self->smoke_dir, 0, NULL);
      const char *entry;
      while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (self->smoke_dir, entry, NULL);
          g_remove (path);
        }
      g_rmdir (self->smoke_dir);
    }
  g_application_quit (G_APPLICATION (app));
}

static gboolean
smoke_timeout (gpointer user_data)
{
  EpdWindow *self = user_data;

  self->smoke_timeout_id = 0;
  smoke_finish (self, "timed out");
  return G_SOURCE_REMOVE;
}

/* A saved table must load back equal, in both formats. */
static char *
smoke_save_and_reload (EpdWindow  *self,
                       const char *name)
{
  g_autofree char *path = g_build_filename (self->smoke_dir, name, NULL);
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
  double sum = 0;

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
  g_autofree char *path = g_build_filename (self->smoke_dir, name, NULL);
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
  g_printerr ("smoke test: %s refused: %s\n", name, gtk_label_get_text (GTK_LABEL (self->banner_label)));
  return NULL;
}

static char *
smoke_export (EpdWindow *self)
{
  g_autofree char *path = g_build_filename (self->smoke_dir, "view.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  if (!export_view (self, path, &error))
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
  g_printerr ("smoke test: start table %s: final error %.4g; uniform table %.4g, Euler %.4g at latency NFE %u\n",
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
  g_printerr ("smoke test: %s; offered: %s\n", label, gtk_button_get_label (GTK_BUTTON (self->table_button)));
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
  g_printerr ("smoke test: compare column A at NFE %u, the window at NFE %u\n", nfe, self->result->nfe.latency);
  if (nfe != self->result->nfe.latency ||
      !options.afs != !gtk_check_button_get_active (GTK_CHECK_BUTTON (self->afs_check)))
    return g_strdup ("compare column A does not solve the edited table as the window does");
  return NULL;
}

static gboolean
bench_edit (gpointer user_data)
{
  EpdWindow *self = user_data;

  self->bench_remaining--;
  /* Alternate so that every edit changes the solve. */
  epd_coef_editor_edit_weight (EPD_COEF_EDITOR (self->coef_editor), 0, 0,
                               self->bench_remaining % 2 ? 0.3 : 0.7);
  return G_SOURCE_REMOVE;
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

  g_printerr ("smoke test: %s: %s\n", when, gtk_label_get_text (GTK_LABEL (self->table_label)));
  if (!epd_table_equal (table, self->smoke_trained))
    return g_strdup_printf ("%s, the editor has a %u-step table, not the trained one", when, table->steps);
  if ((guint) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->steps_spin)) != self->smoke_trained->steps)
    return g_strdup_printf ("%s, the steps are not the trained table's", when);
  return NULL;
}

/* The result of a run is never lost: it arrives while the settings say 4
 * steps (stage 5), stays through its solve (6); a change of steps replaces
 * it (7), and undo brings it back for good (8). TRUE while going on. */
static gboolean
smoke_trained_step (EpdWindow  *self,
                    char      **failure)
{
  switch (self->smoke_stage++)
    {
    case 5:
      g_signal_emit_by_name (self->training_panel, "table-ready", self->smoke_trained);
      return TRUE;
    case 6:
      if ((*failure = smoke_check_trained (self, "trained during a change of steps")) != NULL)
        return FALSE;
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
      return TRUE;
    case 7:
      epd_coef_editor_undo (EPD_COEF_EDITOR (self->coef_editor));
      return TRUE;
    default:
      *failure = smoke_check_trained (self, "after undo");
      return FALSE;
    }
}

void
epd_window_smoke_step (EpdWindow *self)
{
  g_autofree char *failure = NULL;
  EpdSolveResult *result = self->result;

  if (self->smoke_stage == SMOKE_STAGE_BENCH)
    {
      /* Let the frame with this result draw before the next edit. */
      if (self->bench_remaining > 0)
        g_timeout_add (60, bench_edit, self);
      else
        smoke_finish (self, NULL);
      return;
    }

  if (self->smoke_stage == 1)
    {
      if (epd_trace_n_steps (result->trace) == 0 || !isfinite (result->final_error))
        failure = g_strdup ("the first solve gave no trace or no error to the teacher");
      else if ((failure = smoke_check_start_table (self)) == NULL)
        {
          g_printerr ("smoke test: solved, final error %.4g\n", result->final_error);
          self->smoke_stage = 2;
          epd_coef_editor_edit_weight (EPD_COEF_EDITOR (self->coef_editor), 0, 0, 0.8);
          return;
        }
    }
  else if (self->smoke_stage == 2)
    {
      g_printerr ("smoke test: edited weight re-solved, final error %.4g\n", result->final_error);
      if ((failure = smoke_check_edit (self)) == NULL &&
          (failure = smoke_check_offer (self)) == NULL &&
          (failure = smoke_save_and_reload (self, "table.json")) == NULL &&
          (failure = smoke_save_and_reload (self, "table.npz")) == NULL &&
          (failure = smoke_export (self)) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.json", "{\"r\": [[0.5, \"x\"]]")) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.npz", "PK\003\004 truncated")) == NULL &&
          (failure = smoke_check_bad_file (self, "bad.jsonl", "{\"loss\": 1}\n{\"loss\": \n")) == NULL)
        {
          /* No shipped table has 4 steps: the uniform table takes over. */
          self->smoke_stage = 3;
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
          return;
        }
    }
  else if (self->smoke_stage == 3)
    {
      const EpdTable *table = epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor));
      g_printerr ("smoke test: 4 steps: %s\n", gtk_label_get_text (GTK_LABEL (self->table_label)));
      if (table->steps != 4 || self->table_name != NULL ||
          !g_str_has_prefix (gtk_label_get_text (GTK_LABEL (self->table_label)), "Table: uniform"))
        failure = g_strdup ("with 4 steps the uniform table did not take over");
      else if ((failure = smoke_check_compare (self)) == NULL)
        {
          /* Back to 3 steps: the shipped table fits again. */
          self->smoke_stage = 4;
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 3);
          return;
        }
    }
  else if (self->smoke_stage == 4)
    {
      g_printerr ("smoke test: 3 steps again: %s\n", gtk_label_get_text (GTK_LABEL (self->table_label)));
      if (g_strcmp0 (epd_window_get_model_spec (self), EPD_DEFAULT_MODEL) == 0 &&
          (self->table_name == NULL || !g_str_has_prefix (self->table_name, EPD_TABLE_BUILTIN_PREFIX) ||
           gtk_widget_get_visible (self->table_button)))
        failure = g_strdup ("back at 3 steps the shipped table did not come back, or is still offered");
      else
        {
          /* A run is trained on 3 steps; the user sets 4 while it runs. */
          self->smoke_stage = 5;
          self->smoke_trained = epd_table_copy (epd_coef_editor_get_table (EPD_COEF_EDITOR (self->coef_editor)));
          for (guint i = 0; i < self->smoke_trained->steps; i++)
            smoke_set_row (self->smoke_trained, i, 0.3);
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->steps_spin), 4);
          return;
        }
    }
  else if (self->smoke_stage >= 5)
    {
      if (smoke_trained_step (self, &failure))
        return;
    }
  smoke_finish (self, failure);
}

void
epd_window_run_edit_benchmark (EpdWindow *self,
                               guint      n)
{
  epd_studio_timing_enable ();
  self->bench_remaining = n;
  self->smoke_stage = SMOKE_STAGE_BENCH;
  self->smoke_timeout_id = g_timeout_add_seconds (SMOKE_TIMEOUT_S, smoke_timeout, self);
  if (self->result != NULL && self->result->teacher != NULL)
    epd_window_smoke_step (self);
}

void
epd_window_run_smoke_test (EpdWindow *self)
{
  g_autoptr(GError) error = NULL;

  self->smoke_dir = g_dir_make_tmp ("epd-studio-smoke-XXXXXX", &error);
  self->smoke_stage = 1;
  if (self->smoke_dir == NULL)
    {
      smoke_finish (self, error->message);
      return;
    }
  self->smoke_timeout_id = g_timeout_add_seconds (SMOKE_TIMEOUT_S, smoke_timeout, self);
  /* A solve may already have finished before the test started. */
  if (self->result != NULL && self->result->teacher != NULL)
    epd_window_smoke_step (self);
}
