/* SPDX-License-Identifier: MIT */
/* epd-trajectory-view.c: paths, playback, zoom/pan, tooltips and filmstrip. */
#include "epd-trajectory-view.h"

#include <math.h>

#include "epd-gmm.h"
#include "epd-image-grid.h"
#include "epd-studio-timing.h"

#define PLAY_INTERVAL_MS 450
#define PICK_RADIUS 9.0

struct _EpdTrajectoryView
{
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkWidget       *area;
  GtkWidget       *filmstrip;
  GtkWidget       *scale;
  GtkWidget       *play_button;
  GtkWidget       *label;
  GtkWidget       *teacher_check;
  GtkWidget       *back_button;
  GtkWidget       *forward_button;
  GtkWidget       *fit_button;

  EpdDenoiser     *model;
  EpdGmm          *mixture;
  const EpdTrace  *trace;
  const EpdTrace  *teacher;
  EpdPca          *pca;
  gboolean         is_image;

  EpdPlotViewport  viewport;
  gboolean         user_view;     /* zoomed, panned or fitted: keep the range */
  gboolean         fit_pending;   /* Fit: frame the samples at the next draw */
  gboolean         free_aspect;   /* axes fit the data each (a wide strip) */
  EpdPlotViewport  drag_start;
  double           pointer_x, pointer_y;

  cairo_surface_t *density;
  double           density_bounds[4];

  int              selected;
  guint            cursor;        /* grid point shown: paths drawn up to it */
  guint            play_id;
};

G_DEFINE_FINAL_TYPE (EpdTrajectoryView, epd_trajectory_view, GTK_TYPE_WIDGET)

static guint
n_steps (EpdTrajectoryView *self)
{
  return self->trace != NULL ? epd_trace_n_steps (self->trace) : 0;
}

static void
plot_init (EpdTrajectoryView *self,
           EpdTrajectoryPlot *plot)
{
  epd_trajectory_plot_init (plot, self->trace);
  plot->teacher = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->teacher_check))
                  ? self->teacher : NULL;
  plot->projection = self->pca;
  plot->normalise = self->pca != NULL;
  plot->density = self->density;
  memcpy (plot->density_bounds, self->density_bounds, sizeof plot->density_bounds);
  plot->selected = self->selected;
  plot->shown_steps = self->cursor;
  plot->step = MIN (self->cursor, MAX (n_steps (self), 1) - 1);
  plot->free_aspect = self->free_aspect;
}

static double
gmm_log_density (const double xy[2],
                 gpointer     user_data)
{
  double out;

  epd_gmm_log_density (user_data, xy, NULL, 1, &out);
  return out;
}

/* The heat map follows the view: recomputed when the range changes. */
static void
update_density (EpdTrajectoryView *self,
                double             width,
                double             height)
{
  const EpdPlotViewport *vp = &self->viewport;
  double bounds[4] = { vp->x0, vp->x1, vp->y0, vp->y1 };

  if (self->mixture == NULL || epd_gmm_get_dim (self->mixture) != 2)
    return;
  if (self->density != NULL && memcmp (bounds, self->density_bounds, sizeof bounds) == 0)
    return;
  g_clear_pointer (&self->density, cairo_surface_destroy);
  self->density = epd_plot_density_surface (gmm_log_density, self->mixture, bounds,
                                            MAX ((int) vp->width / 3, 8), MAX ((int) vp->height / 3, 8));
  memcpy (self->density_bounds, bounds, sizeof bounds);
}

static void
draw_caption (EpdTrajectoryView *self,
              cairo_t           *cr)
{
  g_autofree char *text = NULL;
  guint n = n_steps (self);

  if (self->cursor < n)
    {
      EpdTraceStep *step = epd_trace_get_step (self->trace, self->cursor);
      text = g_strdup_printf ("grid point %u of %u · step t %.4g → %.4g%s", self->cursor, n,
                              step->t_cur, step->t_next,
                              self->selected >= 0 ? " · selected path shows its K points" : " · click a path");
    }
  else
    text = g_strdup_printf ("final samples after %u steps%s", n,
                            self->pca != NULL ? " · projected on the 2 principal components" : "");
  epd_plot_draw_title (cr, self->viewport.left, 6, text);
}

