/* SPDX-License-Identifier: MIT */
/* epd-error-view.h: error to the teacher per step and against NFE. */
#pragma once

#include <gtk/gtk.h>

#include "epd-plot-error.h"

G_BEGIN_DECLS

#define EPD_TYPE_ERROR_VIEW (epd_error_view_get_type ())
G_DECLARE_FINAL_TYPE (EpdErrorView, epd_error_view, EPD, ERROR_VIEW, GtkWidget)

GtkWidget *epd_error_view_new        (void);
/* Borrowed until the next call (NULL: nothing to show yet). */
void       epd_error_view_set_report (EpdErrorView         *self,
                                      const EpdErrorReport *report);
void       epd_error_view_draw       (EpdErrorView         *self,
                                      cairo_t              *cr,
                                      double                width,
                                      double                height);

G_END_DECLS
