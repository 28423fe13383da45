/* SPDX-License-Identifier: MIT */
/* epd-rdpo-checkpoint.c: RDPO checkpoints -- parameters, AdamW moments, step
 * (which with the seed is the whole RNG state), elapsed time and the best
 * table, as JSON written atomically and checked before anything is loaded. */
#include "epd-rdpo-private.h"

#include <math.h>
#include <string.h>

#include "epd-json.h"
#include "epd-file.h"

#define CHECKPOINT_FORMAT "epd-rdpo-checkpoint"
#define CHECKPOINT_VERSION 1

static void
add_array (JsonBuilder  *b,
           const char   *name,
           const double *v,
           gsize         n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (gsize i = 0; i < n; i++)
    json_builder_add_double_value (b, v[i]);
  json_builder_end_array (b);
}

static void
add_int (JsonBuilder *b,
         const char  *name,
         gint64       v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_double (JsonBuilder *b,
            const char  *name,
            double       v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

/* The options a resumed run must share to repeat the original exactly. */
static void
add_shape (EpdRdpo     *self,
           JsonBuilder *b)
{
  const EpdRdpoOptions *o = &self->options;

  json_builder_set_member_name (b, "shape");
  json_builder_begin_object (b);
  add_int (b, "seed", o->seed);
  add_int (b, "group", o->group);
  add_int (b, "batch", o->batch);
  add_int (b, "latents", o->latents);
  add_int (b, "epochs", o->epochs);
  add_int (b, "residual", o->policy.residual);
  add_int (b, "unconstrained", o->policy.unconstrained);
  add_int (b, "mlp_hidden", o->policy.mlp_hidden);
  add_int (b, "mlp_seed", o->policy.mlp_seed);
  add_int (b, "n_params", epd_policy_n_params (self->policy));
  add_double (b, "concentration", o->policy.concentration);
  json_builder_end_object (b);
}

static JsonNode *
checkpoint_to_json (EpdRdpo *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const EpdTable *start = epd_policy_get_start (self->policy);
  gsize cells = (gsize) start->steps * start->n_points;
  guint n = epd_policy_n_params (self->policy);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, CHECKPOINT_FORMAT);
  add_int (b, "version", CHECKPOINT_VERSION);
  /* The RNG state: iteration i draws from a GRand seeded with (seed, i). */
  add_int (b, "step", self->step);
  add_double (b, "elapsed_sec", self->elapsed);
  add_shape (self, b);
  add_array (b, "start_r", start->r, cells);
  add_array (b, "start_weight", start->weight, cells);
  if (start->scale_dir != NULL)
    add_array (b, "start_scale_dir", start->scale_dir, cells);
  if (start->scale_time != NULL)
    add_array (b, "start_scale_time", start->scale_time, cells);
  add_array (b, "params", epd_policy_get_params (self->policy), n);
  add_int (b, "adam_t", (gint64) self->adam_t);
  add_array (b, "adam_m", self->adam_m, n);
  add_array (b, "adam_v", self->adam_v, n);
  if (self->best != NULL)
    {
      json_builder_set_member_name (b, "best");
      json_builder_begin_object (b);
      add_int (b, "step", self->best_step);
      add_double (b, "reward_val", self->best_reward);
      if (isfinite (self->coverage_floor))
        add_double (b, "coverage_floor", self->coverage_floor);
      add_array (b, "r", self->best->r, cells);
      add_array (b, "weight", self->best->weight, cells);
      if (self->best->scale_dir != NULL)
        add_array (b, "scale_dir", self->best->scale_dir, cells);
      if (self->best->scale_time != NULL)
        add_array (b, "scale_time", self->best->scale_time, cells);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
epd_rdpo_save_checkpoint (EpdRdpo    *self,
                          const char *path,
                          GError    **error)
{
  g_autoptr(JsonNode) root = checkpoint_to_json (self);

  /* The one writer that round-trips doubles ("1e+17", not "1e+17.0"). */
  if (!epd_json_save (root, path, error))
    {
      g_prefix_error (error, "writing RDPO checkpoint %s: ", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
bad_checkpoint (GError    **error,
                const char *path,
                const char *field,
                const char *why)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "RDPO checkpoint %s: field \"%s\" %s", path, field, why);
  return FALSE;
}

/* A number member: an int or double JSON value (never a critical on other types). */
static gboolean
is_number (JsonNode *node)
{
  GType type = node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
read_number (JsonObject *o,
             const char *name,
             const char *path,
             double     *out,
             GError    **error)
{
  JsonNode *node = json_object_get_member (o, name);

  if (!is_number (node))
    return bad_checkpoint (error, path, name, "is missing or not a number");
  *out = json_node_get_double (node);
  return TRUE;
}

/* A whole number in [0, max]: anything else would be cast to a count
 * with undefined behaviour. */
static gboolean
read_count (JsonObject *o,
            const char *name,
            const char *path,
            double      max,
            double     *out,
            GError    **error)
{
  if (!read_number (o, name, path, out, error))
    return FALSE;
  if (!(*out >= 0 && *out <= max && *out == floor (*out)))
    return bad_checkpoint (error, path, name, "is not a whole number in range");
  return TRUE;
}

static gboolean
read_array (JsonObject *o,
            const char *name,
            const char *path,
            double     *out,
            gsize       n,
            GError    **error)
{
  JsonNode *node = json_object_get_member (o, name);
  JsonArray *a;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_ARRAY)
    return bad_checkpoint (error, path, name, "is missing or not an array");
  a = json_node_get_array (node);
  if (json_array_get_length (a) != n)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "RDPO checkpoint %s: \"%s\" has %u values, expected %"
                   G_GSIZE_FORMAT, path, name, json_array_get_length (a), n);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i);

      if (!is_number (e))
        return bad_checkpoint (error, path, name, "holds a value that is not a number");
      out[i] = json_node_get_double (e);
      if (!isfinite (out[i]))
        return bad_checkpoint (error, path, name, "holds a value that is not finite");
    }
  return TRUE;
}

static gboolean
check_shape (EpdRdpo    *self,
             JsonObject *shape,
             const char *path,
             GError    **error)
{
  const EpdRdpoOptions *o = &self->options;
  const struct { const char *name; double value; } want[] = {
    { "seed", o->seed }, { "group", o->group }, { "batch", o->batch },
    { "latents", o->latents }, { "epochs", o->epochs }, { "residual", o->policy.residual },
    { "unconstrained", o->policy.unconstrained }, { "mlp_hidden", o->policy.mlp_hidden },
    { "mlp_seed", o->policy.mlp_seed }, { "n_params", epd_policy_n_params (self->policy) },
    { "concentration", o->policy.concentration },
  };

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      double v;

      if (!read_number (shape, want[i].name, path, &v, error))
        return FALSE;
      if (v != want[i].value)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "RDPO checkpoint %s was made with %s = %g, this run has %g",
                       path, want[i].name, v, want[i].value);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads name into a fresh array and compares it with expected (NULL: absent). */
static gboolean
same_column (JsonObject   *root,
             const char   *name,
             const char   *path,
             const double *expected,
             gsize         cells,
             gboolean     *same,
             GError      **error)
{
  g_autofree double *v = g_new (double, cells);

  if (expected == NULL)
    {
      *same = !json_object_has_member (root, name);
      return TRUE;
    }
  if (!read_array (root, name, path, v, cells, error))
    return FALSE;
  *same = memcmp (v, expected, cells * sizeof (double)) == 0;
  return TRUE;
}

static gboolean
check_start (EpdRdpo    *self,
             JsonObject *root,
             const char *path,
             GError    **error)
{
  const EpdTable *start = epd_policy_get_start (self->policy);
  gsize cells = (gsize) start->steps * start->n_points;
  const char *names[] = { "start_r", "start_weight", "start_scale_dir", "start_scale_time" };
  const double *columns[] = { start->r, start->weight, start->scale_dir, start->scale_time };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gboolean same;

      if (!same_column (root, names[i], path, columns[i], cells, &same, error))
        return FALSE;
      if (!same)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "RDPO checkpoint %s was made from a different start table (%s differs)",
                       path, names[i] + strlen ("start_"));
          return FALSE;
        }
    }
  return TRUE;
}