void
epd_trajectory_view_draw (EpdTrajectoryView *self,
                          cairo_t           *cr,
                          double             width,
                          double             height)
{
  EpdTrajectoryPlot plot;

  epd_plot_clear (cr, width, height);
  if (self->trace == NULL || n_steps (self) == 0)
    {
      epd_plot_draw_title (cr, 20, 20, "Solving…");
      return;
    }
  epd_plot_viewport_set_area_with_margins (&self->viewport, width, height);
  plot_init (self, &plot);
  if (self->fit_pending)
    {
      epd_trajectory_plot_fit_samples (&plot, &self->viewport);
      self->fit_pending = FALSE;
      self->user_view = TRUE;
    }
  else if (!self->user_view)
    epd_trajectory_plot_fit_view (&plot, &self->viewport);
  update_density (self, width, height);
  plot.density = self->density;
  memcpy (plot.density_bounds, self->density_bounds, sizeof plot.density_bounds);
  epd_trajectory_plot_draw (cr, &self->viewport, &plot);
  epd_plot_draw_axes (cr, &self->viewport, self->pca != NULL ? "PC 1 of x / √(1+t²)" : "x₁",
                      self->pca != NULL ? "PC 2" : "x₂");
  draw_caption (self, cr);
}

/* The selected path's states (scaled to the data range) over its denoised predictions. */
#define FILMSTRIP_LEFT 90
#define FILMSTRIP_TOP  4

/* "AFS: no evaluation" over the D(x_n) tile of column s of a grid of
 * columns x 2 tiles of tile pixels (the gutter follows from its width). */
