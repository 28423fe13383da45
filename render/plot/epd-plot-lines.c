/* SPDX-License-Identifier: MIT */
/* epd-plot-lines.c: line charts shared by the error view and training curves. */
#include "epd-plot-lines.h"

#include <math.h>

static gboolean
usable (double   v,
        gboolean log_scale)
{
  return isfinite (v) && (!log_scale || v > 0);
}

static void
collect (const EpdLinePlot *self,
         gboolean           want_x,
         GArray            *values)
{
  for (guint s = 0; s < self->n_series; s++)
    {
      const EpdPlotSeries *series = &self->series[s];

      for (gsize i = 0; i < series->n; i++)
        if (usable (series->x[i], self->log_x) && usable (series->y[i], self->log_y))
          g_array_append_vals (values, want_x ? &series->x[i] : &series->y[i], 1);
    }
}

void
epd_line_plot_fit_view (const EpdLinePlot *self,
                        EpdPlotViewport   *vp)
{
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));

  collect (self, TRUE, xs);
  collect (self, FALSE, ys);
  vp->log_x = self->log_x;
  vp->log_y = self->log_y;
  vp->integer_x = self->integer_x;
  epd_plot_range_fit ((double *) xs->data, xs->len, self->log_x, 0.03, &vp->x0, &vp->x1);
  epd_plot_range_fit ((double *) ys->data, ys->len, self->log_y, 0.08, &vp->y0, &vp->y1);
}

static void
draw_series (cairo_t               *cr,
             const EpdPlotViewport *vp,
             const EpdLinePlot     *self,
             const EpdPlotSeries   *series)
{
  static const double dash[] = { 6, 4 };
  gboolean pen_down = FALSE;

  epd_plot_set_palette_colour (cr, series->colour, series->alpha > 0 ? series->alpha : 1);
  cairo_set_line_width (cr, series->width > 0 ? series->width : 1.6);
  cairo_set_dash (cr, dash, series->dashed ? 2 : 0, 0);
  for (gsize i = 0; i < series->n; i++)
    {
      double px, py;

      if (!usable (series->x[i], self->log_x) || !usable (series->y[i], self->log_y))
        {
          pen_down = FALSE;
          continue;
        }
      epd_plot_viewport_to_pixel (vp, series->x[i], series->y[i], &px, &py);
      if (pen_down)
        cairo_line_to (cr, px, py);
      else
        cairo_move_to (cr, px, py);
      pen_down = TRUE;
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  if (!series->markers)
    return;
  for (gsize i = 0; i < series->n; i++)
    {
      double px, py;

      if (!usable (series->x[i], self->log_x) || !usable (series->y[i], self->log_y))
        continue;
      epd_plot_viewport_to_pixel (vp, series->x[i], series->y[i], &px, &py);
      cairo_arc (cr, px, py, 3, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

/* How much of the data would a legend in rect hide: points and segment midpoints inside. */
static guint
count_hidden (const EpdPlotViewport *vp,
              const EpdLinePlot     *self,
              const double           rect[4])
{
  guint hidden = 0;

  for (guint s = 0; s < self->n_series; s++)
    {
      const EpdPlotSeries *series = &self->series[s];
      double last_x = NAN, last_y = NAN;

      for (gsize i = 0; i < series->n; i++)
        {
          double px, py;

          if (!usable (series->x[i], self->log_x) || !usable (series->y[i], self->log_y))
            continue;
          epd_plot_viewport_to_pixel (vp, series->x[i], series->y[i], &px, &py);
          for (guint half = 0; half < 2; half++)
            {
              double qx = half ? (px + last_x) / 2 : px, qy = half ? (py + last_y) / 2 : py;
              if (qx >= rect[0] && qx <= rect[0] + rect[2] && qy >= rect[1] && qy <= rect[1] + rect[3])
                hidden++;
            }
          last_x = px;
          last_y = py;
        }
    }
  return hidden;
}

/* The corner whose legend hides the least data (top-right on ties). */
static EpdPlotCorner
legend_corner (cairo_t               *cr,
               const EpdPlotViewport *vp,
               const EpdLinePlot     *self,
               const char * const    *names,
               guint                  n)
{
  EpdPlotCorner best = EPD_PLOT_CORNER_TOP_RIGHT;
  guint fewest = G_MAXUINT;

  for (int corner = EPD_PLOT_CORNER_TOP_RIGHT; corner <= EPD_PLOT_CORNER_BOTTOM_LEFT; corner++)
    {
      double rect[4];
      guint hidden;

      epd_plot_legend_rect (cr, vp, names, n, corner, rect);
      hidden = count_hidden (vp, self, rect);
      if (hidden < fewest)
        {
          fewest = hidden;
          best = corner;
        }
    }
  return best;
}

void
epd_line_plot_draw_in (cairo_t               *cr,
                       const EpdPlotViewport *vp,
                       const EpdLinePlot     *self)
{
  g_autofree const char **names = g_new0 (const char *, self->n_series + 1);
  g_autofree guint *colours = g_new0 (guint, self->n_series + 1);
  guint n_named = 0;

  epd_plot_draw_axes (cr, vp, self->x_title, self->y_title);
  if (self->title != NULL)
    epd_plot_draw_title (cr, vp->left, vp->top - 20, self->title);
  cairo_save (cr);
  cairo_rectangle (cr, vp->left, vp->top, vp->width, vp->height);
  cairo_clip (cr);
  for (guint s = 0; s < self->n_series; s++)
    {
      draw_series (cr, vp, self, &self->series[s]);
      if (self->series[s].name != NULL)
        {
          names[n_named] = self->series[s].name;
          colours[n_named++] = self->series[s].colour;
        }
    }
  cairo_restore (cr);
  epd_plot_draw_legend_at (cr, vp, names, colours, n_named,
                           legend_corner (cr, vp, self, names, n_named));
}

void
epd_line_plot_draw (cairo_t           *cr,
                    double             width,
                    double             height,
                    const EpdLinePlot *self)
{
  EpdPlotViewport vp;

  epd_plot_viewport_init (&vp, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (&vp, width, height);
  epd_line_plot_fit_view (self, &vp);
  epd_line_plot_draw_in (cr, &vp, self);
}
