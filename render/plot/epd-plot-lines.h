/* SPDX-License-Identifier: MIT */
/* epd-plot-lines.h: line charts with markers, linear or log axes.
 * One renderer for every "value against something" figure: the per-step error
 * to the teacher, the final error against NFE, and training curves. */
#pragma once

#include "epd-plot.h"

G_BEGIN_DECLS

typedef struct
{
  const char   *name;
  const double *x;        /* n values */
  const double *y;        /* n values; non-finite (and <= 0 on a log axis) are gaps */
  gsize         n;
  guint         colour;   /* palette index */
  gboolean      markers;  /* a dot at each point */
  gboolean      dashed;
  double        alpha;    /* 0 means opaque; faint raw values under their mean */
  double        width;    /* line width, 0 means 1.6 */
} EpdPlotSeries;

typedef struct
{
  const char          *title;
  const char          *x_title;
  const char          *y_title;
  gboolean             log_x;
  gboolean             log_y;
  const EpdPlotSeries *series;
  guint                n_series;
  gboolean             integer_x;  /* x is a count (grid point, NFE): whole-number ticks */
} EpdLinePlot;

/* Fits the viewport's data range to every series (the pixel area is kept). */
void epd_line_plot_fit_view (const EpdLinePlot *self,
                             EpdPlotViewport   *viewport);
/* Fits the view to width x height (with margins) and draws. */
void epd_line_plot_draw     (cairo_t           *cr,
                             double             width,
                             double             height,
                             const EpdLinePlot *self);
/* Draws in a viewport chosen by the caller (zoomed, or a part of a page). */
void epd_line_plot_draw_in  (cairo_t               *cr,
                             const EpdPlotViewport *viewport,
                             const EpdLinePlot     *self);

G_END_DECLS