static void
label_afs_tile (cairo_t         *cr,
                cairo_surface_t *grid,
                guint            columns,
                guint            tile,
                guint            s)
{
  double gutter = (cairo_image_surface_get_width (grid) - (double) columns * tile) / (columns + 1);
  double x = FILMSTRIP_LEFT + gutter + s * (tile + gutter) + tile / 2.0;
  double y = FILMSTRIP_TOP + 2 * gutter + tile + tile / 2.0;
  const char *lines[] = { "AFS:", "no", "evaluation" };

  cairo_save (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    epd_plot_show_text (cr, lines[i], x, y + (i - 1.0) * tile / 4.5, 0.5, 0.5, MIN (9.0, tile / 6.0), FALSE);
  cairo_restore (cr);
}

static void
filmstrip_draw (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  EpdTrajectoryView *self = user_data;
  guint side, channels, n = n_steps (self), dim;
  gsize path;
  g_autofree double *rows = NULL;

  epd_studio_plot_style (GTK_WIDGET (area), cr);
  epd_plot_clear (cr, width, height);
  if (n == 0 || !epd_denoiser_get_image_shape (self->model, &side, &channels))
    return;
  dim = self->trace->dim;
  path = self->selected >= 0 ? (gsize) self->selected : 0;
  rows = g_new0 (double, (gsize) 2 * (n + 1) * dim);
  for (guint s = 0; s <= n; s++)
    {
      const double *x = s < n ? epd_trace_get_step (self->trace, s)->x : self->trace->x_final;
      double t = s < n ? epd_trace_get_step (self->trace, s)->t_cur : 0;
      const double *d = s < n ? epd_trace_get_step (self->trace, s)->denoised : NULL;

      for (guint j = 0; j < dim; j++)
        {
          /* x = x0 + t n has scale sqrt(1 + t^2): divide it out to show it. */
          rows[s * dim + j] = x[path * dim + j] / sqrt (1 + t * t);
          /* The AFS step evaluates nothing: a mid-grey tile, labelled below.
           * After the last step the sample itself is the denoised image. */
          rows[(n + 1 + s) * dim + j] = d != NULL ? d[path * dim + j] : s < n ? 0 : x[path * dim + j];
        }
    }
  cairo_surface_t *grid = epd_image_grid_render (rows, 2 * (n + 1), side, channels, n + 1, 2, NULL);
  if (grid == NULL)
    return;
  cairo_set_source_surface (cr, grid, FILMSTRIP_LEFT, FILMSTRIP_TOP);
  cairo_paint (cr);
  for (guint s = 0; s < n; s++)
    if (epd_trace_get_step (self->trace, s)->denoised == NULL)
      label_afs_tile (cr, grid, n + 1, side * 2, s);
  cairo_surface_destroy (grid);
  epd_plot_draw_title (cr, 6, 10, "x_n / √(1+t²)");
  epd_plot_draw_title (cr, 6, 12 + side * 2 + 2, "D(x_n)");
}

static void
update_label (EpdTrajectoryView *self)
{
  g_autofree char *text = g_strdup_printf ("%u / %u", self->cursor, n_steps (self));

  gtk_label_set_text (GTK_LABEL (self->label), text);
}

static void
set_cursor (EpdTrajectoryView *self,
            guint              cursor)
{
  self->cursor = MIN (cursor, n_steps (self));
  gtk_range_set_value (GTK_RANGE (self->scale), self->cursor);
  update_label (self);
  gtk_widget_queue_draw (self->area);
}

static void
scale_changed (GtkRange          *range,
               EpdTrajectoryView *self)
{
  guint value = (guint) round (gtk_range_get_value (range));

  if (value != self->cursor)
    set_cursor (self, value);
}

void
epd_trajectory_view_step (EpdTrajectoryView *self,
                          int                delta)
{
  int next = (int) self->cursor + delta;

  set_cursor (self, (guint) CLAMP (next, 0, (int) n_steps (self)));
}

static gboolean
play_tick (gpointer user_data)
{
  EpdTrajectoryView *self = user_data;

  if (self->cursor >= n_steps (self))
    {
      self->play_id = 0;
      gtk_button_set_icon_name (GTK_BUTTON (self->play_button), "media-playback-start-symbolic");
      return G_SOURCE_REMOVE;
    }
  epd_trajectory_view_step (self, 1);
  return G_SOURCE_CONTINUE;
}

void
epd_trajectory_view_toggle_play (EpdTrajectoryView *self)
{
  if (self->play_id != 0)
    {
      g_clear_handle_id (&self->play_id, g_source_remove);
      gtk_button_set_icon_name (GTK_BUTTON (self->play_button), "media-playback-start-symbolic");
      return;
    }
  if (self->cursor >= n_steps (self))
    set_cursor (self, 0);
  self->play_id = g_timeout_add (PLAY_INTERVAL_MS, play_tick, self);
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button), "media-playback-pause-symbolic");
}

/* Fit frames every final sample, the solver's and the teacher's, and keeps
 * that view until the next zoom or Fit. */
void
epd_trajectory_view_reset_zoom (EpdTrajectoryView *self)
{
  self->fit_pending = TRUE;
  gtk_widget_queue_draw (self->area);
}

void
epd_trajectory_view_set_free_aspect (EpdTrajectoryView *self,
                                     gboolean           free_aspect)
{
  self->free_aspect = free_aspect;
  gtk_widget_queue_draw (self->area);
}

const EpdPlotViewport *
epd_trajectory_view_get_viewport (EpdTrajectoryView *self)
{
  return &self->viewport;
}

static void
refit_projection (EpdTrajectoryView *self)
{
  g_clear_pointer (&self->pca, epd_pca_free);
  if (self->trace == NULL || self->trace->dim <= 2)
    return;
  /* Without a projection the view would show pixels 0 and 1 of each image. */
  self->pca = epd_pca_fit_trace (self->trace, TRUE, NULL);
}

