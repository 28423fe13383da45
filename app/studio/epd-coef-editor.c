/* SPDX-License-Identifier: MIT */
/* epd-coef-editor.c: drags, typed values, undo/redo and an overlay on the coefficient plot. */
#include "epd-coef-editor.h"

#include "epd-coef-edit.h"
#include "epd-plot-coef.h"
#include "epd-studio-timing.h"
#include "epd-window.h"

#define HISTORY_LIMIT 200

struct _EpdCoefEditor
{
  GtkWidget       parent_instance;

  GtkWidget      *box;
  GtkWidget      *area;
  GtkWidget      *reset_button;
  GtkWidget      *step_spin;
  GtkWidget      *point_spin;
  GtkWidget      *r_spin;
  GtkWidget      *weight_spin;
  GtkWidget      *overlay_label;
  GtkWidget      *overlay_drop;
  GtkWidget      *overlay_file_button;
  GtkStringList  *overlay_sources;

  EpdTable       *table;
  EpdTable       *original;   /* what "reset step" goes back to */
  EpdTable       *overlay;
  char           *overlay_title;
  double         *grid;
  guint           n_grid;
  EpdCoefHistory *history;

  EpdCoefLayout   layout;
  EpdCoefPart     drag_part;
  EpdTable       *drag_before;  /* the table as the drag found it */
  double          drag_x0;      /* where it started */
  double          drag_y0;
  guint           drag_step;
  guint           drag_k;
  guint           selected_step;
  guint           selected_k;
  gboolean        updating;   /* the spin buttons are being set from the table */
  gboolean        can_undo;   /* what the history says, as properties */
  gboolean        can_redo;
};

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_CAN_UNDO, PROP_CAN_REDO, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (EpdCoefEditor, epd_coef_editor, GTK_TYPE_WIDGET)

/* The history is the one source of truth: the editor.undo/redo actions (its
 * buttons) and the can-undo/can-redo properties (the window's shortcuts)
 * follow it. */
static void
sync_history (EpdCoefEditor *self)
{
  gboolean can_undo = epd_coef_history_can_undo (self->history);
  gboolean can_redo = epd_coef_history_can_redo (self->history);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.undo", can_undo);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.redo", can_redo);
  if (can_undo != self->can_undo)
    {
      self->can_undo = can_undo;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
    }
  if (can_redo != self->can_redo)
    {
      self->can_redo = can_redo;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
    }
}

static void
sync_controls (EpdCoefEditor *self)
{
  gsize i;

  if (self->table == NULL)
    return;
  self->selected_step = MIN (self->selected_step, self->table->steps - 1);
  self->selected_k = MIN (self->selected_k, self->table->n_points - 1);
  i = self->selected_step * self->table->n_points + self->selected_k;
  self->updating = TRUE;
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->step_spin), 1, self->table->steps);
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->point_spin), 1, self->table->n_points);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->step_spin), self->selected_step + 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->point_spin), self->selected_k + 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->r_spin), self->table->r[i]);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->weight_spin), self->table->weight[i]);
  self->updating = FALSE;
  sync_history (self);
  gtk_widget_queue_draw (self->area);
}

