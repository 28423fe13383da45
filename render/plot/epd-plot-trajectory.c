/* SPDX-License-Identifier: MIT */
/* epd-plot-trajectory.c: paths, parallel points and directions in 2-D. */
#include "epd-plot-trajectory.h"

#include <math.h>

#define TEACHER_GREY 0.45

void
epd_trajectory_plot_init (EpdTrajectoryPlot *self,
                          const EpdTrace    *trace)
{
  *self = (EpdTrajectoryPlot) { 0 };
  self->trace = trace;
  self->selected = -1;
  self->shown_steps = G_MAXUINT;
}

/* c (row + scale * dir), projected; dir may be NULL. */
static void
project (const EpdTrajectoryPlot *self,
         guint                    dim,
         const double            *row,
         const double            *dir,
         double                   scale,
         double                   c,
         double                  *x,
         double                  *y)
{
  const EpdPca *pca = self->projection;

  if (pca == NULL)
    {
      *x = c * (row[0] + (dir != NULL ? scale * dir[0] : 0));
      *y = c * (row[1] + (dir != NULL ? scale * dir[1] : 0));
      return;
    }
  *x = *y = 0;
  for (guint j = 0; j < dim; j++)
    {
      double v = c * (row[j] + (dir != NULL ? scale * dir[j] : 0)) - pca->mean[j];
      *x += v * pca->axis[0][j];
      *y += v * pca->axis[1][j];
    }
}

/* 1 / sqrt(1 + t^2) when states are normalised (sigma time only). */
static double
time_factor (const EpdTrajectoryPlot *self,
             const EpdTrace          *trace,
             double                   t)
{
  return self->normalise && !trace->flow_time ? 1 / sqrt (1 + t * t) : 1;
}

static double
row_factor (const EpdTrajectoryPlot *self,
            const EpdTrace          *trace,
            guint                    s)
{
  guint n = epd_trace_n_steps (trace);

  if (n == 0)
    return 1;
  if (s >= n)
    return time_factor (self, trace, epd_trace_get_step (trace, n - 1)->t_next);
  return time_factor (self, trace, epd_trace_get_step (trace, s)->t_cur);
}

static const double *
trace_row (const EpdTrace *trace,
           gsize           i,
           guint           s)
{
  if (s >= epd_trace_n_steps (trace))
    return trace->x_final + i * trace->dim;
  return epd_trace_get_step (trace, s)->x + i * trace->dim;
}

void
epd_trajectory_plot_point (const EpdTrajectoryPlot *self,
                           gsize                    i,
                           guint                    s,
                           double                  *x,
                           double                  *y)
{
  project (self, self->trace->dim, trace_row (self->trace, i, s), NULL, 0,
           row_factor (self, self->trace, s), x, y);
}

static gsize
n_paths (const EpdTrajectoryPlot *self)
{
  if (self->max_paths > 0)
    return MIN (self->trace->batch, self->max_paths);
  return self->trace->batch;
}

/* Appends the 2-D points that the view should frame: from grid point first on. */
static void
collect_points (const EpdTrajectoryPlot *self,
                const EpdTrace          *trace,
                guint                    first,
                GArray                  *xs,
                GArray                  *ys)
{
  guint n_steps = epd_trace_n_steps (trace);

  for (gsize i = 0; i < MIN (trace->batch, n_paths (self)); i++)
    for (guint s = MIN (first, n_steps); s <= n_steps; s++)
      {
        double x, y;
        project (self, trace->dim, trace_row (trace, i, s), NULL, 0, row_factor (self, trace, s), &x, &y);
        g_array_append_val (xs, x);
        g_array_append_val (ys, y);
      }
}

static void
fit_points (const EpdTrajectoryPlot *self,
            GArray                  *xs,
            GArray                  *ys,
            EpdPlotViewport         *vp)
{
  epd_plot_range_fit ((double *) xs->data, xs->len, FALSE, 0.12, &vp->x0, &vp->x1);
  epd_plot_range_fit ((double *) ys->data, ys->len, FALSE, 0.12, &vp->y0, &vp->y1);
  vp->log_x = vp->log_y = FALSE;
  /* Equal scales on both axes: a circle stays a circle. */
  if (!self->free_aspect)
    epd_plot_viewport_equal_aspect (vp);
}

