/* SPDX-License-Identifier: MIT */
/* epd-coef-editor.h: hand-tuning an EPD table.
 * Drag a point's position along its step's log-t axis or a weight bar (the
 * other weights renormalise, see render/plot/epd-coef-edit.h), or type values;
 * undo/redo, reset a step, overlay a second table. Emits "changed" after each
 * edit so that the window re-solves. Undo and redo are the actions
 * editor.undo and editor.redo, enabled exactly when the read-only properties
 * can-undo and can-redo are TRUE. */
#pragma once

#include <gtk/gtk.h>

#include "epd.h"

G_BEGIN_DECLS

#define EPD_TYPE_COEF_EDITOR (epd_coef_editor_get_type ())
G_DECLARE_FINAL_TYPE (EpdCoefEditor, epd_coef_editor, EPD, COEF_EDITOR, GtkWidget)

GtkWidget      *epd_coef_editor_new          (void);
/* Copies table. undoable: the replaced table goes on the undo stack. */
void            epd_coef_editor_set_table    (EpdCoefEditor  *self,
                                              const EpdTable *table,
                                              gboolean        undoable);
const EpdTable *epd_coef_editor_get_table    (EpdCoefEditor  *self);
/* The grid times for the t labels (copied; steps + 1 values) or NULL. */
void            epd_coef_editor_set_grid     (EpdCoefEditor  *self,
                                              const double   *grid,
                                              guint           n);
/* Copies overlay (NULL removes it). */
void            epd_coef_editor_set_overlay  (EpdCoefEditor  *self,
                                              const EpdTable *overlay,
                                              const char     *title);
void            epd_coef_editor_undo         (EpdCoefEditor  *self);
void            epd_coef_editor_redo         (EpdCoefEditor  *self);
void            epd_coef_editor_reset_step   (EpdCoefEditor  *self);
/* Sets weight k of a step as a drag would (for the smoke test and scripting). */
void            epd_coef_editor_edit_weight  (EpdCoefEditor  *self,
                                              guint           step,
                                              guint           k,
                                              double          value);
void            epd_coef_editor_draw         (EpdCoefEditor  *self,
                                              cairo_t        *cr,
                                              double          width,
                                              double          height);

G_END_DECLS
