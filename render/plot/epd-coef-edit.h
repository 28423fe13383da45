/* SPDX-License-Identifier: MIT */
/* epd-coef-edit.h: the coefficient editor's math, free of GTK.
 *
 * Weights: dragging weight k to a value v clamps v to [0, 1] and scales the
 * other weights of the step by (1 - v) / (their sum), so the row stays on the
 * simplex and keeps its proportions; when the others are all zero they share
 * 1 - v equally. With K = 1 the weight is 1 and cannot move.
 *
 * Positions: r_k is clamped to [EPD_COEF_R_MIN, 1 - EPD_COEF_R_MIN], strictly
 * inside (0, 1) as tables require. Points are NOT kept ordered: the step's
 * update sum_k w_k d_k does not depend on the order of the points, so a point
 * may be dragged past another (each keeps its own weight) rather than stop at it.
 *
 * History: whole-table snapshots (tables are tiny), pushed before each edit;
 * a drag pushes the table it started from once, when it ends having changed it. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

#define EPD_COEF_R_MIN 1e-3

void      epd_coef_set_weight       (double         *weights,
                                     guint           n_points,
                                     guint           k,
                                     double          value);
double    epd_coef_clamp_position   (double          r);

void      epd_table_edit_weight     (EpdTable       *table,
                                     guint           step,
                                     guint           k,
                                     double          value);
void      epd_table_edit_position   (EpdTable       *table,
                                     guint           step,
                                     guint           k,
                                     double          r);
/* Restores a step from reference (same shape), or to the uniform row when
 * reference is NULL or of another shape. Scales are reset to 1 with it. */
void      epd_table_reset_step      (EpdTable       *table,
                                     guint           step,
                                     const EpdTable *reference);

typedef struct _EpdCoefHistory EpdCoefHistory;

/* limit: how many undo steps to keep (oldest dropped first). */
EpdCoefHistory *epd_coef_history_new      (guint           limit);
void            epd_coef_history_free     (EpdCoefHistory *self);
void            epd_coef_history_clear    (EpdCoefHistory *self);
/* Records the table as it was before an edit; forgets the redo branch. */
void            epd_coef_history_push     (EpdCoefHistory *self,
                                           const EpdTable *before);
gboolean        epd_coef_history_can_undo (EpdCoefHistory *self);
gboolean        epd_coef_history_can_redo (EpdCoefHistory *self);
/* The table to show after undo (new), or NULL; current goes to the redo stack. */
EpdTable       *epd_coef_history_undo     (EpdCoefHistory *self,
                                           const EpdTable *current);
EpdTable       *epd_coef_history_redo     (EpdCoefHistory *self,
                                           const EpdTable *current);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdCoefHistory, epd_coef_history_free)

G_END_DECLS
