/* SPDX-License-Identifier: MIT */
/* epd-window-private.h: the window's state, shared by epd-window*.c. */
#pragma once

#include "epd-window.h"
#include "epd-solve-job.h"
#include "epd-gmm.h"

G_BEGIN_DECLS

struct _EpdWindow
{
  GtkApplicationWindow parent_instance;

  /* Controls */
  GtkWidget       *model_drop;
  GtkStringList   *model_specs;
  GtkWidget       *device_drop;
  GtkWidget       *solver_drop;
  GtkWidget       *steps_spin;
  GtkWidget       *points_spin;
  GtkWidget       *schedule_drop;
  GtkWidget       *sigma_min_spin;
  GtkWidget       *sigma_max_spin;
  GtkWidget       *rho_spin;
  GtkWidget       *shift_spin;
  GtkWidget       *afs_check;
  GtkWidget       *seed_spin;
  GtkWidget       *batch_spin;
  GtkWidget       *nfe_label;
  GtkWidget       *table_label;      /* which table the solves use */
  GtkWidget       *table_button;     /* offers the shipped table that fits, when another is in use */

  /* Views */
  GtkWidget       *notebook;
  GtkWidget       *trajectory_view;
  GtkWidget       *coef_editor;
  GtkWidget       *coef_preview;       /* live paths under the editor */
  GtkWidget       *error_view;
  GtkWidget       *compare_view;
  GtkWidget       *training_panel;
  GtkWidget       *spinner;
  GtkWidget       *stop_button;
  GtkWidget       *busy_label;
  GtkWidget       *busy_progress;   /* the live solve's phase: determinate */
  EpdSolveProgress *solve_progress; /* the live request's, or NULL */
  EpdSolvePhase    phase_shown;
  gint64           phase_since_us;
  guint            busy_timeout_id;  /* shows the stop button and the elapsed time */
  gint64           busy_since_us;
  char            *busy_what;
  GtkWidget       *status_label;
  GtkWidget       *banner;
  GtkWidget       *banner_label;
  guint            banner_timeout_id;  /* hides a notice */

  /* Model */
  EpdDenoiser     *model;
  EpdGmm          *mixture;       /* the CPU mixture of a gmm: model (heat maps), or NULL */
  char            *model_key;     /* spec|device of the open model */
  GCancellable    *open_cancellable;
  GCancellable    *probe_cancellable;  /* the shipped UNets' probe */
  gsize            points_batch;  /* the batch an image model replaced, 0 if none */
  GCancellable    *devices_cancellable;  /* listing Vulkan devices; cancelled when the window closes */

  /* The editor's table: where it came from, and whether the window chose it */
  EpdTable        *table_loaded;     /* as it came in: edits show against it */
  char            *table_name;       /* "builtin:NAME", a file name...; NULL: the uniform table */
  gboolean         table_auto;       /* chosen by the window: replaced when the settings change */
  GPtrArray       *shipped_tables;   /* the builtin tables (EpdTable), loaded on first use */
  GStrv            shipped_names;    /* their names, in the same order */

  /* The solve settings, as properties (epd-window.c) the panel's controls
   * are bound to: code sets these, never the widgets. */
  char            *solver;
  guint            steps;
  guint            points;
  char            *schedule_kind;
  double           sigma_min;
  double           sigma_max;
  double           rho;
  double           shift;
  gboolean         afs;
  guint            seed;
  guint            batch;
  char            *solver_shown;      /* the solver before a change: its latency NFE is kept */
  gboolean         applying_table;    /* a table's settings are being set together */
  double           export_scale;      /* PNG exports: pixels per view pixel, from the file dialog */

  /* Solves */
  GCancellable    *solve_cancellable;  /* the live request's generation token */
  EpdSolveResult  *result;             /* what the views show */
  EpdTeacherRun   *teacher;            /* the latest teacher, reused while it matches */
  guint            solve_idle_id;      /* a re-solve queued by changed controls */
};

/* epd-window.c */
void     epd_window_show_error        (EpdWindow      *self,
                                       const char     *prefix,
                                       const GError   *error);
void     epd_window_show_notice       (EpdWindow      *self,
                                       const char     *text);
void     epd_window_solve             (EpdWindow      *self,
                                       gint64          edit_us);
void     epd_window_read_options      (EpdWindow      *self,
                                       EpdSolveOptions *options);
guint32  epd_window_get_seed          (EpdWindow      *self);
gsize    epd_window_get_batch         (EpdWindow      *self);
/* Sets the controls from a table's shape, schedule and AFS flag. */
void     epd_window_apply_table_settings (EpdWindow      *self,
                                          const EpdTable *table);
const char *epd_window_get_model_spec (EpdWindow      *self);

/* A solve or a model load is running. */
gboolean    epd_window_is_busy        (EpdWindow      *self);
/* Puts table (copied) in the editor, the old one on its undo stack. name says
 * where it came from (NULL: the uniform table); automatic: the window chose it,
 * and replaces it when the settings change. */
void     epd_window_set_table         (EpdWindow      *self,
                                       const EpdTable *table,
                                       const char     *name,
                                       gboolean        automatic);

/* The editor's table was saved to path: it is what edits show against now
 * (the table label no longer says "edited"), and the file names it. */
void     epd_window_table_saved       (EpdWindow      *self,
                                       const char     *path);

/* epd-window-files.c */
void     epd_window_install_file_actions (EpdWindow   *self);
void     epd_window_setup_drop        (EpdWindow      *self);

G_END_DECLS
