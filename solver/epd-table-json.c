/* SPDX-License-Identifier: MIT */
/* epd-table-json.c: tables as JSON, in our schema and the reference's form.
 *
 * Ours (schema_version 1):
 *   { "schema_version": 1, "solver": "epd", "steps": N, "grid_points": N + 1,
 *     "n_points": K, "schedule": { "kind": "polynomial", "sigma_min": 0.002,
 *     "sigma_max": 80, "rho": 7, "shift": 1 }, "afs": false, "max_order": 4,
 *     "r": [[...K] ...N], "weight": [[...K] ...N], "scale_dir": [[...]] (optional),
 *     "scale_time": [[...]] (optional), "metadata": { provenance... } }
 *   An infinite sigma_max (flow matching starts at t = 1) is written "inf".
 * The reference's: num_steps (grid points), num_points, schedule_type,
 *   schedule_rho, afs, r, weight, optional scale_dir, scale_time; every other
 *   member is metadata. */
#include "epd-table-private.h"

#include <math.h>
#include <string.h>

#include "epd-json.h"

#define MAX_STEPS  EPD_TABLE_MAX_STEPS
#define MAX_POINTS EPD_TABLE_MAX_POINTS

static const char * const matrix_fields[] = { "r", "weight", "scale_dir", "scale_time" };

static double **
table_matrix (EpdTable *table,
              guint     field)
{
  double **fields[] = { &table->r, &table->weight, &table->scale_dir, &table->scale_time };

  return fields[field];
}

/* ---- writing ------------------------------------------------------------ */

static JsonNode *
double_node (double value)
{
  if (isinf (value))
    return json_node_init_string (json_node_alloc (), value > 0 ? "inf" : "-inf");
  return json_node_init_double (json_node_alloc (), value);
}

static JsonArray *
matrix_to_array (const double *values,
                 guint         rows,
                 guint         cols)
{
  JsonArray *array = json_array_sized_new (rows);

  for (guint s = 0; s < rows; s++)
    {
      JsonArray *row = json_array_sized_new (cols);

      for (guint k = 0; k < cols; k++)
        json_array_add_double_element (row, values[(gsize) s * cols + k]);
      json_array_add_array_element (array, row);
    }
  return array;
}

static JsonObject *
schedule_to_object (const EpdSchedule *schedule)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "kind", epd_schedule_kind_to_string (schedule->kind));
  json_object_set_member (object, "sigma_min", double_node (schedule->sigma_min));
  json_object_set_member (object, "sigma_max", double_node (schedule->sigma_max));
  json_object_set_member (object, "rho", double_node (schedule->rho));
  json_object_set_member (object, "shift", double_node (schedule->shift));
  return object;
}

JsonNode *
epd_table_to_json (const EpdTable *self)
{
  JsonObject *object = json_object_new ();
  JsonNode *root;

  json_object_set_int_member (object, "schema_version", EPD_TABLE_SCHEMA_VERSION);
  json_object_set_string_member (object, "solver", self->solver);
  json_object_set_int_member (object, "steps", self->steps);
  json_object_set_int_member (object, "grid_points", self->steps + 1);
  json_object_set_int_member (object, "n_points", self->n_points);
  json_object_set_object_member (object, "schedule", schedule_to_object (&self->schedule));
  json_object_set_boolean_member (object, "afs", self->afs);
  json_object_set_int_member (object, "max_order", self->max_order);
  for (guint f = 0; f < G_N_ELEMENTS (matrix_fields); f++)
    {
      const double *values = *table_matrix ((EpdTable *) self, f);

      if (values != NULL)
        json_object_set_array_member (object, matrix_fields[f],
                                      matrix_to_array (values, self->steps, self->n_points));
    }
  json_object_set_object_member (object, "metadata", epd_json_object_deep_copy (self->metadata));
  root = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
  return root;
}

/* ---- reading ------------------------------------------------------------ */

static gboolean
node_to_double (JsonNode *node,
                double   *out)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64)
    *out = json_node_get_double (node);
  else if (type == G_TYPE_STRING && g_str_equal (json_node_get_string (node), "inf"))
    *out = INFINITY;
  else
    return FALSE;
  return TRUE;
}

/* An optional member of a number type; absent leaves *out as is. */
static gboolean
get_double (JsonObject  *object,
            const char  *field,
            double      *out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, field);

  if (node == NULL)
    return TRUE;
  if (node_to_double (node, out))
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' must be a number", field);
  return FALSE;
}

/* An integer member in [min, max]; absent gives default_value, or an error
 * when default_value is G_MAXUINT (required). */
