/* SPDX-License-Identifier: MIT */
/* epd-application.c: actions, shortcuts, command-line options. */
#include "epd-application.h"

#include "epd-model.h"
#include "epd-studio-jobs.h"
#include "epd-window.h"
#include "epd-edit-bench.h"

struct _EpdApplication
{
  GtkApplication parent_instance;
  char          *view;
  char          *model;
  int            bench_edits;
  int            exit_status;
};

G_DEFINE_FINAL_TYPE (EpdApplication, epd_application, GTK_TYPE_APPLICATION)

/* Every job checks its cancellable at least once per denoiser call. */
#define SHUTDOWN_WAIT_MS 10000

static const struct {
  const char *action;
  const char *accels[3];
} accels[] = {
  { "app.quit",             { "<Primary>q", NULL } },
  { "win.open-table",       { "<Primary>o", NULL } },
  { "win.save-table",       { "<Primary>s", NULL } },
  { "win.export-view",      { "<Primary>e", NULL } },
  { "win.export-csv",       { "<Primary><Shift>e", NULL } },
  { "win.open-log",         { "<Primary>l", NULL } },
  { "win.undo",             { "<Primary>z", NULL } },
  { "win.redo",             { "<Primary><Shift>z", "<Primary>y", NULL } },
  { "win.reset-step",       { "<Primary>r", NULL } },
  { "win.play",             { "<Primary>space", NULL } },
  { "win.step-forward",     { "<Primary>Right", NULL } },
  { "win.step-back",        { "<Primary>Left", NULL } },
  { "win.reset-zoom",       { "<Primary>0", NULL } },
  { "win.solve",            { "F5", NULL } },
  { "win.page-1",           { "<Alt>1", NULL } },
  { "win.page-2",           { "<Alt>2", NULL } },
  { "win.page-3",           { "<Alt>3", NULL } },
  { "win.page-4",           { "<Alt>4", NULL } },
  { "win.page-5",           { "<Alt>5", NULL } },
};

void
epd_application_set_exit_status (EpdApplication *self,
                                 int             status)
{
  self->exit_status = status;
}

int
epd_application_get_exit_status (EpdApplication *self)
{
  return self->exit_status;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  static const char *papers[] = {
    "EPD-Solver (arXiv 2507.14797) https://arxiv.org/abs/2507.14797",
    "RDPO (arXiv 2512.22796) https://arxiv.org/abs/2512.22796",
    NULL
  };
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  GtkWidget *about = g_object_new (GTK_TYPE_ABOUT_DIALOG,
                                   "program-name", "EPD Studio",
                                   "version", EPD_STUDIO_VERSION,
                                   "logo-icon-name", "org.epdstudio.EpdStudio",
                                   "comments", "A workbench for parallel diffusion solvers (EPD-Solver, RDPO)",
                                   "license-type", GTK_LICENSE_MIT_X11,
                                   "transient-for", window,
                                   "modal", TRUE,
                                   NULL);

  gtk_about_dialog_add_credit_section (GTK_ABOUT_DIALOG (about), "Papers", papers);
  gtk_window_present (GTK_WINDOW (about));
}

static void
epd_application_startup (GApplication *application)
{
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = quit_activated },
    { .name = "about", .activate = about_activated },
  };

  G_APPLICATION_CLASS (epd_application_parent_class)->startup (application);
  g_action_map_add_action_entries (G_ACTION_MAP (application), entries, G_N_ELEMENTS (entries), application);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (application), accels[i].action, accels[i].accels);
}

static void
epd_application_activate (GApplication *application)
{
  EpdApplication *self = EPD_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));

  if (window == NULL)
    window = GTK_WINDOW (epd_window_new (GTK_APPLICATION (application)));
  gtk_window_present (window);
  if (self->model != NULL)
    epd_window_set_model_spec (EPD_WINDOW (window), self->model);
  if (self->view != NULL && !epd_window_show_view (EPD_WINDOW (window), self->view))
    g_printerr ("epd-studio: unknown view “%s” (trajectories, coefficients, error, compare, training)\n",
                self->view);
  if (self->bench_edits > 0)
    epd_edit_bench_run (EPD_WINDOW (window), self->bench_edits);
}

/* Files on the command line: tables (JSON, NPZ) and training logs (.jsonl). */
static void
epd_application_open (GApplication  *application,
                      GFile        **files,
                      int            n_files,
                      const char    *hint)
{
  GtkWindow *window;

  epd_application_activate (application);
  window = gtk_application_get_active_window (GTK_APPLICATION (application));
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      if (path != NULL)
        epd_window_open_file (EPD_WINDOW (window), path);
    }
}

static int
epd_application_handle_local_options (GApplication *application,
                                      GVariantDict *options)
{
  EpdApplication *self = EPD_APPLICATION (application);

  g_variant_dict_lookup (options, "view", "s", &self->view);
  g_variant_dict_lookup (options, "model", "s", &self->model);
  g_variant_dict_lookup (options, "bench-edits", "i", &self->bench_edits);
  return -1;
}

/* Background jobs must return before main does (see epd-studio-jobs.h). */
static void
epd_application_shutdown (GApplication *application)
{
  if (!epd_studio_jobs_cancel_and_wait (SHUTDOWN_WAIT_MS))
    g_printerr ("epd-studio: %u background job(s) did not stop within %u ms\n",
                epd_studio_jobs_n_running (), SHUTDOWN_WAIT_MS);
  G_APPLICATION_CLASS (epd_application_parent_class)->shutdown (application);
}

static void
epd_application_finalize (GObject *object)
{
  g_free (EPD_APPLICATION (object)->view);
  g_free (EPD_APPLICATION (object)->model);
  G_OBJECT_CLASS (epd_application_parent_class)->finalize (object);
}

static void
epd_application_class_init (EpdApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = epd_application_finalize;
  app_class->startup = epd_application_startup;
  app_class->shutdown = epd_application_shutdown;
  app_class->activate = epd_application_activate;
  app_class->handle_local_options = epd_application_handle_local_options;
  app_class->open = epd_application_open;
}

static void
epd_application_init (EpdApplication *self)
{
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                     "[TABLE.json|TABLE.npz|LOG.jsonl…]");
  g_application_add_main_option (G_APPLICATION (self), "view", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_STRING,
                                 "The view to show first: trajectories, coefficients, error, compare "
                                 "or training", "NAME");
  g_application_add_main_option (G_APPLICATION (self), "model", 'm', G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_STRING,
                                 "The model to open: gmm:PRESET, gmm:FILE.json, "
                                 "dataset:fashion-mnist[:N] or dataset:DIR (default " EPD_DEFAULT_MODEL ")",
                                 "SPEC");
  g_application_add_main_option (G_APPLICATION (self), "bench-edits", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_INT,
                                 "Time N coefficient edits from edit to redrawn frame, then quit", "N");
}


EpdApplication *
epd_application_new (void)
{
  return g_object_new (EPD_TYPE_APPLICATION,
                       "application-id", "org.epdstudio.EpdStudio",
                       "flags", G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN,
                       NULL);
}
