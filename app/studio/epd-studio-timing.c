/* SPDX-License-Identifier: MIT */
/* epd-studio-timing.c: solve, frame and edit-to-frame times on stderr. */
#include "epd-studio-timing.h"

#include "epd-plot.h"

static gint64 shown_edit_us;
static GArray *latencies;  /* edit-to-frame, ms */
static int enabled = -1;

gboolean
epd_studio_timing_enabled (void)
{
  if (enabled < 0)
    enabled = g_strcmp0 (g_getenv ("EPD_STUDIO_TIMING"), "1") == 0;
  return enabled;
}

void
epd_studio_timing_enable (void)
{
  enabled = 1;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

void
epd_studio_timing_summary (void)
{
  if (latencies == NULL || latencies->len == 0)
    {
      g_printerr ("timing: no edit reached a frame\n");
      return;
    }
  g_array_sort (latencies, compare_doubles);
  g_printerr ("timing: %u edits, edit to frame median %.2f ms, max %.2f ms\n", latencies->len,
              g_array_index (latencies, double, latencies->len / 2),
              g_array_index (latencies, double, latencies->len - 1));
  g_clear_pointer (&latencies, g_array_unref);
}

void
epd_studio_timing_result (gint64 edit_us,
                          double queued_ms,
                          double solve_ms,
                          double total_ms)
{
  if (!epd_studio_timing_enabled ())
    return;
  if (edit_us != 0)
    g_printerr ("timing: queued %.2f ms, solve %.2f ms, job %.2f ms, edit to result %.2f ms\n",
                queued_ms, solve_ms, total_ms, (g_get_monotonic_time () - edit_us) / 1000.0);
  else
    g_printerr ("timing: solve %.2f ms, job %.2f ms\n", solve_ms, total_ms);
  shown_edit_us = edit_us;
}

void
epd_studio_timing_frame (const char *view,
                         gint64      start_us)
{
  gint64 now;

  if (!epd_studio_timing_enabled ())
    return;
  now = g_get_monotonic_time ();
  g_printerr ("timing: frame %s %.2f ms\n", view, (now - start_us) / 1000.0);
  if (shown_edit_us != 0)
    {
      double ms = (now - shown_edit_us) / 1000.0;

      g_printerr ("timing: edit to frame %.2f ms\n", ms);
      if (latencies == NULL)
        latencies = g_array_new (FALSE, FALSE, sizeof (double));
      g_array_append_val (latencies, ms);
      shown_edit_us = 0;
    }
}

typedef struct
{
  EpdStudioDrawFunc  draw;
  gpointer           view;
  const char        *name;
} TimedDraw;

void
epd_studio_plot_style (GtkWidget *widget,
                       cairo_t   *cr)
{
  GdkRGBA fg;
  int dpi = 0;

  /* Light text means a dark theme (GTK 4.8 has no other way to ask). */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  g_object_get (gtk_widget_get_settings (widget), "gtk-xft-dpi", &dpi, NULL);
  epd_plot_set_style (cr, 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5,
                      dpi > 0 ? dpi / 1024.0 / 96.0 : 1.0);
}

static void
timed_draw (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        user_data)
{
  TimedDraw *timed = user_data;
  gint64 start = g_get_monotonic_time ();

  epd_studio_plot_style (GTK_WIDGET (area), cr);
  timed->draw (timed->view, cr, width, height);
  epd_studio_timing_frame (timed->name, start);
}

void
epd_studio_timing_set_draw_func (GtkWidget         *area,
                                 const char        *name,
                                 EpdStudioDrawFunc  draw,
                                 gpointer           view)
{
  TimedDraw *timed = g_new (TimedDraw, 1);

  *timed = (TimedDraw) { draw, view, name };
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), timed_draw, timed, g_free);
}
