/* SPDX-License-Identifier: MIT */
/* epd-plot-trajectory.h: sampling paths in 2-D.
 *
 * The density heat map (2-D mixtures), the teacher's paths in grey, the
 * solver's paths in colour with a dot per step, and for the selected path and
 * step: the K parallel points x_k, their directions d_k as arrows of length
 * h w_k sd_k |d_k| (the part of the step each contributes, h = t_{n+1} - t_n),
 * the Euler step h d they correct (dashed) and, as a ring, the state x_{n+1}
 * the step lands on; the selected path is drawn whole. High-dimensional traces are
 * drawn through an EpdPca projection. */
#pragma once

#include "epd-plot.h"
#include "epd-plot-pca.h"

G_BEGIN_DECLS

/* Log-density at a 2-D point, for the heat map. */
typedef double (*EpdPlotDensityFunc) (const double xy[2],
                                      gpointer     user_data);

typedef struct
{
  const EpdTrace   *trace;        /* the solver's paths; required */
  const EpdTrace   *teacher;      /* grey reference paths, or NULL */
  const EpdPca     *projection;   /* NULL: coordinates 0 and 1 */
  cairo_surface_t  *density;      /* heat map covering density_bounds, or NULL */
  double            density_bounds[4]; /* x0, x1, y0, y1 */
  int               selected;     /* selected path, -1 for none */
  guint             step;         /* selected step, < n_steps */
  guint             shown_steps;  /* paths drawn up to this grid point (playback) */
  guint             max_paths;    /* 0: all */
  gboolean          normalise;    /* draw x / sqrt(1 + t^2): image models, whose
                                   * start (t_max z) would dwarf the data */
  gboolean          free_aspect;  /* each axis fits its data (a wide strip of a
                                   * view): no equal scales */
} EpdTrajectoryPlot;

void             epd_trajectory_plot_init      (EpdTrajectoryPlot       *self,
                                                const EpdTrace          *trace);
/* The 2-D position of path i at grid point s (s == n_steps: the final state). */
void             epd_trajectory_plot_point     (const EpdTrajectoryPlot *self,
                                                gsize                    i,
                                                guint                    s,
                                                double                  *x,
                                                double                  *y);
/* Equal scales on both axes, framing the final samples (2-D: the start is
 * sigma_max wide and would squash the data) or whole paths (projections);
 * the teacher's when there is one, so that the view stays still during edits,
 * unless most of the solver's final samples would fall outside it. */
void             epd_trajectory_plot_fit_view  (const EpdTrajectoryPlot *self,
                                                EpdPlotViewport         *viewport);
/* Frames every final sample, the solver's and the teacher's (Fit). */
void             epd_trajectory_plot_fit_samples (const EpdTrajectoryPlot *self,
                                                  EpdPlotViewport         *viewport);
/* How many of the solver's paths end outside the viewport. */
gsize            epd_trajectory_plot_count_outside (const EpdTrajectoryPlot *self,
                                                    const EpdPlotViewport   *viewport);
/* The path whose point at grid point s is nearest (within radius pixels), or -1. */
int              epd_trajectory_plot_pick      (const EpdTrajectoryPlot *self,
                                                const EpdPlotViewport   *viewport,
                                                guint                    s,
                                                double                   px,
                                                double                   py,
                                                double                   radius);
void             epd_trajectory_plot_draw      (cairo_t                 *cr,
                                                const EpdPlotViewport   *viewport,
                                                const EpdTrajectoryPlot *self);

/* Samples log-density on a width x height grid over bounds and colours it,
 * brightest at the highest density (a gamma on exp(log p - max) shows the tails). */
cairo_surface_t *epd_plot_density_surface      (EpdPlotDensityFunc       density,
                                                gpointer                 user_data,
                                                const double             bounds[4],
                                                int                      width,
                                                int                      height);

G_END_DECLS
