/* SPDX-License-Identifier: MIT */
/* epd-plot-coef.c: positions on a log-t axis and weights as bars, per step. */
#include "epd-plot-coef.h"

/* Labels of the small charts, in pixels. */
#define COEF_FONT 10

#include <math.h>

#define MARKER_RADIUS 5.0
#define OVERLAY_COLOUR 1

/* Point k's colour (marker and bar alike); the overlay's vermillion is left out. */
static guint
point_colour (guint k)
{
  static const guint colours[] = { 0, 2, 3, 4, 5 };

  return colours[k % G_N_ELEMENTS (colours)];
}

void
epd_coef_plot_init (EpdCoefPlot    *self,
                    const EpdTable *table)
{
  *self = (EpdCoefPlot) { 0 };
  self->table = table;
  self->selected_step = -1;
  self->selected_point = -1;
}

void
epd_coef_layout_compute (EpdCoefLayout *layout,
                         guint          steps,
                         guint          n_points,
                         double         width,
                         double         height)
{
  double inner_height;

  layout->steps = MAX (steps, 1);
  layout->n_points = MAX (n_points, 1);
  layout->left = 52;
  layout->top = 30;
  layout->width = MAX (width - layout->left - 12, 10);
  layout->gap = MIN (12, layout->width / layout->steps * 0.15);
  layout->column = (layout->width - layout->gap * (layout->steps - 1)) / layout->steps;
  inner_height = MAX (height - layout->top - 40, 20);
  layout->pos_top = layout->top;
  layout->pos_height = inner_height * 0.32;
  layout->w_top = layout->pos_top + layout->pos_height + 26;
  layout->w_height = MAX (inner_height - layout->pos_height - 26, 10);
}

static double
column_left (const EpdCoefLayout *layout,
             guint                step)
{
  return layout->left + step * (layout->column + layout->gap);
}

void
epd_coef_layout_position (const EpdCoefLayout *layout,
                          guint                step,
                          guint                k,
                          double               r,
                          double              *px,
                          double              *py)
{
  *px = column_left (layout, step) + r * layout->column;
  *py = layout->pos_top + (k + 1.0) / (layout->n_points + 1.0) * layout->pos_height;
}

void
epd_coef_layout_bar (const EpdCoefLayout *layout,
                     guint                step,
                     guint                k,
                     double               w,
                     double              *x,
                     double              *y,
                     double              *bar_width,
                     double              *bar_height)
{
  double slot = layout->column / layout->n_points;

  *bar_width = slot * 0.7;
  *x = column_left (layout, step) + k * slot + slot * 0.15;
  *bar_height = CLAMP (w, 0, 1) * layout->w_height;
  *y = layout->w_top + layout->w_height - *bar_height;
}

double
epd_coef_layout_r_at (const EpdCoefLayout *layout,
                      guint                step,
                      double               px)
{
  return (px - column_left (layout, step)) / layout->column;
}

double
epd_coef_layout_weight_at (const EpdCoefLayout *layout,
                           double               py)
{
  return (layout->w_top + layout->w_height - py) / layout->w_height;
}

static gboolean
hit_position (const EpdCoefLayout *layout,
              const EpdTable      *table,
              double               px,
              double               py,
              guint               *step,
              guint               *k)
{
  double best = (MARKER_RADIUS + 4) * (MARKER_RADIUS + 4);
  gboolean found = FALSE;

  for (guint n = 0; n < table->steps; n++)
    for (guint j = 0; j < table->n_points; j++)
      {
        double mx, my, d2;

        epd_coef_layout_position (layout, n, j, table->r[n * table->n_points + j], &mx, &my);
        d2 = (mx - px) * (mx - px) + (my - py) * (my - py);
        if (d2 <= best)
          {
            best = d2;
            *step = n;
            *k = j;
            found = TRUE;
          }
      }
  return found;
}