static void
emit_changed (EpdCoefEditor *self)
{
  sync_controls (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

void
epd_coef_editor_set_table (EpdCoefEditor  *self,
                           const EpdTable *table,
                           gboolean        undoable)
{
  if (undoable && self->table != NULL)
    epd_coef_history_push (self->history, self->table);
  else
    epd_coef_history_clear (self->history);
  g_clear_pointer (&self->table, epd_table_free);
  g_clear_pointer (&self->original, epd_table_free);
  self->table = epd_table_copy (table);
  self->original = epd_table_copy (table);
  sync_controls (self);
}

const EpdTable *
epd_coef_editor_get_table (EpdCoefEditor *self)
{
  return self->table;
}

void
epd_coef_editor_set_grid (EpdCoefEditor *self,
                          const double  *grid,
                          guint          n)
{
  g_clear_pointer (&self->grid, g_free);
  self->grid = grid != NULL ? g_memdup2 (grid, n * sizeof (double)) : NULL;
  self->n_grid = grid != NULL ? n : 0;
  gtk_widget_queue_draw (self->area);
}

void
epd_coef_editor_set_overlay (EpdCoefEditor  *self,
                             const EpdTable *overlay,
                             const char     *title)
{
  g_autofree char *text = NULL;

  g_clear_pointer (&self->overlay, epd_table_free);
  g_clear_pointer (&self->overlay_title, g_free);
  if (overlay != NULL)
    {
      self->overlay = epd_table_copy (overlay);
      self->overlay_title = g_strdup (title);
    }
  if (self->overlay == NULL)
    text = g_strdup ("No overlay");
  else if (self->table != NULL && (overlay->steps != self->table->steps ||
                                   overlay->n_points != self->table->n_points))
    text = g_strdup_printf ("Overlay “%s” has %u steps × K %u: not drawn on this table", title,
                            overlay->steps, overlay->n_points);
  else
    text = g_strdup_printf ("Overlay: %s", title);
  gtk_label_set_text (GTK_LABEL (self->overlay_label), text);
  gtk_widget_queue_draw (self->area);
}


static void
replace_table (EpdCoefEditor *self,
               EpdTable      *table)
{
  if (table == NULL)
    return;
  epd_table_free (self->table);
  self->table = table;
  emit_changed (self);
}

void
epd_coef_editor_undo (EpdCoefEditor *self)
{
  if (self->table != NULL)
    replace_table (self, epd_coef_history_undo (self->history, self->table));
}

void
epd_coef_editor_redo (EpdCoefEditor *self)
{
  if (self->table != NULL)
    replace_table (self, epd_coef_history_redo (self->history, self->table));
}

void
epd_coef_editor_reset_step (EpdCoefEditor *self)
{
  if (self->table == NULL)
    return;
  epd_coef_history_push (self->history, self->table);
  epd_table_reset_step (self->table, self->selected_step, self->original);
  emit_changed (self);
}

void
epd_coef_editor_edit_weight (EpdCoefEditor *self,
                             guint          step,
                             guint          k,
                             double         value)
{
  g_return_if_fail (self->table != NULL && step < self->table->steps && k < self->table->n_points);
  epd_coef_history_push (self->history, self->table);
  epd_table_edit_weight (self->table, step, k, value);
  self->selected_step = step;
  self->selected_k = k;
  emit_changed (self);
}

void
epd_coef_editor_draw (EpdCoefEditor *self,
                      cairo_t       *cr,
                      double         width,
                      double         height)
{
  EpdCoefPlot plot;

  epd_plot_clear (cr, width, height);
  if (self->table == NULL)
    return;
  epd_coef_plot_init (&plot, self->table);
  plot.overlay = self->overlay;
  plot.overlay_title = self->overlay_title;
  plot.title = "this table";
  plot.grid = self->n_grid == self->table->steps + 1 ? self->grid : NULL;
  plot.selected_step = (int) self->selected_step;
  plot.selected_point = (int) self->selected_k;
  epd_coef_plot_draw (cr, width, height, &plot);
  epd_coef_layout_compute (&self->layout, self->table->steps, self->table->n_points, width, height);
}

static void
drag_begin (GtkGestureDrag *gesture,
            double          x,
            double          y,
            EpdCoefEditor  *self)
{
  self->drag_part = EPD_COEF_PART_NONE;
  if (self->table == NULL)
    return;
  self->drag_part = epd_coef_layout_hit (&self->layout, self->table, x, y,
                                         &self->drag_step, &self->drag_k);
  if (self->drag_part == EPD_COEF_PART_NONE)
    return;
  self->selected_step = self->drag_step;
  self->selected_k = self->drag_k;
  self->drag_x0 = x;
  self->drag_y0 = y;
  /* One undo entry per drag, however many motions it has, pushed when it
   * ends and only if it changed the table (a click on a marker does not). */
  g_clear_pointer (&self->drag_before, epd_table_free);
  self->drag_before = epd_table_copy (self->table);
  if (self->drag_part == EPD_COEF_PART_WEIGHT)
    {
      epd_table_edit_weight (self->table, self->drag_step, self->drag_k,
                             epd_coef_layout_weight_at (&self->layout, y));
      emit_changed (self);
      return;
    }
  sync_controls (self);
}

static void
drag_update (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             EpdCoefEditor  *self)
{
  double x0 = self->drag_x0, y0 = self->drag_y0;

  if (self->drag_part == EPD_COEF_PART_NONE)
    return;
  if (self->drag_part == EPD_COEF_PART_WEIGHT)
    epd_table_edit_weight (self->table, self->drag_step, self->drag_k,
                           epd_coef_layout_weight_at (&self->layout, y0 + dy));
  else
    epd_table_edit_position (self->table, self->drag_step, self->drag_k,
                             epd_coef_layout_r_at (&self->layout, self->drag_step, x0 + dx));
  emit_changed (self);
}

static void
drag_end (GtkGestureDrag *gesture,
          double          dx,
          double          dy,
          EpdCoefEditor  *self)
{
  g_autoptr(EpdTable) before = g_steal_pointer (&self->drag_before);

  self->drag_part = EPD_COEF_PART_NONE;
  if (before != NULL && self->table != NULL && !epd_table_equal (before, self->table))
    {
      epd_coef_history_push (self->history, before);
      sync_history (self);
    }
}

static void
spin_edited (EpdCoefEditor *self)
{
  double r = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->r_spin));
  double w = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->weight_spin));
  gsize i;

  if (self->updating || self->table == NULL)
    return;
  i = self->selected_step * self->table->n_points + self->selected_k;
  if (r == self->table->r[i] && w == self->table->weight[i])
    return;
  epd_coef_history_push (self->history, self->table);
  epd_table_edit_position (self->table, self->selected_step, self->selected_k, r);
  epd_table_edit_weight (self->table, self->selected_step, self->selected_k, w);
  emit_changed (self);
}

static void
selection_edited (EpdCoefEditor *self)
{
  if (self->updating)
    return;
  self->selected_step = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->step_spin)) - 1;
  self->selected_k = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->point_spin)) - 1;
  sync_controls (self);
}

