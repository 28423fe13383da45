/* SPDX-License-Identifier: MIT */
/* epd-application.h: the EPD Studio GtkApplication. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define EPD_TYPE_APPLICATION (epd_application_get_type ())
G_DECLARE_FINAL_TYPE (EpdApplication, epd_application, EPD, APPLICATION, GtkApplication)

EpdApplication *epd_application_new             (void);
/* The process exits with this status (set by --bench-edits when it times out). */
void            epd_application_set_exit_status (EpdApplication *self,
                                                 int             status);
int             epd_application_get_exit_status (EpdApplication *self);

G_END_DECLS