EpdCoefPart
epd_coef_layout_hit (const EpdCoefLayout *layout,
                     const EpdTable      *table,
                     double               px,
                     double               py,
                     guint               *step,
                     guint               *k)
{
  double slot = layout->column / layout->n_points;
  double rel;
  guint n;

  if (table->steps != layout->steps || table->n_points != layout->n_points)
    return EPD_COEF_PART_NONE;
  if (hit_position (layout, table, px, py, step, k))
    return EPD_COEF_PART_POSITION;
  if (py < layout->w_top - 6 || py > layout->w_top + layout->w_height + 6 || px < layout->left)
    return EPD_COEF_PART_NONE;
  n = (guint) ((px - layout->left) / (layout->column + layout->gap));
  rel = px - column_left (layout, MIN (n, layout->steps - 1));
  if (n >= layout->steps || rel > layout->column)
    return EPD_COEF_PART_NONE;
  *step = n;
  *k = MIN ((guint) (rel / slot), layout->n_points - 1);
  return EPD_COEF_PART_WEIGHT;
}

static void
draw_t_labels (cairo_t             *cr,
               const EpdCoefLayout *layout,
               const double        *grid,
               guint                step)
{
  char label[32];
  double left = column_left (layout, step);
  double y = layout->pos_top + layout->pos_height + 12;

  epd_plot_set_ink (cr, EPD_PLOT_INK_FRAME);
  g_snprintf (label, sizeof label, "%.3g", grid[step]);
  epd_plot_show_text_baseline (cr, label, left, y, COEF_FONT, FALSE);
  g_snprintf (label, sizeof label, "%.3g", grid[step + 1]);
  epd_plot_show_text_baseline (cr, label, left + layout->column - epd_plot_text_width (cr, label, COEF_FONT, FALSE),
                               y, COEF_FONT, FALSE);
}

static void
draw_frames (cairo_t             *cr,
             const EpdCoefLayout *layout,
             const double        *grid)
{
  char label[32];

  cairo_set_line_width (cr, 1);
  for (guint n = 0; n < layout->steps; n++)
    {
      double left = column_left (layout, n);

      epd_plot_set_ink (cr, EPD_PLOT_INK_PANEL);
      cairo_rectangle (cr, left, layout->pos_top, layout->column, layout->pos_height);
      cairo_rectangle (cr, left, layout->w_top, layout->column, layout->w_height);
      cairo_fill (cr);
      epd_plot_set_ink (cr, EPD_PLOT_INK_GRID);
      for (guint k = 0; k < layout->n_points; k++)
        {
          double px, py;
          epd_coef_layout_position (layout, n, k, 0, &px, &py);
          cairo_move_to (cr, left, round (py) + 0.5);
          cairo_line_to (cr, left + layout->column, round (py) + 0.5);
          cairo_stroke (cr);
        }
      cairo_move_to (cr, left, round (layout->w_top + layout->w_height / 2) + 0.5);
      cairo_line_to (cr, left + layout->column, round (layout->w_top + layout->w_height / 2) + 0.5);
      cairo_stroke (cr);
      if (grid != NULL)
        draw_t_labels (cr, layout, grid, n);
      epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
      g_snprintf (label, sizeof label, "step %u", n + 1);
      epd_plot_show_text_baseline (cr, label, left, layout->w_top + layout->w_height + 14, COEF_FONT, FALSE);
    }
}

static void
draw_axis_labels (cairo_t             *cr,
                  const EpdCoefLayout *layout)
{
  static const double values[] = { 0, 0.5, 1 };

  epd_plot_set_ink (cr, EPD_PLOT_INK_FRAME);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      char label[8];
      g_snprintf (label, sizeof label, "%g", values[i]);
      epd_plot_show_text_baseline (cr, label, layout->left - 22, layout->w_top + (1 - values[i]) * layout->w_height + 4,
                                   COEF_FONT, FALSE);
    }
  cairo_save (cr);
  cairo_translate (cr, 14, layout->w_top + layout->w_height / 2 + 20);
  cairo_rotate (cr, -G_PI / 2);
  epd_plot_show_text_baseline (cr, "weight", 0, 0, COEF_FONT, FALSE);
  cairo_restore (cr);
  /* The positions run across each column, from t_n at its left to t_n+1 at
   * its right: a horizontal caption in the margin, like that axis. */
  epd_plot_show_text_baseline (cr, "tₙ→tₙ₊₁", 4, layout->pos_top + layout->pos_height / 2 - 2, COEF_FONT, FALSE);
  epd_plot_show_text_baseline (cr, "(log t)", 4, layout->pos_top + layout->pos_height / 2 + 11, COEF_FONT, FALSE);
}