#define NO_OVERLAY "no overlay"

static void
overlay_selected (EpdCoefEditor *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (self->overlay_drop));
  const char *source = item != NULL ? gtk_string_object_get_string (item) : NO_OVERLAY;
  g_autoptr(EpdTable) overlay = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (g_strcmp0 (source, NO_OVERLAY) == 0)
    {
      epd_coef_editor_set_overlay (self, NULL, NULL);
      return;
    }
  overlay = epd_table_load (source, &error);
  if (overlay == NULL)
    {
      text = g_strdup_printf ("Cannot overlay: %s", error->message);
      gtk_label_set_text (GTK_LABEL (self->overlay_label), text);
      return;
    }
  epd_coef_editor_set_overlay (self, overlay, source);
}

static void
overlay_file_clicked (EpdCoefEditor *self)
{
  epd_window_choose_table_into (GTK_WIDGET (self), "Overlay a Table", self->overlay_sources,
                                GTK_DROP_DOWN (self->overlay_drop));
}

/* "no overlay", then every shipped table; files join the list when chosen. */
static void
setup_overlay_sources (EpdCoefEditor *self)
{
  g_auto(GStrv) names = epd_table_builtin_names ();

  self->overlay_sources = gtk_string_list_new (NULL);
  gtk_string_list_append (self->overlay_sources, NO_OVERLAY);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *spec = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, names[i], NULL);
      gtk_string_list_append (self->overlay_sources, spec);
    }
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->overlay_drop), G_LIST_MODEL (self->overlay_sources));
}

static void
epd_coef_editor_dispose (GObject *object)
{
  EpdCoefEditor *self = EPD_COEF_EDITOR (object);

  gtk_widget_dispose_template (GTK_WIDGET (object), EPD_TYPE_COEF_EDITOR);
  g_clear_pointer (&self->table, epd_table_free);
  g_clear_pointer (&self->original, epd_table_free);
  g_clear_pointer (&self->overlay, epd_table_free);
  g_clear_pointer (&self->overlay_title, g_free);
  g_clear_pointer (&self->grid, g_free);
  g_clear_pointer (&self->history, epd_coef_history_free);
  g_clear_pointer (&self->drag_before, epd_table_free);
  g_clear_object (&self->overlay_sources);
  G_OBJECT_CLASS (epd_coef_editor_parent_class)->dispose (object);
}

static void
epd_coef_editor_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  EpdCoefEditor *self = EPD_COEF_EDITOR (object);

  switch (prop_id)
    {
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, self->can_undo);
      break;
    case PROP_CAN_REDO:
      g_value_set_boolean (value, self->can_redo);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
undo_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  epd_coef_editor_undo (EPD_COEF_EDITOR (widget));
}

static void
redo_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  epd_coef_editor_redo (EPD_COEF_EDITOR (widget));
}

static void
epd_coef_editor_class_init (EpdCoefEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = epd_coef_editor_dispose;
  object_class->get_property = epd_coef_editor_get_property;
  properties[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                                                    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                    G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                                                    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                    G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_install_action (widget_class, "editor.undo", NULL, undo_activated);
  gtk_widget_class_install_action (widget_class, "editor.redo", NULL, redo_activated);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/epdstudio/EpdStudio/gtk/epd-coef-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, box);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, area);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, reset_button);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, step_spin);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, point_spin);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, r_spin);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, weight_spin);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, overlay_drop);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, overlay_file_button);
  gtk_widget_class_bind_template_child (widget_class, EpdCoefEditor, overlay_label);
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  /* Emitted after every edit of the table (drag motion, typed value, undo...). */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
epd_coef_editor_init (EpdCoefEditor *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->history = epd_coef_history_new (HISTORY_LIMIT);
  /* One definition of r's range: epd-coef-edit.h. */
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->r_spin), EPD_COEF_R_MIN, 1 - EPD_COEF_R_MIN);
  epd_studio_timing_set_draw_func (self->area, "coefficients",
                                   EPD_STUDIO_DRAW_FUNC (epd_coef_editor_draw), self);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  gtk_widget_add_controller (self->area, GTK_EVENT_CONTROLLER (drag));
  setup_overlay_sources (self);
  g_signal_connect_swapped (self->overlay_drop, "notify::selected", G_CALLBACK (overlay_selected), self);
  g_signal_connect_swapped (self->overlay_file_button, "clicked", G_CALLBACK (overlay_file_clicked), self);
  g_signal_connect_swapped (self->reset_button, "clicked", G_CALLBACK (epd_coef_editor_reset_step), self);
  g_signal_connect_swapped (self->step_spin, "value-changed", G_CALLBACK (selection_edited), self);
  g_signal_connect_swapped (self->point_spin, "value-changed", G_CALLBACK (selection_edited), self);
  g_signal_connect_swapped (self->r_spin, "value-changed", G_CALLBACK (spin_edited), self);
  g_signal_connect_swapped (self->weight_spin, "value-changed", G_CALLBACK (spin_edited), self);
  sync_history (self);
}

GtkWidget *
epd_coef_editor_new (void)
{
  return g_object_new (EPD_TYPE_COEF_EDITOR, NULL);
}
