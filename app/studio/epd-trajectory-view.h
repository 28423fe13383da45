/* SPDX-License-Identifier: MIT */
/* epd-trajectory-view.h: the sampling paths, live.
 * Zoom with the wheel, pan by dragging, click a path to select it, step or
 * play through the grid; tooltips give the state, sigma and denoised value.
 * Image models are projected on the two principal components of the trace,
 * with a filmstrip of the selected path's states and denoised predictions. */
#pragma once

#include <gtk/gtk.h>

#include "epd.h"
#include "epd-gmm.h"
#include "epd-plot-trajectory.h"

G_BEGIN_DECLS

#define EPD_TYPE_TRAJECTORY_VIEW (epd_trajectory_view_get_type ())
G_DECLARE_FINAL_TYPE (EpdTrajectoryView, epd_trajectory_view, EPD, TRAJECTORY_VIEW, GtkWidget)

GtkWidget *epd_trajectory_view_new          (void);
/* The model (for the image shape) and, for mixtures, the CPU mixture whose
 * exact density is the heat map (the model may run on Vulkan); both may be NULL. */
void       epd_trajectory_view_set_model    (EpdTrajectoryView *self,
                                             EpdDenoiser       *model,
                                             EpdGmm            *mixture);
/* Borrowed until the next call: the window keeps the result alive. */
void       epd_trajectory_view_set_traces   (EpdTrajectoryView *self,
                                             const EpdTrace    *trace,
                                             const EpdTrace    *teacher);
void       epd_trajectory_view_step         (EpdTrajectoryView *self,
                                             int                delta);
void       epd_trajectory_view_toggle_play  (EpdTrajectoryView *self);
/* Fit: frames every final sample (the solver's and the teacher's) and keeps
 * that view until the next zoom or Fit. */
void       epd_trajectory_view_reset_zoom   (EpdTrajectoryView *self);
/* Each axis fits its data (no equal scales): for a wide strip of a view. */
void       epd_trajectory_view_set_free_aspect (EpdTrajectoryView *self,
                                                gboolean           free_aspect);
/* The data range and plot area of the last frame drawn. */
const EpdPlotViewport *epd_trajectory_view_get_viewport (EpdTrajectoryView *self);
/* Draws what the view shows, for export. */
void       epd_trajectory_view_draw         (EpdTrajectoryView *self,
                                             cairo_t           *cr,
                                             double             width,
                                             double             height);

G_END_DECLS