static gboolean
get_uint (JsonObject  *object,
          const char  *field,
          guint        min,
          guint        max,
          guint        default_value,
          guint       *out,
          GError     **error)
{
  JsonNode *node = json_object_get_member (object, field);
  double value;

  if (node == NULL && default_value != G_MAXUINT)
    {
      *out = default_value;
      return TRUE;
    }
  if (node == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' is missing", field);
      return FALSE;
    }
  if (!node_to_double (node, &value) || value != floor (value))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' must be an integer", field);
      return FALSE;
    }
  if (value < min || value > max)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "field '%s' = %g is outside %u..%u", field, value, min, max);
      return FALSE;
    }
  *out = (guint) value;
  return TRUE;
}

static gboolean
get_bool (JsonObject  *object,
          const char  *field,
          gboolean    *out,
          GError     **error)
{
  JsonNode *node = json_object_get_member (object, field);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' must be true or false", field);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

/* A string member; absent gives default_value (NULL: required). */
static const char *
get_string (JsonObject  *object,
            const char  *field,
            const char  *default_value,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, field);

  if (node == NULL && default_value != NULL)
    return default_value;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' %s", field,
                   node == NULL ? "is missing" : "must be a string");
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
read_row (JsonNode     *node,
          const char   *field,
          guint         s,
          guint         cols,
          double       *out,
          GError      **error)
{
  JsonArray *row;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s[%u] must be an array of numbers", field, s);
      return FALSE;
    }
  row = json_node_get_array (node);
  if (json_array_get_length (row) != cols)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s[%u] has %u values, expected %u (one per point)",
                   field, s, json_array_get_length (row), cols);
      return FALSE;
    }
  for (guint k = 0; k < cols; k++)
    {
      JsonNode *v = json_array_get_element (row, k);

      if (!JSON_NODE_HOLDS_VALUE (v) ||
          (json_node_get_value_type (v) != G_TYPE_DOUBLE && json_node_get_value_type (v) != G_TYPE_INT64))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s[%u][%u] is not a number", field, s, k);
          return FALSE;
        }
      out[k] = json_node_get_double (v);
    }
  return TRUE;
}

/* One [steps][K] field into the table; optional fields may be absent or null. */
static gboolean
read_matrix (JsonObject  *object,
             EpdTable    *table,
             guint        field,
             GError     **error)
{
  const char *name = matrix_fields[field];
  JsonNode *node = json_object_get_member (object, name);
  g_autofree double *values = NULL;
  JsonArray *rows;

  if (field >= 2 && (node == NULL || JSON_NODE_HOLDS_NULL (node)))
    return TRUE;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field '%s' %s", name,
                   node == NULL ? "is missing" : "must be an array of rows");
      return FALSE;
    }
  rows = json_node_get_array (node);
  if (json_array_get_length (rows) != table->steps)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "field '%s' has %u rows, expected %u (one per step)",
                   name, json_array_get_length (rows), table->steps);
      return FALSE;
    }
  values = g_new (double, (gsize) table->steps * table->n_points);
  for (guint s = 0; s < table->steps; s++)
    if (!read_row (json_array_get_element (rows, s), name, s, table->n_points,
                   values + (gsize) s * table->n_points, error))
      return FALSE;
  g_free (*table_matrix (table, field));
  *table_matrix (table, field) = g_steal_pointer (&values);
  return TRUE;
}

static gboolean
read_matrices (JsonObject  *object,
               EpdTable    *table,
               GError     **error)
{
  for (guint f = 0; f < G_N_ELEMENTS (matrix_fields); f++)
    if (!read_matrix (object, table, f, error))
      return FALSE;
  return TRUE;
}

static gboolean
read_schedule (JsonObject   *object,
               EpdSchedule  *schedule,
               GError      **error)
{
  JsonNode *node = json_object_get_member (object, "schedule");
  JsonObject *sched;
  const char *kind_name;
  EpdScheduleKind kind;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field 'schedule' %s",
                   node == NULL ? "is missing" : "must be an object");
      return FALSE;
    }
  sched = json_node_get_object (node);
  if (!(kind_name = get_string (sched, "kind", NULL, error)) ||
      !epd_schedule_kind_from_string (kind_name, &kind, error))
    {
      g_prefix_error (error, "schedule: ");
      return FALSE;
    }
  epd_schedule_init (schedule, kind);
  if (!get_double (sched, "sigma_min", &schedule->sigma_min, error) ||
      !get_double (sched, "sigma_max", &schedule->sigma_max, error) ||
      !get_double (sched, "rho", &schedule->rho, error) ||
      !get_double (sched, "shift", &schedule->shift, error))
    {
      g_prefix_error (error, "schedule: ");
      return FALSE;
    }
  return TRUE;
}

