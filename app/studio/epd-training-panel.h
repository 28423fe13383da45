/* SPDX-License-Identifier: MIT */
/* epd-training-panel.h: distillation in the background, and RDPO logs.
 * Distillation (Stage 1) or RDPO (Stage 2, from the edited table) with a
 * progress bar and live curves; cancel keeps the best table so far;
 * "table-ready" hands the result to the window. An RDPO log in the
 * reference trainer's JSON-lines format is plotted (loss, reward, KL). */
#pragma once

#include <gtk/gtk.h>

#include "epd.h"

G_BEGIN_DECLS

#define EPD_TYPE_TRAINING_PANEL (epd_training_panel_get_type ())
G_DECLARE_FINAL_TYPE (EpdTrainingPanel, epd_training_panel, EPD, TRAINING_PANEL, GtkWidget)

GtkWidget *epd_training_panel_new         (void);
/* What a new training run starts from (copied): distillation uses the model,
 * grid, schedule and the table's K; RDPO starts from the table itself. */
void       epd_training_panel_set_context (EpdTrainingPanel      *self,
                                           EpdDenoiser           *model,
                                           const char            *model_spec,
                                           const EpdSolveOptions *options,
                                           const EpdTable        *table);
/* Distils a table for the context's settings (the Distil button); nothing
 * while a run is going on. */
void       epd_training_panel_start_distill (EpdTrainingPanel *self);
/* Plots a JSON-lines training log; errors are returned, the panel is unchanged. */
gboolean   epd_training_panel_open_log    (EpdTrainingPanel      *self,
                                           const char            *path,
                                           GError               **error);
/* The last run's start table and its result (borrowed), FALSE before a run
 * has ended. RDPO that found nothing better leaves its best (the start) here
 * too, and says so instead of handing it over. */
gboolean   epd_training_panel_get_before_after (EpdTrainingPanel  *self,
                                                const EpdTable   **start,
                                                const EpdTable   **result);
/* A distilled table that validated worse than the edited table it would
 * replace: offered ("Apply anyway"), not applied; NULL when none is. The two
 * validation errors (mean final L2 error on the run's validation noises). */
const EpdTable *epd_training_panel_get_offer (EpdTrainingPanel *self,
                                              double           *result_val,
                                              double           *replaced_val);
void       epd_training_panel_draw        (EpdTrainingPanel      *self,
                                           cairo_t               *cr,
                                           double                 width,
                                           double                 height);

G_END_DECLS