static gboolean
same_shape (const EpdTable *a,
            const EpdTable *b)
{
  return b != NULL && a->steps == b->steps && a->n_points == b->n_points;
}

#define BAR_CAP 4.0

static void
draw_table (cairo_t             *cr,
            const EpdCoefLayout *layout,
            const EpdTable      *table,
            gboolean             overlay,
            int                  sel_step,
            int                  sel_point)
{
  cairo_set_line_width (cr, overlay ? 2 : 1.5);
  for (guint n = 0; n < table->steps; n++)
    for (guint k = 0; k < table->n_points; k++)
      {
        gsize i = n * table->n_points + k;
        gboolean selected = (int) n == sel_step && (int) k == sel_point;
        double px, py, bx, by, bw, bh;

        epd_coef_layout_bar (layout, n, k, table->weight[i], &bx, &by, &bw, &bh);
        epd_coef_layout_position (layout, n, k, table->r[i], &px, &py);
        epd_plot_set_palette_colour (cr, overlay ? OVERLAY_COLOUR : point_colour (k),
                                     overlay ? 1.0 : (selected ? 1.0 : 0.75));
        if (overlay)
          {
            cairo_rectangle (cr, bx + 1, by, bw - 2, bh);
            cairo_new_sub_path (cr);
            cairo_arc (cr, px, py, MARKER_RADIUS + 2, 0, 2 * G_PI);
            cairo_stroke (cr);
            continue;
          }
        cairo_rectangle (cr, bx, by, bw, bh);
        /* A cap on every bar: a weight dragged to 0 still shows where to grab it. */
        cairo_rectangle (cr, bx, by - BAR_CAP / 2, bw, BAR_CAP);
        cairo_fill (cr);
        cairo_new_sub_path (cr);
        cairo_arc (cr, px, py, selected ? MARKER_RADIUS + 1.5 : MARKER_RADIUS, 0, 2 * G_PI);
        cairo_fill (cr);
        if (selected)
          {
            epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
            cairo_new_sub_path (cr);
            cairo_arc (cr, px, py, MARKER_RADIUS + 3, 0, 2 * G_PI);
            cairo_stroke (cr);
          }
      }
}

static void
draw_legend (cairo_t           *cr,
             double             width,
             const EpdCoefPlot *self)
{
  const char *names[2] = { self->title ? self->title : "table",
                           self->overlay_title ? self->overlay_title : "overlay" };
  guint colours[2] = { point_colour (0), OVERLAY_COLOUR };
  EpdPlotViewport vp;

  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area (&vp, 0, 2, width - 8, 20);
  epd_plot_draw_legend (cr, &vp, names, colours, 2);
}

void
epd_coef_plot_draw (cairo_t           *cr,
                    double             width,
                    double             height,
                    const EpdCoefPlot *self)
{
  EpdCoefLayout layout;
  const EpdTable *table = self->table;

  g_return_if_fail (table != NULL);
  epd_coef_layout_compute (&layout, table->steps, table->n_points, width, height);
  cairo_save (cr);
  draw_frames (cr, &layout, self->grid);
  draw_axis_labels (cr, &layout);
  draw_table (cr, &layout, table, FALSE, self->selected_step, self->selected_point);
  if (same_shape (table, self->overlay))
    {
      draw_table (cr, &layout, self->overlay, TRUE, -1, -1);
      draw_legend (cr, width, self);
    }
  cairo_restore (cr);
}