static EpdTable *
table_from_ours (JsonObject  *object,
                 GError     **error)
{
  g_autoptr(EpdTable) table = NULL;
  guint version, steps, n_points, grid_points, max_order;
  const char *solver;
  JsonNode *metadata;

  if (!get_uint (object, "schema_version", 1, G_MAXINT, G_MAXUINT, &version, error))
    return NULL;
  if (version > EPD_TABLE_SCHEMA_VERSION)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "schema_version %u is newer than this program's (%d)", version, EPD_TABLE_SCHEMA_VERSION);
      return NULL;
    }
  if (!(solver = get_string (object, "solver", NULL, error)) ||
      !get_uint (object, "steps", 1, MAX_STEPS, G_MAXUINT, &steps, error) ||
      !get_uint (object, "n_points", 1, MAX_POINTS, G_MAXUINT, &n_points, error) ||
      !get_uint (object, "grid_points", 2, MAX_STEPS + 1, steps + 1, &grid_points, error) ||
      !get_uint (object, "max_order", 1, 4, 4, &max_order, error))
    return NULL;
  if (grid_points != steps + 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "grid_points = %u does not match steps = %u (grid_points = steps + 1)", grid_points, steps);
      return NULL;
    }
  table = epd_table_alloc (solver, steps, n_points);
  table->max_order = max_order;
  if (!read_schedule (object, &table->schedule, error) ||
      !get_bool (object, "afs", &table->afs, error) ||
      !read_matrices (object, table, error))
    return NULL;
  metadata = json_object_get_member (object, "metadata");
  if (metadata != NULL && !JSON_NODE_HOLDS_NULL (metadata))
    {
      if (!JSON_NODE_HOLDS_OBJECT (metadata))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "field 'metadata' must be an object");
          return NULL;
        }
      json_object_unref (table->metadata);
      table->metadata = epd_json_object_deep_copy (json_node_get_object (metadata));
    }
  return g_steal_pointer (&table);
}

static gboolean
is_reference_field (const char *name)
{
  const char * const known[] = {
    EPD_TABLE_REF_NUM_STEPS, EPD_TABLE_REF_NUM_POINTS, "schedule_type", "schedule_rho", "afs",
    "r", "weight", "scale_dir", "scale_time",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (name, known[i]))
      return TRUE;
  return FALSE;
}

static EpdTable *
table_from_reference (JsonObject  *object,
                      GError     **error)
{
  g_autoptr(EpdTable) table = NULL;
  guint num_steps, n_points;
  double rho = 7.0;
  const char *type;
  JsonNode *backend = json_object_get_member (object, "backend");
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (!get_uint (object, EPD_TABLE_REF_NUM_STEPS, 2, MAX_STEPS + 1, G_MAXUINT, &num_steps, error) ||
      !get_uint (object, EPD_TABLE_REF_NUM_POINTS, 1, MAX_POINTS, G_MAXUINT, &n_points, error) ||
      !(type = get_string (object, "schedule_type", "polynomial", error)) ||
      !get_double (object, "schedule_rho", &rho, error))
    return NULL;
  /* The reference counts grid points; we count steps. */
  table = epd_table_alloc ("epd", num_steps - 1, n_points);
  if (!epd_table_reference_schedule (type, rho,
                                     backend && JSON_NODE_HOLDS_VALUE (backend) ? json_node_get_string (backend) : NULL,
                                     &table->schedule, error) ||
      !get_bool (object, "afs", &table->afs, error) ||
      !read_matrices (object, table, error))
    return NULL;
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (!is_reference_field (name))
      json_object_set_member (table->metadata, name, epd_json_node_deep_copy (member));
  return g_steal_pointer (&table);
}

EpdTable *
epd_table_from_json (JsonNode  *node,
                     GError   **error)
{
  JsonObject *object;
  EpdTable *table;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "a table must be a JSON object");
      return NULL;
    }
  object = json_node_get_object (node);
  if (json_object_has_member (object, "schema_version"))
    table = table_from_ours (object, error);
  else if (json_object_has_member (object, EPD_TABLE_REF_NUM_STEPS))
    table = table_from_reference (object, error);
  else
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "not a coefficient table: neither 'schema_version' (ours) nor 'num_steps' (the reference's) is present");
      return NULL;
    }
  if (table != NULL && !epd_table_validate (table, error))
    g_clear_pointer (&table, epd_table_free);
  return table;
}
