/* SPDX-License-Identifier: MIT */
/* epd-plot-coef.h: an EPD table drawn per step.
 *
 * One column per step. The upper lane is the log-t axis from t_n (left) to
 * t_{n+1} (right): since tau_k = t_{n+1}^r_k t_n^(1-r_k), log tau_k is linear in
 * r_k, so point k sits at the fraction r_k of the column, on its own row. The
 * lower lane shows the K weights as bars on [0, 1]; point k's marker and bar
 * share a colour. A second table can be
 * overlaid (hollow markers, outlined bars, another colour). The layout
 * functions give the geometry the editor needs for hit tests and drags. */
#pragma once

#include "epd-plot.h"

G_BEGIN_DECLS

typedef enum {
  EPD_COEF_PART_NONE,
  EPD_COEF_PART_POSITION,
  EPD_COEF_PART_WEIGHT,
} EpdCoefPart;

typedef struct
{
  guint  steps;
  guint  n_points;
  double left, top, width;
  double column, gap;         /* column width and the gap between columns */
  double pos_top, pos_height; /* the positions lane */
  double w_top, w_height;     /* the weights lane: weight 1 at w_top */
} EpdCoefLayout;

typedef struct
{
  const EpdTable *table;      /* required */
  const EpdTable *overlay;    /* or NULL; drawn where its shape matches */
  const double   *grid;       /* steps + 1 times for the t labels, or NULL */
  const char     *title;      /* or NULL */
  const char     *overlay_title;
  int             selected_step;  /* -1 for none */
  int             selected_point;
} EpdCoefPlot;

void        epd_coef_plot_init        (EpdCoefPlot         *self,
                                       const EpdTable      *table);
void        epd_coef_layout_compute   (EpdCoefLayout       *layout,
                                       guint                steps,
                                       guint                n_points,
                                       double               width,
                                       double               height);
/* Pixel centre of point k's marker at position r in step n. */
void        epd_coef_layout_position  (const EpdCoefLayout *layout,
                                       guint                step,
                                       guint                k,
                                       double               r,
                                       double              *px,
                                       double              *py);
/* Pixel rectangle of the weight bar of point k with weight w in step n. */
void        epd_coef_layout_bar       (const EpdCoefLayout *layout,
                                       guint                step,
                                       guint                k,
                                       double               w,
                                       double              *x,
                                       double              *y,
                                       double              *bar_width,
                                       double              *bar_height);
/* What lies under (px, py): a position marker or a weight bar's column. */
EpdCoefPart epd_coef_layout_hit       (const EpdCoefLayout *layout,
                                       const EpdTable      *table,
                                       double               px,
                                       double               py,
                                       guint               *step,
                                       guint               *k);
/* The position r and the weight that a pointer at px / py means (unclamped). */
double      epd_coef_layout_r_at      (const EpdCoefLayout *layout,
                                       guint                step,
                                       double               px);
double      epd_coef_layout_weight_at (const EpdCoefLayout *layout,
                                       double               py);

void        epd_coef_plot_draw        (cairo_t             *cr,
                                       double               width,
                                       double               height,
                                       const EpdCoefPlot   *self);

G_END_DECLS