void
epd_trajectory_view_set_traces (EpdTrajectoryView *self,
                                const EpdTrace    *trace,
                                const EpdTrace    *teacher)
{
  gboolean was_at_end = self->cursor >= n_steps (self);

  self->trace = trace;
  self->teacher = teacher;
  if (self->selected >= 0 && (trace == NULL || (gsize) self->selected >= trace->batch))
    self->selected = -1;
  refit_projection (self);
  gtk_range_set_range (GTK_RANGE (self->scale), 0, MAX (n_steps (self), 1));
  set_cursor (self, was_at_end ? n_steps (self) : self->cursor);
  gtk_widget_set_visible (self->filmstrip, self->is_image && trace != NULL);
  gtk_widget_queue_draw (self->filmstrip);
}

void
epd_trajectory_view_set_model (EpdTrajectoryView *self,
                               EpdDenoiser       *model,
                               EpdGmm            *mixture)
{
  guint side, channels;

  g_set_object (&self->mixture, mixture);
  if (!g_set_object (&self->model, model))
    return;
  g_clear_pointer (&self->density, cairo_surface_destroy);
  self->is_image = model != NULL && epd_denoiser_get_image_shape (model, &side, &channels);
  self->user_view = FALSE;
  self->selected = -1;
  if (self->is_image)
    gtk_widget_set_size_request (self->filmstrip, -1, 2 * 2 * side + 12);
}

static void
drag_begin (GtkGestureDrag    *gesture,
            double             x,
            double             y,
            EpdTrajectoryView *self)
{
  self->drag_start = self->viewport;
}

static void
drag_update (GtkGestureDrag    *gesture,
             double             dx,
             double             dy,
             EpdTrajectoryView *self)
{
  if (hypot (dx, dy) < 3)
    return;
  self->viewport = self->drag_start;
  epd_plot_viewport_pan (&self->viewport, dx, dy);
  self->user_view = TRUE;
  gtk_widget_queue_draw (self->area);
}

static void
select_at (EpdTrajectoryView *self,
           double             x,
           double             y)
{
  EpdTrajectoryPlot plot;

  if (self->trace == NULL)
    return;
  plot_init (self, &plot);
  self->selected = epd_trajectory_plot_pick (&plot, &self->viewport, self->cursor, x, y, PICK_RADIUS);
  if (self->selected >= 0 && self->cursor >= n_steps (self) && n_steps (self) > 0)
    set_cursor (self, n_steps (self) - 1);
  gtk_widget_queue_draw (self->area);
  gtk_widget_queue_draw (self->filmstrip);
}

static void
drag_end (GtkGestureDrag    *gesture,
          double             dx,
          double             dy,
          EpdTrajectoryView *self)
{
  double x, y;

  /* A drag that did not move is a click: it selects a path. */
  if (hypot (dx, dy) >= 3)
    return;
  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  select_at (self, x, y);
}

static gboolean
scrolled (GtkEventControllerScroll *controller,
          double                    dx,
          double                    dy,
          EpdTrajectoryView        *self)
{
  epd_plot_viewport_zoom (&self->viewport, self->pointer_x, self->pointer_y, pow (1.2, -dy));
  self->user_view = TRUE;
  gtk_widget_queue_draw (self->area);
  return TRUE;
}

static void
motion (GtkEventControllerMotion *controller,
        double                    x,
        double                    y,
        EpdTrajectoryView        *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

static char *
describe_point (EpdTrajectoryView *self,
                int                path)
{
  guint s = self->cursor, n = n_steps (self), dim = self->trace->dim;
  const double *x = s < n ? epd_trace_get_step (self->trace, s)->x : self->trace->x_final;
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "path %d, grid point %u", path, s);
  if (s >= n && n > 0)
    g_string_append_printf (text, "\nt = %.5g (final)", epd_trace_get_step (self->trace, n - 1)->t_next);
  if (s < n)
    {
      EpdTraceStep *step = epd_trace_get_step (self->trace, s);
      g_string_append_printf (text, "\n%s = %.5g", self->trace->flow_time ? "flow time t" : "t = σ",
                              step->t_cur);
      if (dim <= 4 && step->denoised != NULL)
        g_string_append_printf (text, "\nD(x) = (%.4g, %.4g)", step->denoised[path * dim],
                                step->denoised[path * dim + 1]);
    }
  if (dim <= 4)
    g_string_append_printf (text, "\nx = (%.4g, %.4g)", x[path * dim], x[path * dim + 1]);
  return g_string_free (text, FALSE);
}

