/* SPDX-License-Identifier: MIT
 * epd-test-widget.h: finding a widget in a window the studio's GUI tests drive. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The first widget under root (depth first, root included) of type type and,
 * when label is not NULL, a button with that label; NULL if none. */
GtkWidget *epd_test_find_widget (GtkWidget  *root,
                                 GType       type,
                                 const char *label);

G_END_DECLS