gsize
epd_trajectory_plot_count_outside (const EpdTrajectoryPlot *self,
                                   const EpdPlotViewport   *vp)
{
  guint n_steps = epd_trace_n_steps (self->trace);
  gsize outside = 0;

  for (gsize i = 0; i < n_paths (self); i++)
    {
      double x, y;

      epd_trajectory_plot_point (self, i, n_steps, &x, &y);
      outside += !(x >= MIN (vp->x0, vp->x1) && x <= MAX (vp->x0, vp->x1) &&
                   y >= MIN (vp->y0, vp->y1) && y <= MAX (vp->y0, vp->y1));
    }
  return outside;
}

void
epd_trajectory_plot_fit_samples (const EpdTrajectoryPlot *self,
                                 EpdPlotViewport         *vp)
{
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  /* 2-D: the data live near the final samples, the start is sigma_max wide;
   * projections: the principal plane shows whole paths. */
  guint first = self->projection == NULL ? G_MAXUINT : 0;

  collect_points (self, self->trace, first, xs, ys);
  if (self->teacher != NULL && self->teacher->dim == self->trace->dim)
    collect_points (self, self->teacher, first, xs, ys);
  fit_points (self, xs, ys, vp);
}

void
epd_trajectory_plot_fit_view (const EpdTrajectoryPlot *self,
                              EpdPlotViewport         *vp)
{
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  guint first = self->projection == NULL ? G_MAXUINT : 0;

  /* The teacher does not move while a coefficient is dragged: framing it keeps
   * the view (and the heat map behind it) still. */
  if (self->teacher == NULL || self->teacher->dim != self->trace->dim)
    {
      epd_trajectory_plot_fit_samples (self, vp);
      return;
    }
  collect_points (self, self->teacher, first, xs, ys);
  fit_points (self, xs, ys, vp);
  /* A solver far off the teacher (Heun at NFE 5) must not leave the view empty. */
  if (2 * epd_trajectory_plot_count_outside (self, vp) > n_paths (self))
    epd_trajectory_plot_fit_samples (self, vp);
}

int
epd_trajectory_plot_pick (const EpdTrajectoryPlot *self,
                          const EpdPlotViewport   *vp,
                          guint                    s,
                          double                   px,
                          double                   py,
                          double                   radius)
{
  double best = radius * radius;
  int found = -1;

  for (gsize i = 0; i < n_paths (self); i++)
    {
      double x, y, qx, qy, d2;

      epd_trajectory_plot_point (self, i, s, &x, &y);
      epd_plot_viewport_to_pixel (vp, x, y, &qx, &qy);
      d2 = (qx - px) * (qx - px) + (qy - py) * (qy - py);
      if (d2 <= best)
        {
          best = d2;
          found = (int) i;
        }
    }
  return found;
}