static gboolean
query_tooltip (GtkWidget         *widget,
               int                x,
               int                y,
               gboolean           keyboard,
               GtkTooltip        *tooltip,
               EpdTrajectoryView *self)
{
  EpdTrajectoryPlot plot;
  g_autofree char *text = NULL;
  int path;

  if (self->trace == NULL || n_steps (self) == 0)
    return FALSE;
  plot_init (self, &plot);
  path = epd_trajectory_plot_pick (&plot, &self->viewport, self->cursor, x, y, PICK_RADIUS);
  if (path < 0)
    return FALSE;
  text = describe_point (self, path);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
add_controllers (EpdTrajectoryView *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  GtkEventController *pointer = gtk_event_controller_motion_new ();

  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scrolled), self);
  g_signal_connect (pointer, "motion", G_CALLBACK (motion), self);
  gtk_widget_add_controller (self->area, GTK_EVENT_CONTROLLER (drag));
  gtk_widget_add_controller (self->area, scroll);
  gtk_widget_add_controller (self->area, pointer);
  gtk_widget_set_has_tooltip (self->area, TRUE);
  g_signal_connect (self->area, "query-tooltip", G_CALLBACK (query_tooltip), self);
}

static void
step_back (EpdTrajectoryView *self)
{
  epd_trajectory_view_step (self, -1);
}

static void
step_forward (EpdTrajectoryView *self)
{
  epd_trajectory_view_step (self, 1);
}

static void
epd_trajectory_view_dispose (GObject *object)
{
  EpdTrajectoryView *self = EPD_TRAJECTORY_VIEW (object);

  g_clear_handle_id (&self->play_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (object), EPD_TYPE_TRAJECTORY_VIEW);
  g_clear_object (&self->model);
  g_clear_object (&self->mixture);
  g_clear_pointer (&self->pca, epd_pca_free);
  g_clear_pointer (&self->density, cairo_surface_destroy);
  G_OBJECT_CLASS (epd_trajectory_view_parent_class)->dispose (object);
}

static void
epd_trajectory_view_class_init (EpdTrajectoryViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = epd_trajectory_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (GTK_WIDGET_CLASS (klass),
                                               "/org/epdstudio/EpdStudio/gtk/epd-trajectory-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (GTK_WIDGET_CLASS (klass), EpdTrajectoryView, name)
  BIND (box);
  BIND (area);
  BIND (filmstrip);
  BIND (back_button);
  BIND (play_button);
  BIND (forward_button);
  BIND (scale);
  BIND (label);
  BIND (teacher_check);
  BIND (fit_button);
#undef BIND
}

static void
epd_trajectory_view_init (EpdTrajectoryView *self)
{
  self->selected = -1;
  gtk_widget_init_template (GTK_WIDGET (self));
  epd_studio_timing_set_draw_func (self->area, "trajectories",
                                   EPD_STUDIO_DRAW_FUNC (epd_trajectory_view_draw), self);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->filmstrip), filmstrip_draw, self, NULL);
  g_signal_connect_swapped (self->back_button, "clicked", G_CALLBACK (step_back), self);
  g_signal_connect_swapped (self->forward_button, "clicked", G_CALLBACK (step_forward), self);
  g_signal_connect_swapped (self->play_button, "clicked", G_CALLBACK (epd_trajectory_view_toggle_play), self);
  g_signal_connect_swapped (self->fit_button, "clicked", G_CALLBACK (epd_trajectory_view_reset_zoom), self);
  g_signal_connect (self->scale, "value-changed", G_CALLBACK (scale_changed), self);
  g_signal_connect_swapped (self->teacher_check, "toggled", G_CALLBACK (gtk_widget_queue_draw), self->area);
  add_controllers (self);
}

GtkWidget *
epd_trajectory_view_new (void)
{
  return g_object_new (EPD_TYPE_TRAJECTORY_VIEW, NULL);
}
