/* SPDX-License-Identifier: MIT */
/* epd-error-view.c: a drawing area over the error report of the latest solve. */
#include "epd-error-view.h"

#include "epd-studio-timing.h"

struct _EpdErrorView
{
  GtkWidget             parent_instance;
  GtkWidget            *area;
  const EpdErrorReport *report;
};

G_DEFINE_FINAL_TYPE (EpdErrorView, epd_error_view, GTK_TYPE_WIDGET)

void
epd_error_view_draw (EpdErrorView *self,
                     cairo_t      *cr,
                     double        width,
                     double        height)
{
  epd_plot_clear (cr, width, height);
  if (self->report == NULL || self->report->curves->len == 0)
    {
      epd_plot_draw_title (cr, 20, 20, "Waiting for the teacher's reference solve…");
      return;
    }
  epd_error_plot_draw (cr, width, height, self->report);
}

void
epd_error_view_set_report (EpdErrorView         *self,
                           const EpdErrorReport *report)
{
  self->report = report;
  gtk_widget_queue_draw (self->area);
}

static void
epd_error_view_dispose (GObject *object)
{
  EpdErrorView *self = EPD_ERROR_VIEW (object);

  g_clear_pointer (&self->area, gtk_widget_unparent);
  G_OBJECT_CLASS (epd_error_view_parent_class)->dispose (object);
}

static void
epd_error_view_class_init (EpdErrorViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = epd_error_view_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
epd_error_view_init (EpdErrorView *self)
{
  self->area = gtk_drawing_area_new ();
  gtk_widget_set_parent (self->area, GTK_WIDGET (self));
  epd_studio_timing_set_draw_func (self->area, "errors",
                                   EPD_STUDIO_DRAW_FUNC (epd_error_view_draw), self);
}

GtkWidget *
epd_error_view_new (void)
{
  return g_object_new (EPD_TYPE_ERROR_VIEW, NULL);
}
