/* SPDX-License-Identifier: MIT */
/* epd-studio-timing.h: the studio's timing log (EPD_STUDIO_TIMING=1), main thread only.
 * Prints each solve's time, each frame's draw time, and the latency from an
 * edit (a drag of a coefficient) to the first frame that shows its solve. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

gboolean epd_studio_timing_enabled      (void);
/* Turns the log on whatever the environment says (benchmarks). */
void     epd_studio_timing_enable       (void);
/* Prints the count, median and maximum of the edit-to-frame latencies seen. */
void     epd_studio_timing_summary      (void);
/* The result of a request issued at edit_us (monotonic microseconds, 0 if
 * not an edit) is now shown: the next frame reports the latency. */
void     epd_studio_timing_result       (gint64      edit_us,
                                         double      queued_ms,
                                         double      solve_ms,
                                         double      total_ms);
void     epd_studio_timing_frame        (const char *view,
                                         gint64      start_us);

/* The plots on cr follow widget's theme (dark or light) and the user's text
 * scale; exports draw on their own cairo_t, in the light style. */
void     epd_studio_plot_style          (GtkWidget  *widget,
                                         cairo_t    *cr);

/* A view's Cairo drawing: view_draw (view, cr, width, height). */
typedef void (*EpdStudioDrawFunc) (gpointer  view,
                                   cairo_t  *cr,
                                   double    width,
                                   double    height);
#define EPD_STUDIO_DRAW_FUNC(f) ((EpdStudioDrawFunc) (void (*) (void)) (f))
/* area draws with draw (view, ...), each frame timed under name (static). */
void     epd_studio_timing_set_draw_func (GtkWidget         *area,
                                          const char        *name,
                                          EpdStudioDrawFunc  draw,
                                          gpointer           view);

G_END_DECLS
