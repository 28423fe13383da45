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
/* The same on an axis of counts (steps, NFE, iterations): whole numbers only,
 * at least 1 apart, still up to max_ticks of them. */
guint    epd_plot_ticks_integer       (double                 lo,
                                       double                 hi,
                                       double                *ticks,
                                       guint                  max_ticks);
/* The labels of one axis's ticks, all in one format: fixed decimals enough
 * for the step on a linear axis ("-0.02", "0.00", "0.02"), or, when the values
 * are large or small, scientific notation with the digits that tell the ticks
 * apart ("2.0e4", "2.5e4"; never the same label twice). */
#define EPD_PLOT_TICK_LABEL 32
void     epd_plot_format_ticks        (const double          *ticks,
                                       guint                  n,
                                       gboolean               log_scale,
                                       char                 (*labels)[EPD_PLOT_TICK_LABEL]);

/* What plots draw with. Light by default (every export); a window draws dark
 * when the desktop theme is, and with the user's text scale. */
typedef enum
{
  EPD_PLOT_INK_BACKGROUND,
  EPD_PLOT_INK_PANEL,     /* the fill behind a small chart */
  EPD_PLOT_INK_TEXT,      /* titles */
  EPD_PLOT_INK_LABEL,     /* tick labels, axis titles */
  EPD_PLOT_INK_FRAME,
  EPD_PLOT_INK_GRID,
  EPD_PLOT_INK_BACKDROP,  /* under a legend or a note over data */
  EPD_PLOT_INK_WARNING,
  EPD_PLOT_N_INKS
} EpdPlotInk;

/* Sets the style of everything drawn on cr from now on (it lasts as long as cr). */
void     epd_plot_set_style           (cairo_t               *cr,
                                       gboolean               dark,
                                       double                 text_scale);
gboolean epd_plot_is_dark             (cairo_t               *cr);
void     epd_plot_set_ink             (cairo_t               *cr,
                                       EpdPlotInk             ink);

/* Text through Pango (font fallback for σ and subscripts, the style's text
 * scale), size in pixels at scale 1. show_text puts the text's box at
 * (x - align_x * width, y - align_y * height); the baseline variant starts
 * its baseline at (x, baseline). */
void     epd_plot_show_text           (cairo_t               *cr,
                                       const char            *text,
                                       double                 x,
                                       double                 y,
                                       double                 align_x,
                                       double                 align_y,
                                       double                 size,
                                       gboolean               bold);
void     epd_plot_show_text_baseline  (cairo_t               *cr,
                                       const char            *text,
                                       double                 x,
                                       double                 baseline,
                                       double                 size,
                                       gboolean               bold);
double   epd_plot_text_width          (cairo_t               *cr,
                                       const char            *text,
                                       double                 size,
                                       gboolean               bold);

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
/* "N of M outside the view" in the plot area's bottom-right corner, when N > 0:
 * points clipped away must not go unnoticed. */
void     epd_plot_draw_outside_note   (cairo_t               *cr,
                                       const EpdPlotViewport *self,
                                       gsize                  outside,
                                       gsize                  n);
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

/* The same with PNG images scale times as large in pixels (the drawing is
 * scaled, so the view keeps its layout and gains resolution); SVG and PDF
 * are vector images of width x height points whatever the scale. */
gboolean epd_plot_export_scaled       (const char            *path,
                                       double                 width,
                                       double                 height,
                                       double                 scale,
                                       EpdPlotDrawFunc        draw,
                                       gpointer               user_data,
                                       GError               **error);

G_END_DECLS
