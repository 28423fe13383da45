/* SPDX-License-Identifier: MIT */
/* epd-coef-edit.c: simplex-preserving weight drags, position clamps, undo/redo. */
#include "epd-coef-edit.h"

#include <string.h>

void
epd_coef_set_weight (double *weights,
                     guint   n_points,
                     guint   k,
                     double  value)
{
  double others = 0;

  g_return_if_fail (k < n_points);
  if (n_points == 1)
    {
      weights[0] = 1;
      return;
    }
  value = CLAMP (value, 0, 1);
  for (guint j = 0; j < n_points; j++)
    if (j != k)
      others += MAX (weights[j], 0);
  for (guint j = 0; j < n_points; j++)
    {
      if (j == k)
        weights[j] = value;
      else if (others > 1e-12)
        weights[j] = MAX (weights[j], 0) * (1 - value) / others;
      else
        weights[j] = (1 - value) / (n_points - 1);
    }
}

double
epd_coef_clamp_position (double r)
{
  if (r != r)
    return 0.5;
  return CLAMP (r, EPD_COEF_R_MIN, 1 - EPD_COEF_R_MIN);
}

void
epd_table_edit_weight (EpdTable *table,
                       guint     step,
                       guint     k,
                       double    value)
{
  g_return_if_fail (step < table->steps && k < table->n_points);
  epd_coef_set_weight (table->weight + step * table->n_points, table->n_points, k, value);
}

void
epd_table_edit_position (EpdTable *table,
                         guint     step,
                         guint     k,
                         double    r)
{
  g_return_if_fail (step < table->steps && k < table->n_points);
  table->r[step * table->n_points + k] = epd_coef_clamp_position (r);
}

static void
copy_row (double       *to,
          const double *from,
          guint         step,
          guint         n_points)
{
  if (to == NULL)
    return;
  for (guint k = 0; k < n_points; k++)
    to[step * n_points + k] = from != NULL ? from[step * n_points + k] : 1.0;
}

void
epd_table_reset_step (EpdTable       *table,
                      guint           step,
                      const EpdTable *reference)
{
  g_autoptr(EpdTable) uniform = NULL;

  g_return_if_fail (step < table->steps);
  if (reference == NULL || reference->steps != table->steps ||
      reference->n_points != table->n_points)
    reference = uniform = epd_table_new (table->solver, table->steps, table->n_points);
  copy_row (table->r, reference->r, step, table->n_points);
  copy_row (table->weight, reference->weight, step, table->n_points);
  copy_row (table->scale_dir, reference->scale_dir, step, table->n_points);
  copy_row (table->scale_time, reference->scale_time, step, table->n_points);
}

struct _EpdCoefHistory
{
  guint  limit;
  GQueue undo;   /* EpdTable, newest at the head */
  GQueue redo;
};

EpdCoefHistory *
epd_coef_history_new (guint limit)
{
  EpdCoefHistory *self = g_new0 (EpdCoefHistory, 1);

  self->limit = MAX (limit, 1);
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);
  return self;
}

void
epd_coef_history_clear (EpdCoefHistory *self)
{
  g_queue_clear_full (&self->undo, (GDestroyNotify) epd_table_free);
  g_queue_clear_full (&self->redo, (GDestroyNotify) epd_table_free);
}

void
epd_coef_history_free (EpdCoefHistory *self)
{
  if (self == NULL)
    return;
  epd_coef_history_clear (self);
  g_free (self);
}

void
epd_coef_history_push (EpdCoefHistory *self,
                       const EpdTable *before)
{
  g_queue_push_head (&self->undo, epd_table_copy (before));
  while (self->undo.length > self->limit)
    epd_table_free (g_queue_pop_tail (&self->undo));
  g_queue_clear_full (&self->redo, (GDestroyNotify) epd_table_free);
}

gboolean
epd_coef_history_can_undo (EpdCoefHistory *self)
{
  return !g_queue_is_empty (&self->undo);
}

gboolean
epd_coef_history_can_redo (EpdCoefHistory *self)
{
  return !g_queue_is_empty (&self->redo);
}

EpdTable *
epd_coef_history_undo (EpdCoefHistory *self,
                       const EpdTable *current)
{
  if (g_queue_is_empty (&self->undo))
    return NULL;
  g_queue_push_head (&self->redo, epd_table_copy (current));
  return g_queue_pop_head (&self->undo);
}

EpdTable *
epd_coef_history_redo (EpdCoefHistory *self,
                       const EpdTable *current)
{
  if (g_queue_is_empty (&self->redo))
    return NULL;
  g_queue_push_head (&self->undo, epd_table_copy (current));
  return g_queue_pop_head (&self->redo);
}
