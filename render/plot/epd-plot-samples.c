/* SPDX-License-Identifier: MIT */
/* epd-plot-samples.c: a scatter of 2-D final samples over the mixture's density. */
#include "epd-plot-samples.h"

#include <math.h>

#include "epd-plot-trajectory.h"

#define DENSITY_MAX_CELLS 200
#define DOT_RADIUS 2.5

void
epd_samples_plot_init (EpdSamplesPlot *self,
                       EpdGmm         *gmm,
                       const double   *samples,
                       gsize           n,
                       guint           dim)
{
  *self = (EpdSamplesPlot) { gmm, samples, n, dim, NULL, 0 };
}

/* [x0, x1, y0, y1] covering the mixture's components (or the samples). */
static void
data_bounds (const EpdSamplesPlot *self,
             double                bounds[4])
{
  bounds[0] = bounds[2] = INFINITY;
  bounds[1] = bounds[3] = -INFINITY;
  if (self->gmm != NULL)
    {
      const double *means = epd_gmm_get_means (self->gmm);
      const double *stds = epd_gmm_get_stds (self->gmm);
      guint dim = epd_gmm_get_dim (self->gmm);

      for (guint k = 0; k < epd_gmm_get_n_components (self->gmm); k++)
        for (guint a = 0; a < 2; a++)
          {
            bounds[2 * a] = MIN (bounds[2 * a], means[k * dim + a] - 3 * stds[k]);
            bounds[2 * a + 1] = MAX (bounds[2 * a + 1], means[k * dim + a] + 3 * stds[k]);
          }
      return;
    }
  for (gsize i = 0; i < self->n; i++)
    for (guint a = 0; a < 2; a++)
      if (isfinite (self->samples[i * self->dim + a]))
        {
          bounds[2 * a] = MIN (bounds[2 * a], self->samples[i * self->dim + a]);
          bounds[2 * a + 1] = MAX (bounds[2 * a + 1], self->samples[i * self->dim + a]);
        }
  if (!isfinite (bounds[0]) || !isfinite (bounds[2]))
    {
      bounds[0] = bounds[2] = -1;
      bounds[1] = bounds[3] = 1;
    }
}

void
epd_samples_plot_fit_view (const EpdSamplesPlot *self,
                           EpdPlotViewport      *viewport)
{
  double b[4], half, cx, cy;
  double left = viewport->left, top = viewport->top;
  double width = viewport->width, height = viewport->height;

  data_bounds (self, b);
  cx = 0.5 * (b[0] + b[1]);
  cy = 0.5 * (b[2] + b[3]);
  half = 0.5 * MAX (MAX (b[1] - b[0], b[3] - b[2]), 1e-6) * 1.05;
  epd_plot_viewport_init (viewport, cx - half, cx + half, cy - half, cy + half);
  epd_plot_viewport_set_area (viewport, left, top, width, height);
}

static double
gmm_density (const double xy[2],
             gpointer     user_data)
{
  EpdGmm *gmm = user_data;
  guint dim = epd_gmm_get_dim (gmm);
  g_autofree double *x = g_new0 (double, dim);
  double out;

  /* Higher-dimensional mixtures: the slice through the plane of the first two axes. */
  x[0] = xy[0];
  x[1] = xy[1];
  epd_gmm_log_density (gmm, x, NULL, 1, &out);
  return out;
}

static void
draw_density (cairo_t               *cr,
              const EpdPlotViewport *vp,
              EpdGmm                *gmm)
{
  double bounds[4] = { vp->x0, vp->x1, vp->y0, vp->y1 };
  int cells_x = (int) CLAMP (vp->width / 2, 2, DENSITY_MAX_CELLS);
  int cells_y = (int) CLAMP (vp->height / 2, 2, DENSITY_MAX_CELLS);
  cairo_surface_t *heat = epd_plot_density_surface (gmm_density, gmm, bounds, cells_x, cells_y);

  cairo_save (cr);
  cairo_rectangle (cr, vp->left, vp->top, vp->width, vp->height);
  cairo_clip (cr);
  cairo_translate (cr, vp->left, vp->top);
  cairo_scale (cr, vp->width / cells_x, vp->height / cells_y);
  cairo_set_source_surface (cr, heat, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (heat);
}

static void
draw_dots (cairo_t               *cr,
           const EpdPlotViewport *vp,
           const EpdSamplesPlot  *self)
{
  cairo_save (cr);
  cairo_rectangle (cr, vp->left, vp->top, vp->width, vp->height);
  cairo_clip (cr);
  cairo_set_line_width (cr, 0.8);
  for (gsize i = 0; i < self->n; i++)
    {
      double px, py;

      if (!isfinite (self->samples[i * self->dim]) || !isfinite (self->samples[i * self->dim + 1]))
        continue;
      epd_plot_viewport_to_pixel (vp, self->samples[i * self->dim], self->samples[i * self->dim + 1],
                                  &px, &py);
      cairo_new_sub_path (cr);
      cairo_arc (cr, px, py, DOT_RADIUS, 0, 2 * G_PI);
    }
  epd_plot_set_palette_colour (cr, self->colour, 0.85);
  cairo_fill_preserve (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_BACKDROP);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Samples off the view are clipped away: say how many, so that none go unnoticed. */
static void
draw_outside_count (cairo_t               *cr,
                    const EpdPlotViewport *vp,
                    const EpdSamplesPlot  *self)
{
  gsize outside = 0;

  for (gsize i = 0; i < self->n; i++)
    {
      double x = self->samples[i * self->dim], y = self->samples[i * self->dim + 1];

      outside += !(x >= vp->x0 && x <= vp->x1 && y >= vp->y0 && y <= vp->y1);
    }
  epd_plot_draw_outside_note (cr, vp, outside, self->n);
}

void
epd_samples_plot_draw (cairo_t               *cr,
                       const EpdPlotViewport *viewport,
                       const EpdSamplesPlot  *self)
{
  g_return_if_fail (self->dim >= 2);
  if (self->gmm != NULL)
    draw_density (cr, viewport, self->gmm);
  epd_plot_draw_axes (cr, viewport, "x\xe2\x82\x81", "x\xe2\x82\x82");
  draw_dots (cr, viewport, self);
  draw_outside_count (cr, viewport, self);
}

void
epd_samples_plot_draw_figure (cairo_t              *cr,
                              double                width,
                              double                height,
                              const EpdSamplesPlot *self)
{
  EpdPlotViewport viewport;

  epd_plot_viewport_init (&viewport, 0, 1, 0, 1);
  epd_plot_viewport_set_area_with_margins (&viewport, width, height);
  epd_samples_plot_fit_view (self, &viewport);
  epd_samples_plot_draw (cr, &viewport, self);
  if (self->title != NULL)
    epd_plot_draw_title (cr, viewport.left, 6, self->title);
}

static void
draw_export (cairo_t  *cr,
             double    width,
             double    height,
             gpointer  user_data)
{
  epd_samples_plot_draw_figure (cr, width, height, user_data);
}

gboolean
epd_samples_plot_export (const EpdSamplesPlot *self,
                         const char           *path,
                         double                width,
                         double                height,
                         GError              **error)
{
  return epd_plot_export (path, width, height, draw_export, (gpointer) self, error);
}
