/* SPDX-License-Identifier: MIT */
/* epd-trace.c: what a solve did, step by step, and its JSON export. */
#include "epd-trace.h"
#include "epd-file.h"

#include <gio/gio.h>

static void
trace_step_clear (gpointer data)
{
  EpdTraceStep *step = data;

  g_clear_pointer (&step->x, g_free);
  g_clear_pointer (&step->denoised, g_free);
  g_clear_pointer (&step->euler_dir, g_free);
  g_clear_pointer (&step->point_t, g_free);
  g_clear_pointer (&step->point_weight, g_free);
  g_clear_pointer (&step->point_x, g_free);
  g_clear_pointer (&step->point_dir, g_free);
}

EpdTrace *
epd_trace_new (void)
{
  EpdTrace *self = g_new0 (EpdTrace, 1);

  self->steps = g_array_new (FALSE, TRUE, sizeof (EpdTraceStep));
  g_array_set_clear_func (self->steps, trace_step_clear);
  return self;
}

void
epd_trace_free (EpdTrace *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->steps);
  g_free (self->x_final);
  g_free (self);
}

void
epd_trace_clear (EpdTrace *self)
{
  g_return_if_fail (self != NULL);
  g_array_set_size (self->steps, 0);
  g_clear_pointer (&self->x_final, g_free);
  self->batch = 0;
  self->dim = 0;
  self->flow_time = FALSE;
}

guint
epd_trace_n_steps (const EpdTrace *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->steps->len;
}

EpdTraceStep *
epd_trace_get_step (const EpdTrace *self,
                    guint           i)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (i < self->steps->len, NULL);
  return &g_array_index (self->steps, EpdTraceStep, i);
}

static double *
dup_doubles (const double *v,
             gsize         n)
{
  return v ? g_memdup2 (v, n * sizeof (double)) : NULL;
}

EpdTraceStep *
epd_trace_add_step (EpdTrace     *self,
                    gsize         batch,
                    guint         dim,
                    double        t_cur,
                    double        t_next,
                    const double *x)
{
  EpdTraceStep step = { 0 };

  g_return_val_if_fail (self != NULL, NULL);
  if (self->steps->len == 0)
    {
      self->batch = batch;
      self->dim = dim;
    }
  g_return_val_if_fail (self->batch == batch && self->dim == dim, NULL);
  step.t_cur = t_cur;
  step.t_next = t_next;
  step.x = dup_doubles (x, batch * dim);
  g_array_append_val (self->steps, step);
  return &g_array_index (self->steps, EpdTraceStep, self->steps->len - 1);
}

void
epd_trace_step_set_denoised (EpdTraceStep *step,
                             gsize         n,
                             const double *denoised,
                             const double *euler_dir)
{
  g_free (step->denoised);
  g_free (step->euler_dir);
  step->denoised = dup_doubles (denoised, n);
  step->euler_dir = dup_doubles (euler_dir, n);
}

void
epd_trace_step_set_points (EpdTraceStep *step,
                           guint         n_points,
                           gsize         n,
                           const double *point_t,
                           const double *point_weight,
                           const double *point_x,
                           const double *point_dir)
{
  g_free (step->point_t);
  g_free (step->point_weight);
  g_free (step->point_x);
  g_free (step->point_dir);
  step->n_points = n_points;
  step->point_t = dup_doubles (point_t, n_points);
  step->point_weight = dup_doubles (point_weight, n_points);
  step->point_x = dup_doubles (point_x, n_points * n);
  step->point_dir = dup_doubles (point_dir, n_points * n);
}

void
epd_trace_set_final (EpdTrace     *self,
                     const double *x)
{
  g_free (self->x_final);
  self->x_final = dup_doubles (x, self->batch * self->dim);
}

/* [batch][dim] as nested arrays, or null. */
static JsonNode *
matrix_to_json (const double *m,
                gsize         batch,
                guint         dim)
{
  JsonArray *rows;

  if (m == NULL)
    return json_node_new (JSON_NODE_NULL);
  rows = json_array_sized_new (batch);
  for (gsize b = 0; b < batch; b++)
    {
      JsonArray *row = json_array_sized_new (dim);

      for (guint j = 0; j < dim; j++)
        json_array_add_double_element (row, m[b * dim + j]);
      json_array_add_array_element (rows, row);
    }
  return json_node_init_array (json_node_alloc (), rows);
}

static JsonNode *
points_to_json (const EpdTraceStep *step,
                gsize               batch,
                guint               dim)
{
  JsonArray *points = json_array_sized_new (step->n_points);
  gsize n = batch * dim;

  for (guint k = 0; k < step->n_points; k++)
    {
      JsonObject *p = json_object_new ();

      json_object_set_double_member (p, "t", step->point_t[k]);
      json_object_set_double_member (p, "weight", step->point_weight[k]);
      json_object_set_member (p, "x", matrix_to_json (step->point_x + k * n, batch, dim));
      json_object_set_member (p, "dir", matrix_to_json (step->point_dir + k * n, batch, dim));
      json_array_add_object_element (points, p);
    }
  return json_node_init_array (json_node_alloc (), points);
}

static JsonObject *
step_to_json (const EpdTraceStep *step,
              gsize               batch,
              guint               dim)
{
  JsonObject *o = json_object_new ();

  json_object_set_double_member (o, "t_cur", step->t_cur);
  json_object_set_double_member (o, "t_next", step->t_next);
  json_object_set_member (o, "x", matrix_to_json (step->x, batch, dim));
  json_object_set_member (o, "denoised", matrix_to_json (step->denoised, batch, dim));
  json_object_set_member (o, "euler_dir", matrix_to_json (step->euler_dir, batch, dim));
  json_object_set_member (o, "points", points_to_json (step, batch, dim));
  return o;
}

JsonNode *
epd_trace_to_json (const EpdTrace *self)
{
  JsonObject *root = json_object_new ();
  JsonArray *steps = json_array_sized_new (self->steps->len);

  json_object_set_string_member (root, "format", "epd-trace");
  json_object_set_int_member (root, "version", 1);
  json_object_set_string_member (root, "time", self->flow_time ? "flow-t" : "sigma");
  json_object_set_int_member (root, "batch", self->batch);
  json_object_set_int_member (root, "dim", self->dim);
  for (guint i = 0; i < self->steps->len; i++)
    json_array_add_object_element (steps, step_to_json (epd_trace_get_step (self, i),
                                                        self->batch, self->dim));
  json_object_set_array_member (root, "steps", steps);
  json_object_set_member (root, "x_final", matrix_to_json (self->x_final, self->batch, self->dim));
  /* In flow time the solve ends on the flow-matching state, not on the data. */
  json_object_set_string_member (root, "x_final_scale", self->flow_time
                                 ? "flow-matching state (1 - t) x0 + t n at the last t: divide by (1 - t) for the data scale"
                                 : "data (at the last sigma)");
  return json_node_init_object (json_node_alloc (), root);
}

gboolean
epd_trace_save (const EpdTrace  *self,
                const char      *path,
                GError         **error)
{
  g_autoptr(JsonNode) root = epd_trace_to_json (self);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (!epd_file_write_atomic (path, text, -1, error))
    return FALSE;
  return TRUE;
}
