/* SPDX-License-Identifier: MIT */
#include "epd-test-widget.h"

GtkWidget *
epd_test_find_widget (GtkWidget  *root,
                      GType       type,
                      const char *label)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type) &&
      (label == NULL || g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = epd_test_find_widget (child, type, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}