/* The member name if it is an object, else NULL (never a critical). */
static JsonObject *
object_member (JsonObject *o,
               const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
load_best (EpdRdpo    *self,
           JsonObject *root,
           const char *path,
           EpdTable  **best_out,
           double     *step,
           double     *reward,
           double     *floor,
           GError    **error)
{
  const EpdTable *start = epd_policy_get_start (self->policy);
  gsize cells = (gsize) start->steps * start->n_points;
  g_autoptr(EpdTable) best = NULL;
  JsonObject *o;

  *best_out = NULL;
  if (!json_object_has_member (root, "best"))
    return TRUE;
  o = object_member (root, "best");
  if (o == NULL)
    return bad_checkpoint (error, path, "best", "is not an object");
  best = epd_table_copy (start);
  if (!read_count (o, "step", path, G_MAXUINT, step, error)
      || !read_number (o, "reward_val", path, reward, error)
      || !read_array (o, "r", path, best->r, cells, error)
      || !read_array (o, "weight", path, best->weight, cells, error)
      || (best->scale_dir != NULL && !read_array (o, "scale_dir", path, best->scale_dir, cells, error))
      || (best->scale_time != NULL && !read_array (o, "scale_time", path, best->scale_time, cells, error))
      || !epd_table_validate (best, error))
    return FALSE;
  *floor = NAN;
  if (json_object_has_member (o, "coverage_floor") && !read_number (o, "coverage_floor", path, floor, error))
    return FALSE;
  *best_out = g_steal_pointer (&best);
  return TRUE;
}

static gboolean
load_state (EpdRdpo    *self,
            JsonObject *root,
            const char *path,
            GError    **error)
{
  guint n = epd_policy_n_params (self->policy);
  g_autofree double *params = g_new (double, n);
  g_autofree double *m = g_new (double, n);
  g_autofree double *v = g_new (double, n);
  double step, adam_t, elapsed;

  /* adam_t: exact in a double up to 2^53. */
  if (!read_count (root, "step", path, G_MAXUINT, &step, error)
      || !read_count (root, "adam_t", path, 9007199254740992.0, &adam_t, error)
      || !read_number (root, "elapsed_sec", path, &elapsed, error)
      || !read_array (root, "params", path, params, n, error)
      || !read_array (root, "adam_m", path, m, n, error)
      || !read_array (root, "adam_v", path, v, n, error))
    return FALSE;
  memcpy (epd_policy_get_params (self->policy), params, n * sizeof (double));
  memcpy (self->adam_m, m, n * sizeof (double));
  memcpy (self->adam_v, v, n * sizeof (double));
  self->step = (guint) step;
  self->adam_t = (guint64) adam_t;
  self->elapsed = elapsed;
  return TRUE;
}

gboolean
epd_rdpo_load_checkpoint (EpdRdpo    *self,
                          const char *path,
                          GError    **error)
{
  g_autoptr(JsonNode) document = epd_json_load (path, error);
  g_autoptr(EpdTable) best = NULL;
  double best_step = 0.0, best_reward = -INFINITY, coverage_floor = NAN, version;
  JsonNode *node = document;
  JsonObject *root;
  JsonObject *shape;

  if (document == NULL)
    {
      g_prefix_error (error, "reading RDPO checkpoint: ");
      return FALSE;
    }
  root = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  node = root != NULL ? json_object_get_member (root, "format") : NULL;
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING
      || g_strcmp0 (json_node_get_string (node), CHECKPOINT_FORMAT) != 0)
    return bad_checkpoint (error, path, "format", "is not \"" CHECKPOINT_FORMAT "\"");
  if (!read_number (root, "version", path, &version, error))
    return FALSE;
  if (version != CHECKPOINT_VERSION)
    return bad_checkpoint (error, path, "version", "is not a version this build reads (1)");
  shape = object_member (root, "shape");
  if (shape == NULL)
    return bad_checkpoint (error, path, "shape", "is missing");
  /* Check everything before changing anything. */
  if (!check_shape (self, shape, path, error) || !check_start (self, root, path, error)
      || !load_best (self, root, path, &best, &best_step, &best_reward, &coverage_floor, error)
      || !load_state (self, root, path, error))
    return FALSE;
  g_clear_pointer (&self->best, epd_table_free);
  self->best = g_steal_pointer (&best);
  self->best_step = (guint) best_step;
  self->best_reward = best_reward;
  self->coverage_floor = coverage_floor;
  return TRUE;
}
