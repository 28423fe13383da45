/* SPDX-License-Identifier: MIT */
/* epd-compare-view.h: two tables side by side on the same seeds.
 * Table A and table B (the edited table, a file, or a published table) drawn
 * as coefficient plots; below them the samples each gives on the current
 * model from the same noise, with their error to the teacher, and the
 * difference between the two. */
#pragma once

#include <gtk/gtk.h>

#include "epd.h"
#include "epd-solve-job.h"
#include "epd-gmm.h"

G_BEGIN_DECLS

#define EPD_TYPE_COMPARE_VIEW (epd_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (EpdCompareView, epd_compare_view, EPD, COMPARE_VIEW, GtkWidget)

GtkWidget *epd_compare_view_new         (void);
/* The current model (and its CPU mixture for the heat maps, or NULL), solve
 * settings and edited table (all copied / referenced). */
/* model_spec picks B's default (the shipped table that fits, else the
 * uniform table) and the shipped tables listed; B follows the model until
 * the user picks one. */
void       epd_compare_view_set_context (EpdCompareView        *self,
                                         EpdDenoiser           *model,
                                         const char            *model_spec,
                                         EpdGmm                *mixture,
                                         const EpdSolveOptions *options,
                                         const EpdTable        *table,
                                         guint32                seed,
                                         gsize                  batch);
/* The window's model key and its latest teacher (referenced; may be NULL):
 * Compare solves under that key, so that column A shares the window's
 * teacher where its grid, seed and batch agree. A new model in set_context
 * drops the teacher (the key is the window's to set, before). */
void       epd_compare_view_set_teacher (EpdCompareView        *self,
                                         const char            *model_key,
                                         EpdTeacherRun         *teacher);
/* A comparison is running (its progress shows). */
gboolean   epd_compare_view_is_running  (EpdCompareView        *self);
/* The settings column (0: A, 1: B) solves with, as Compare would run it
 * now: the edited table with the window's AFS and schedule, other tables
 * with their own AFS (options->table is NULL). FALSE when its table cannot
 * be loaded. */
gboolean   epd_compare_view_get_column_options (EpdCompareView   *self,
                                                guint             column,
                                                EpdSolveOptions  *options,
                                                GError          **error);
void       epd_compare_view_draw        (EpdCompareView        *self,
                                         cairo_t               *cr,
                                         double                 width,
                                         double                 height);

/* A = a training run's start table, B = its result (both copied), on the
 * same noises; compares at once when shown. */
void       epd_compare_view_show_pair   (EpdCompareView        *self,
                                         const EpdTable        *start,
                                         const EpdTable        *result);
/* The last comparison's result for a column (0: A, 1: B; NULL while it
 * runs) and its mean reward (column 2: the teacher's; NaN if none). */
const EpdSolveResult *epd_compare_view_get_result (EpdCompareView *self,
                                                   guint           column,
                                                   double         *reward);
/* The source a column (0: A, 1: B) shows: "edited table", "uniform table",
 * "builtin:NAME" or a file's path. */
const char *epd_compare_view_get_source (EpdCompareView        *self,
                                         guint                  column);

G_END_DECLS
