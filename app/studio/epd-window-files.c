/* SPDX-License-Identifier: MIT */
/* epd-window-files.c: tables, models and logs in and out; export; drag-and-drop. */
#include "epd-window-private.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "epd-model.h"
#include "epd-plot.h"
#include "epd-coef-editor.h"
#include "epd-compare-view.h"
#include "epd-error-view.h"
#include "epd-studio-timing.h"
#include "epd-training-panel.h"
#include "epd-trajectory-view.h"
#include "epd-file.h"

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
      const char *scale = g_object_get_data (G_OBJECT (dialog), "epd-export")
                          ? gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "scale") : NULL;

      if (scale != NULL)
        self->export_scale = g_ascii_strtod (scale, NULL);
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

static void add_scale_choice (EpdWindow *self, GtkFileChooser *chooser);
static void export_chosen (EpdWindow *self, const char *path);

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
  if (func == export_chosen)
    {
      add_scale_choice (self, GTK_FILE_CHOOSER (dialog));
      g_object_set_data (G_OBJECT (dialog), "epd-export", GINT_TO_POINTER (TRUE));
    }
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
  if (!epd_table_save (table, path, error))
    return FALSE;
  epd_window_table_saved (self, path);
  return TRUE;
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
  g_autofree char *text = NULL;

  if (!epd_window_save_table (self, path, &error))
    {
      epd_window_show_error (self, "Cannot save the table", error);
      return;
    }
  text = g_strdup_printf ("Saved the table to %s", path);
  epd_window_show_notice (self, text);
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

static void
unet_chosen (EpdWindow  *self,
             const char *path)
{
  g_autofree char *spec = g_strdup_printf ("unet:%s", path);

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

/* The size the current page is exported at (scale 1): its size on screen,
 * at least 640 x 420. */
static void
export_size (EpdWindow *self,
             double    *width,
             double    *height)
{
  GtkWidget *page = gtk_notebook_get_nth_page (GTK_NOTEBOOK (self->notebook),
                                               gtk_notebook_get_current_page (GTK_NOTEBOOK (self->notebook)));

  *width = MAX (gtk_widget_get_width (page), 640);
  *height = MAX (gtk_widget_get_height (page), 420);
}

gboolean
epd_window_export_view_scaled (EpdWindow   *self,
                               const char  *path,
                               double       scale,
                               GError     **error)
{
  double width, height;

  export_size (self, &width, &height);
  return epd_plot_export_scaled (path, width, height, scale, draw_current_page, self, error);
}

gboolean
epd_window_export_view (EpdWindow   *self,
                        const char  *path,
                        GError     **error)
{
  return epd_window_export_view_scaled (self, path, 1, error);
}

static void
export_chosen (EpdWindow  *self,
               const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!epd_window_export_view_scaled (self, path, self->export_scale, &error))
    {
      epd_window_show_error (self, "Cannot export the view", error);
      return;
    }
  text = g_strdup_printf ("Exported the view to %s", path);
  epd_window_show_notice (self, text);
}

/* PNG exports: the file dialog offers the scale, with the pixel size each gives. */
static const char *export_scales[] = { "1", "2", "3", "4", NULL };

static void
add_scale_choice (EpdWindow      *self,
                  GtkFileChooser *chooser)
{
  const char *labels[G_N_ELEMENTS (export_scales)] = { NULL };
  g_autofree char *selected = g_strdup_printf ("%g", self->export_scale);
  double width, height;

  export_size (self, &width, &height);
  for (guint i = 0; export_scales[i] != NULL; i++)
    labels[i] = g_strdup_printf ("%s× (%.0f × %.0f px)", export_scales[i], width * atof (export_scales[i]),
                                 height * atof (export_scales[i]));
  gtk_file_chooser_add_choice (chooser, "scale", "PNG scale", export_scales, labels);
  gtk_file_chooser_set_choice (chooser, "scale", selected);
  for (guint i = 0; labels[i] != NULL; i++)
    g_free ((char *) labels[i]);
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
  if (!epd_file_write_atomic (path, csv, -1, &error))
    epd_window_show_error (self, "Cannot write the CSV file", error);
  else
    {
      g_autofree char *text = g_strdup_printf ("Saved the error data to %s", path);
      epd_window_show_notice (self, text);
    }
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
  else if (g_str_equal (name, "open-unet"))
    choose (self, "Open a Diffusers UNet Folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL, NULL, unet_chosen);
}

void
epd_window_install_file_actions (EpdWindow *self)
{
  static const char *names[] = { "open-table", "save-table", "export-view", "export-csv",
                                 "open-log", "open-mixture", "open-folder", "open-unet" };

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
