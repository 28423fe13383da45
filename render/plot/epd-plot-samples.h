/* SPDX-License-Identifier: MIT */
/* epd-plot-samples.h: final samples of a 2-D model as a scatter over the true density
 *. The mixture's log-density is drawn as a heat map (epd_plot_density_surface),
 * the samples as dots on top, with axes. Draws on any cairo_t (PNG/SVG/PDF, or a widget). */
#pragma once

#include "epd-gmm.h"
#include "epd-plot.h"

G_BEGIN_DECLS

typedef struct
{
  EpdGmm       *gmm;      /* the true density, or NULL for none (borrowed) */
  const double *samples;  /* [n][dim]; coordinates 0 and 1 are drawn (borrowed) */
  gsize         n;
  guint         dim;      /* >= 2 */
  const char   *title;    /* above the plot, or NULL */
  guint         colour;   /* palette index of the dots */
} EpdSamplesPlot;

void     epd_samples_plot_init     (EpdSamplesPlot       *self,
                                    EpdGmm               *gmm,
                                    const double         *samples,
                                    gsize                 n,
                                    guint                 dim);
/* A square data range: the mixture's means +- 3 standard deviations (the samples' range
 * when there is no mixture), keeping the viewport's pixel area. */
void     epd_samples_plot_fit_view (const EpdSamplesPlot *self,
                                    EpdPlotViewport      *viewport);
/* Heat map, axes and dots inside the viewport's area. */
void     epd_samples_plot_draw     (cairo_t              *cr,
                                    const EpdPlotViewport *viewport,
                                    const EpdSamplesPlot *self);
/* The whole figure in a width x height area at (0, 0): fitted view, margins, title. */
void     epd_samples_plot_draw_figure (cairo_t            *cr,
                                       double              width,
                                       double              height,
                                       const EpdSamplesPlot *self);
/* Atomic export; the format follows the extension (.png, .svg, .pdf). */
gboolean epd_samples_plot_export   (const EpdSamplesPlot *self,
                                    const char           *path,
                                    double                width,
                                    double                height,
                                    GError              **error);

G_END_DECLS
