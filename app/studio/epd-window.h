/* SPDX-License-Identifier: MIT */
/* epd-window.h: the EPD Studio main window. */
#pragma once

#include <gtk/gtk.h>

#include "epd.h"

G_BEGIN_DECLS

#define EPD_TYPE_WINDOW (epd_window_get_type ())
G_DECLARE_FINAL_TYPE (EpdWindow, epd_window, EPD, WINDOW, GtkApplicationWindow)

EpdWindow *epd_window_new          (GtkApplication *application);
/* Loads a table (JSON, NPZ or builtin:NAME) into the editor; errors go to the banner. */
gboolean   epd_window_open_table   (EpdWindow      *self,
                                    const char     *path);
/* A file from the command line or a drop: .jsonl is a training log, else a table. */
gboolean   epd_window_open_file    (EpdWindow      *self,
                                    const char     *path);
gboolean   epd_window_save_table   (EpdWindow      *self,
                                    const char     *path,
                                    GError        **error);
/* Asks for a table file (JSON or NPZ) for widget's window; the chosen path is
 * appended to sources and selected in drop (whose model sources is). */
void       epd_window_choose_table_into (GtkWidget     *widget,
                                         const char    *title,
                                         GtkStringList *sources,
                                         GtkDropDown   *drop);
/* Shows a view by name: trajectories, coefficients, error, compare or training.
 * FALSE for an unknown name. */
gboolean   epd_window_show_view    (EpdWindow      *self,
                                    const char     *name);
/* Opens a model spec (added to the model list if new). */
void       epd_window_set_model_spec (EpdWindow    *self,
                                      const char   *spec);
/* Draws the current view to PNG, SVG or PDF (by path's extension). */
gboolean   epd_window_export_view  (EpdWindow      *self,
                                    const char     *path,
                                    GError        **error);
/* The same with PNG images scale times the view's size in pixels. */
gboolean   epd_window_export_view_scaled (EpdWindow *self,
                                          const char *path,
                                          double      scale,
                                          GError    **error);

G_END_DECLS
