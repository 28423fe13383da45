/* SPDX-License-Identifier: MIT */
/* epd-plot.h: the common ground of every Cairo plot.
 *
 * Data are first normalised to view coordinates in [0, 1] (linear or log per
 * axis), then mapped to pixels of the plot area, in the manner of Sysprof's
 * charts. Nothing here needs a window: a plot draws on any cairo_t, so each
 * one exports to PNG, SVG or PDF and is tested on image surfaces. */
#pragma once

#include <cairo.h>

#include "epd.h"

G_BEGIN_DECLS

typedef struct
{
  double   x0, x1;        /* data range shown (x0 at the left) */
  double   y0, y1;        /* data range shown (y0 at the bottom) */
  gboolean log_x;
  gboolean log_y;
  double   left, top;     /* pixel rectangle of the plot area */
  double   width, height;
  gboolean integer_x;     /* x ticks on whole numbers only (steps, NFE) */
} EpdPlotViewport;

/* A linear viewport over [x0,x1] x [y0,y1] drawn in the whole area. */
void     epd_plot_viewport_init       (EpdPlotViewport       *self,
                                       double                 x0,
                                       double                 x1,
                                       double                 y0,
                                       double                 y1);
void     epd_plot_viewport_set_area   (EpdPlotViewport       *self,
                                       double                 left,
                                       double                 top,
                                       double                 width,
                                       double                 height);
/* Leaves room for tick labels and axis titles around a width x height surface. */
void     epd_plot_viewport_set_area_with_margins (EpdPlotViewport *self,
                                                  double           width,
                                                  double           height);
/* Widens the x or the y data range about its centre so that a data unit
 * spans as many pixels on both axes (a circle stays a circle); linear axes. */
void     epd_plot_viewport_equal_aspect (EpdPlotViewport     *self);
/* Data -> normalised view coordinates, (0,0) bottom-left and (1,1) top-right. */
void     epd_plot_viewport_normalise  (const EpdPlotViewport *self,
                                       double                 x,
                                       double                 y,
                                       double                *u,
                                       double                *v);
void     epd_plot_viewport_to_pixel   (const EpdPlotViewport *self,
                                       double                 x,
                                       double                 y,
                                       double                *px,
                                       double                *py);
void     epd_plot_viewport_from_pixel (const EpdPlotViewport *self,
                                       double                 px,
                                       double                 py,
                                       double                *x,
                                       double                *y);
/* Zoom by factor (> 1 zooms in) keeping the data point under (px, py) fixed. */
void     epd_plot_viewport_zoom       (EpdPlotViewport       *self,
                                       double                 px,
                                       double                 py,
                                       double                 factor);
/* Move the view so that the data follow a pointer moved by (dpx, dpy) pixels. */
void     epd_plot_viewport_pan        (EpdPlotViewport       *self,
                                       double                 dpx,
                                       double                 dpy);
/* Fit [lo, hi] of finite values with a relative margin; log axes skip values <= 0. */
void     epd_plot_range_fit           (const double          *values,
                                       gsize                  n,
                                       gboolean               log_scale,
                                       double                 margin,
                                       double                *lo,
                                       double                *hi);

/* Up to max_ticks "nice" tick values in [lo, hi] (decades on a log axis). */
guint    epd_plot_ticks               (double                 lo,
                                       double                 hi,
                                       gboolean               log_scale,
                                       double                *ticks,
                                       guint                  max_ticks);

void     epd_plot_clear               (cairo_t               *cr,
                                       double                 width,
                                       double                 height);
/* Frame, ticks, grid lines, tick labels and axis titles (titles may be NULL). */
void     epd_plot_draw_axes           (cairo_t               *cr,
                                       const EpdPlotViewport *self,
                                       const char            *x_title,
                                       const char            *y_title);
void     epd_plot_draw_title          (cairo_t               *cr,
                                       double                 x,
                                       double                 y,
                                       const char            *title);
typedef enum {
  EPD_PLOT_CORNER_TOP_RIGHT,
  EPD_PLOT_CORNER_TOP_LEFT,
  EPD_PLOT_CORNER_BOTTOM_RIGHT,
  EPD_PLOT_CORNER_BOTTOM_LEFT,
} EpdPlotCorner;

/* A legend box at the top-right of the plot area: n names with palette colours. */
void     epd_plot_draw_legend         (cairo_t               *cr,
                                       const EpdPlotViewport *self,
                                       const char * const    *names,
                                       const guint           *colours,
                                       guint                  n);
/* The pixel rectangle a legend of these names takes in a corner of the plot area. */
void     epd_plot_legend_rect         (cairo_t               *cr,
                                       const EpdPlotViewport *self,
                                       const char * const    *names,
                                       guint                  n,
                                       EpdPlotCorner          corner,
                                       double                 rect[4]);
void     epd_plot_draw_legend_at      (cairo_t               *cr,
                                       const EpdPlotViewport *self,
                                       const char * const    *names,
                                       const guint           *colours,
                                       guint                  n,
                                       EpdPlotCorner          corner);
/* An arrow from (x0,y0) to (x1,y1) in pixels, head size in pixels. */
void     epd_plot_draw_arrow          (cairo_t               *cr,
                                       double                 x0,
                                       double                 y0,
                                       double                 x1,
                                       double                 y1,
                                       double                 head);

/* A qualitative palette (colour-blind friendly), cycling. */
void     epd_plot_palette             (guint                  index,
                                       double                *r,
                                       double                *g,
                                       double                *b);
void     epd_plot_set_palette_colour  (cairo_t               *cr,
                                       guint                  index,
                                       double                 alpha);
/* A perceptual dark-to-bright colour map for v in [0, 1]. */
void     epd_plot_colormap            (double                 v,
                                       double                *r,
                                       double                *g,
                                       double                *b);

typedef void (*EpdPlotDrawFunc) (cairo_t  *cr,
                                 double    width,
                                 double    height,
                                 gpointer  user_data);

/* Draws into a file whose format follows the extension: .png, .svg or .pdf.
 * The file is written atomically. */
gboolean epd_plot_export              (const char            *path,
                                       double                 width,
                                       double                 height,
                                       EpdPlotDrawFunc        draw,
                                       gpointer               user_data,
                                       GError               **error);

G_END_DECLS