static void
draw_density (cairo_t                 *cr,
              const EpdPlotViewport   *vp,
              const EpdTrajectoryPlot *self)
{
  const double *b = self->density_bounds;
  double px0, py0, px1, py1;
  int w, h;

  if (self->density == NULL)
    return;
  w = cairo_image_surface_get_width (self->density);
  h = cairo_image_surface_get_height (self->density);
  epd_plot_viewport_to_pixel (vp, b[0], b[3], &px0, &py0);
  epd_plot_viewport_to_pixel (vp, b[1], b[2], &px1, &py1);
  cairo_save (cr);
  cairo_translate (cr, px0, py0);
  cairo_scale (cr, (px1 - px0) / w, (py1 - py0) / h);
  cairo_set_source_surface (cr, self->density, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
  cairo_paint (cr);
  cairo_restore (cr);
}

static void
trace_path (cairo_t                 *cr,
            const EpdPlotViewport   *vp,
            const EpdTrajectoryPlot *self,
            const EpdTrace          *trace,
            gsize                    i,
            guint                    last)
{
  for (guint s = 0; s <= last; s++)
    {
      double x, y, px, py;

      project (self, trace->dim, trace_row (trace, i, s), NULL, 0, row_factor (self, trace, s), &x, &y);
      epd_plot_viewport_to_pixel (vp, x, y, &px, &py);
      if (s == 0)
        cairo_move_to (cr, px, py);
      else
        cairo_line_to (cr, px, py);
    }
}

static void
draw_teacher (cairo_t                 *cr,
              const EpdPlotViewport   *vp,
              const EpdTrajectoryPlot *self)
{
  const EpdTrace *teacher = self->teacher;

  if (teacher == NULL || teacher->dim != self->trace->dim)
    return;
  cairo_save (cr);
  cairo_set_source_rgba (cr, TEACHER_GREY, TEACHER_GREY, TEACHER_GREY, 0.45);
  cairo_set_line_width (cr, 0.8);
  for (gsize i = 0; i < MIN (teacher->batch, n_paths (self)); i++)
    {
      trace_path (cr, vp, self, teacher, i, epd_trace_n_steps (teacher));
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_paths (cairo_t                 *cr,
            const EpdPlotViewport   *vp,
            const EpdTrajectoryPlot *self)
{
  guint last = MIN (self->shown_steps, epd_trace_n_steps (self->trace));

  /* Hundreds of paths: thin and translucent, so that their density shows. */
  double alpha = n_paths (self) > 32 ? 0.35 : 0.7;

  cairo_save (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (gsize i = 0; i < n_paths (self); i++)
    {
      gboolean selected = (int) i == self->selected;

      cairo_set_line_width (cr, selected ? 2.5 : 0.9);
      epd_plot_set_palette_colour (cr, 0, selected ? 1.0 : alpha);
      /* The selected path is drawn whole, so that one sees where it goes. */
      trace_path (cr, vp, self, self->trace, i, selected ? epd_trace_n_steps (self->trace) : last);
      cairo_stroke (cr);
      for (guint s = 0; s <= last; s++)
        {
          double x, y, px, py;

          epd_trajectory_plot_point (self, i, s, &x, &y);
          epd_plot_viewport_to_pixel (vp, x, y, &px, &py);
          epd_plot_set_palette_colour (cr, s == last ? 1 : 0, s == last ? 0.9 : alpha);
          cairo_arc (cr, px, py, s == last ? 2.0 : 1.3, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
  cairo_restore (cr);
}

/* An arrow from row along scale * dir, in data coordinates. */
static void
data_arrow (cairo_t                 *cr,
            const EpdPlotViewport   *vp,
            const EpdTrajectoryPlot *self,
            const double            *row,
            const double            *dir,
            double                   scale,
            double                   c)
{
  guint dim = self->trace->dim;
  double x0, y0, x1, y1, px0, py0, px1, py1;

  project (self, dim, row, NULL, 0, c, &x0, &y0);
  project (self, dim, row, dir, scale, c, &x1, &y1);
  epd_plot_viewport_to_pixel (vp, x0, y0, &px0, &py0);
  epd_plot_viewport_to_pixel (vp, x1, y1, &px1, &py1);
  epd_plot_draw_arrow (cr, px0, py0, px1, py1, 9);
}

static void
draw_dot (cairo_t                 *cr,
          const EpdPlotViewport   *vp,
          const EpdTrajectoryPlot *self,
          const double            *row,
          double                   c,
          double                   radius)
{
  double x, y, px, py;

  project (self, self->trace->dim, row, NULL, 0, c, &x, &y);
  epd_plot_viewport_to_pixel (vp, x, y, &px, &py);
  cairo_arc (cr, px, py, radius, 0, 2 * G_PI);
  cairo_fill (cr);
}

/* x_{n+1} = x_n + h sum_k w_k d_k: a ring where the arrows' sum lands. */
static void
draw_next_state (cairo_t                 *cr,
                 const EpdPlotViewport   *vp,
                 const EpdTrajectoryPlot *self,
                 gsize                    i)
{
  double x, y, px, py;

  epd_trajectory_plot_point (self, i, self->step + 1, &x, &y);
  epd_plot_viewport_to_pixel (vp, x, y, &px, &py);
  cairo_set_line_width (cr, 2);
  cairo_arc (cr, px, py, 5, 0, 2 * G_PI);
  cairo_stroke (cr);
}

static void
draw_selected_step (cairo_t                 *cr,
                    const EpdPlotViewport   *vp,
                    const EpdTrajectoryPlot *self)
{
  const EpdTrace *trace = self->trace;
  gsize i = (gsize) self->selected;
  gsize stride = trace->batch * trace->dim;
  const EpdTraceStep *step;
  double h, c;

  if (self->selected < 0 || i >= trace->batch || self->step >= epd_trace_n_steps (trace))
    return;
  step = epd_trace_get_step (trace, self->step);
  h = step->t_next - step->t_cur;
  c = time_factor (self, trace, step->t_cur);
  cairo_save (cr);
  cairo_set_line_width (cr, 2.0);
  if (step->euler_dir != NULL)
    {
      static const double dash[] = { 5, 3 };
      cairo_set_dash (cr, dash, 2, 0);
      epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
      data_arrow (cr, vp, self, step->x + i * trace->dim, step->euler_dir + i * trace->dim, h, c);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  for (guint k = 0; k < step->n_points; k++)
    {
      const double *xk = step->point_x + k * stride + i * trace->dim;
      double ck = time_factor (self, trace, step->point_t[k]);

      epd_plot_set_palette_colour (cr, 1 + k, 1.0);
      draw_dot (cr, vp, self, xk, ck, 4);
      data_arrow (cr, vp, self, xk, step->point_dir + k * stride + i * trace->dim,
                  h * step->point_weight[k], ck);
    }
  epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
  draw_dot (cr, vp, self, step->x + i * trace->dim, c, 4.5);
  draw_next_state (cr, vp, self, i);
  cairo_restore (cr);
}

/* What the selected step's marks mean. */
static void
draw_selection_legend (cairo_t                 *cr,
                       const EpdPlotViewport   *vp,
                       const EpdTrajectoryPlot *self)
{
  const EpdTraceStep *step;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint colours[10];

  if (self->selected < 0 || self->step >= epd_trace_n_steps (self->trace))
    return;
  step = epd_trace_get_step (self->trace, self->step);
  g_ptr_array_add (names, g_strdup ("solver path (selected: thick)"));
  colours[0] = 0;
  if (self->teacher != NULL)
    {
      colours[names->len] = 6;
      g_ptr_array_add (names, g_strdup ("teacher path"));
    }
  for (guint k = 0; k < step->n_points && names->len < G_N_ELEMENTS (colours) - 1; k++)
    {
      colours[names->len] = 1 + k;
      g_ptr_array_add (names, g_strdup_printf ("point %u at t %.3g: h·w·d = weight %.3f", k + 1,
                                               step->point_t[k], step->point_weight[k]));
    }
  colours[names->len] = 6;
  g_ptr_array_add (names, g_strdup ("dashed: Euler step h·d; ring: x_n+1"));
  epd_plot_draw_legend (cr, vp, (const char * const *) names->pdata, colours, names->len);
}

void
epd_trajectory_plot_draw (cairo_t                 *cr,
                          const EpdPlotViewport   *vp,
                          const EpdTrajectoryPlot *self)
{
  g_return_if_fail (self->trace != NULL);
  cairo_save (cr);
  cairo_rectangle (cr, vp->left, vp->top, vp->width, vp->height);
  cairo_clip (cr);
  draw_density (cr, vp, self);
  draw_teacher (cr, vp, self);
  draw_paths (cr, vp, self);
  draw_selected_step (cr, vp, self);
  cairo_restore (cr);
  draw_selection_legend (cr, vp, self);
  epd_plot_draw_outside_note (cr, vp, epd_trajectory_plot_count_outside (self, vp), n_paths (self));
}

/* log p on the pixel centres of a width x height grid over bounds; *top gets the maximum. */
static double *
sample_log_density (EpdPlotDensityFunc  density,
                    gpointer            user_data,
                    const double        bounds[4],
                    int                 width,
                    int                 height,
                    double             *top)
{
  double *logp = g_new (double, (gsize) width * height);

  *top = -INFINITY;
  for (int row = 0; row < height; row++)
    for (int col = 0; col < width; col++)
      {
        double xy[2] = {
          bounds[0] + (col + 0.5) / width * (bounds[1] - bounds[0]),
          bounds[3] - (row + 0.5) / height * (bounds[3] - bounds[2]),
        };
        double v = density (xy, user_data);
        logp[row * width + col] = v;
        if (isfinite (v))
          *top = MAX (*top, v);
      }
  return logp;
}

cairo_surface_t *
epd_plot_density_surface (EpdPlotDensityFunc  density,
                          gpointer            user_data,
                          const double        bounds[4],
                          int                 width,
                          int                 height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  double top;
  g_autofree double *logp = sample_log_density (density, user_data, bounds, width, height, &top);
  guint8 *pixels;
  int stride;

  cairo_surface_flush (surface);
  pixels = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int row = 0; row < height; row++)
    for (int col = 0; col < width; col++)
      {
        double v = logp[row * width + col], r, g, b;
        /* The fourth root lifts the tails so that the modes' shapes show. */
        double level = isfinite (v) ? pow (exp (v - top), 0.25) : 0;
        /* White where the density vanishes, the colour map towards the modes:
         * the paths drawn on top stay readable. */
        double a = 0.1 + 0.75 * level;
        guint32 *px = (guint32 *) (pixels + row * stride) + col;

        epd_plot_colormap (level, &r, &g, &b);
        r = 1 - a * (1 - r);
        g = 1 - a * (1 - g);
        b = 1 - a * (1 - b);
        *px = ((guint32) (r * 255) << 16) | ((guint32) (g * 255) << 8) | (guint32) (b * 255);
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}
