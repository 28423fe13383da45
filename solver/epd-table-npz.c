/* SPDX-License-Identifier: MIT */
/* epd-table-npz.c: tables as the reference implementation's .npz.
 *
 * Arrays r, weight and optional scale_dir, scale_time, [steps][K] float64;
 * every other member is a scalar: the reference's num_steps (grid points =
 * steps + 1), num_points, schedule_type, schedule_rho, then ours so that a
 * table survives the trip exactly: solver, afs, max_order, sigma_min,
 * sigma_max, schedule_shift, schema_version. Scalar metadata members are
 * members of their own; the rest of the metadata is JSON text in
 * metadata_json. Unknown scalars read back as metadata. */
#include "epd-table-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epd-file.h"
#include "epd-json.h"
#include "epd-npy.h"
#include "epd-npy-private.h"

#define METADATA_JSON "metadata_json"

static const char * const array_names[] = { "r", "weight", "scale_dir", "scale_time" };
static const char * const scalar_names[] = {
  EPD_TABLE_REF_NUM_STEPS, EPD_TABLE_REF_NUM_POINTS, "schedule_type", "schedule_rho", "solver", "afs",
  "max_order", "sigma_min", "sigma_max", "schedule_shift", "schema_version", METADATA_JSON,
};

static double **
table_array (EpdTable *table,
             guint     i)
{
  double **fields[] = { &table->r, &table->weight, &table->scale_dir, &table->scale_time };

  return fields[i];
}

static gboolean
is_array_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (array_names); i++)
    if (g_str_equal (name, array_names[i]))
      return TRUE;
  return FALSE;
}

static gboolean
is_reserved (const char *name)
{
  if (is_array_name (name))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (scalar_names); i++)
    if (g_str_equal (name, scalar_names[i]))
      return TRUE;
  return FALSE;
}

/* ---- writing ------------------------------------------------------------ */

static void
add_scalar (GHashTable *members,
            const char *name,
            JsonNode   *value)
{
  g_hash_table_insert (members, g_strdup (name), epd_npy_serialize_scalar (value));
  json_node_unref (value);
}

static void
add_metadata (GHashTable *members,
              JsonObject *metadata)
{
  g_autoptr(JsonObject) rest = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, metadata);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (JSON_NODE_HOLDS_VALUE (member) && !is_reserved (name))
        g_hash_table_insert (members, g_strdup (name), epd_npy_serialize_scalar (member));
      else
        json_object_set_member (rest, name, epd_json_node_deep_copy (member));
    }
  if (json_object_get_size (rest) > 0)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), rest);
      g_autofree char *text = epd_json_to_data (node, FALSE, NULL);

      add_scalar (members, METADATA_JSON, json_node_init_string (json_node_alloc (), text));
    }
}

GBytes *
epd_table_to_npz_bytes (const EpdTable  *self,
                        GError         **error)
{
  g_autoptr(GHashTable) members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_bytes_unref);
  const gsize shape[2] = { self->steps, self->n_points };

  if (!epd_table_validate (self, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (array_names); i++)
    {
      const double *values = *table_array ((EpdTable *) self, i);
      g_autoptr(EpdArray) array = NULL;

      if (values == NULL)
        continue;
      array = epd_array_new (2, shape);
      memcpy (array->data, values, shape[0] * shape[1] * sizeof (double));
      g_hash_table_insert (members, g_strdup (array_names[i]), epd_npy_serialize (array));
    }
  add_scalar (members, EPD_TABLE_REF_NUM_STEPS, json_node_init_int (json_node_alloc (), self->steps + 1));
  add_scalar (members, EPD_TABLE_REF_NUM_POINTS, json_node_init_int (json_node_alloc (), self->n_points));
  add_scalar (members, "schedule_type",
              json_node_init_string (json_node_alloc (), epd_schedule_kind_to_string (self->schedule.kind)));
  add_scalar (members, "schedule_rho", json_node_init_double (json_node_alloc (), self->schedule.rho));
  add_scalar (members, "solver", json_node_init_string (json_node_alloc (), self->solver));
  add_scalar (members, "afs", json_node_init_boolean (json_node_alloc (), self->afs));
  add_scalar (members, "max_order", json_node_init_int (json_node_alloc (), self->max_order));
  add_scalar (members, "sigma_min", json_node_init_double (json_node_alloc (), self->schedule.sigma_min));
  add_scalar (members, "sigma_max", json_node_init_double (json_node_alloc (), self->schedule.sigma_max));
  add_scalar (members, "schedule_shift", json_node_init_double (json_node_alloc (), self->schedule.shift));
  add_scalar (members, "schema_version", json_node_init_int (json_node_alloc (), EPD_TABLE_SCHEMA_VERSION));
  add_metadata (members, self->metadata);
  return epd_npz_serialize (members);
}

/* ---- reading ------------------------------------------------------------ */

/* [rows][cols], allowing a 1-D array (K = 1) and trailing unit dimensions. */
static gboolean
array_matrix_shape (const EpdArray  *array,
                    const char      *name,
                    guint           *rows,
                    guint           *cols,
                    GError         **error)
{
  gboolean ok = array->ndim >= 1 && array->shape[0] <= G_MAXUINT;

  for (guint d = 2; d < array->ndim; d++)
    ok = ok && array->shape[d] == 1;
  ok = ok && (array->ndim < 2 || array->shape[1] <= G_MAXUINT);
  if (!ok)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "array '%s' must have shape (steps, points); it has %u dimensions", name, array->ndim);
      return FALSE;
    }
  *rows = (guint) array->shape[0];
  *cols = array->ndim >= 2 ? (guint) array->shape[1] : 1;
  return TRUE;
}

/* The JSON reader's bounds, checked on the header before the array is
 * converted (60,000,000 steps fit in 1.4 MB of .npz). */
static gboolean
check_shape_cap (const guint8  *data,
                 gsize          len,
                 const char    *name,
                 GError       **error)
{
  gsize shape[4];
  guint ndim;

  if (!epd_npy_peek_shape (data, len, &ndim, shape, error))
    {
      g_prefix_error (error, "member '%s': ", name);
      return FALSE;
    }
  if (ndim >= 1 && (shape[0] > EPD_TABLE_MAX_STEPS || (ndim >= 2 && shape[1] > EPD_TABLE_MAX_POINTS)))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "array '%s' has %" G_GSIZE_FORMAT " x %" G_GSIZE_FORMAT " cells; tables have at most %u steps of %u points",
                   name, shape[0], ndim >= 2 ? shape[1] : 1, EPD_TABLE_MAX_STEPS, EPD_TABLE_MAX_POINTS);
      return FALSE;
    }
  return TRUE;
}

static EpdArray *
member_array (GHashTable  *members,
              const char  *name,
              GError     **error)
{
  GBytes *bytes = g_hash_table_lookup (members, name);
  EpdArray *array;
  gsize len;
  const guint8 *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (!check_shape_cap (data, len, name, error))
    return NULL;
  array = epd_npy_parse (data, len, error);
  if (array == NULL)
    g_prefix_error (error, "member '%s': ", name);
  return array;
}

/* Reads r, weight and the optional scales into a table of their shape. */
static EpdTable *
table_from_arrays (GHashTable  *members,
                   GError     **error)
{
  g_autoptr(EpdTable) table = NULL;
  guint steps = 0, points = 0;

  for (guint i = 0; i < G_N_ELEMENTS (array_names); i++)
    {
      g_autoptr(EpdArray) array = NULL;
      guint rows, cols;

      if (!g_hash_table_contains (members, array_names[i]))
        {
          if (i >= 2)
            continue;
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "the archive has no '%s' array", array_names[i]);
          return NULL;
        }
      if (!(array = member_array (members, array_names[i], error)) ||
          !array_matrix_shape (array, array_names[i], &rows, &cols, error))
        return NULL;
      if (i == 0)
        table = epd_table_alloc ("epd", steps = rows, points = cols);
      else if (rows != steps || cols != points)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "array '%s' has shape (%u, %u), r has (%u, %u)",
                       array_names[i], rows, cols, steps, points);
          return NULL;
        }
      g_free (*table_array (table, i));
      *table_array (table, i) = g_steal_pointer (&array->data);
    }
  return g_steal_pointer (&table);
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Scalars become the table's fields and metadata, which must write back as
 * JSON: UTF-8 names and strings, finite numbers (sigma_max may be +inf,
 * which the table's JSON spells "inf"; epd_table_validate() checks it). */
static gboolean
scalar_writable (const char  *name,
                 JsonNode    *node,
                 GError     **error)
{
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: a member name that is not valid UTF-8");
      return FALSE;
    }
  if (g_str_equal (name, "sigma_max") && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return TRUE;
  if (epd_json_check_node (node, name, error))
    return TRUE;
  g_prefix_error (error, "npz member ");
  return FALSE;
}

/* Every non-array member as a JSON value, in name order. */
static JsonObject *
read_scalars (GHashTable  *members,
              GError     **error)
{
  g_autoptr(JsonObject) scalars = json_object_new ();
  g_autofree gpointer *keys = NULL;
  guint n;

  keys = g_hash_table_get_keys_as_array (members, &n);
  qsort (keys, n, sizeof *keys, compare_names);
  for (guint i = 0; i < n; i++)
    {
      GBytes *bytes = g_hash_table_lookup (members, keys[i]);
      JsonNode *node;
      gsize len;
      const guint8 *data;

      if (is_array_name (keys[i]))
        continue;
      data = g_bytes_get_data (bytes, &len);
      node = epd_npy_parse_scalar (data, len, error);
      if (node == NULL)
        {
          g_prefix_error (error, "member '%s' (only r, weight, scale_dir and scale_time may be arrays): ",
                          (const char *) keys[i]);
          return NULL;
        }
      json_object_set_member (scalars, keys[i], node);
      if (!scalar_writable (keys[i], node, error))
        return NULL;
    }
  return g_steal_pointer (&scalars);
}

static gboolean
scalar_number (JsonObject  *scalars,
               const char  *name,
               double      *out,
               GError     **error)
{
  JsonNode *node = json_object_get_member (scalars, name);
  GType type;

  if (node == NULL)
    return TRUE;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64 && type != G_TYPE_BOOLEAN)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "member '%s' must be a number", name);
      return FALSE;
    }
  *out = type == G_TYPE_BOOLEAN ? json_node_get_boolean (node) : json_node_get_double (node);
  return TRUE;
}

/* A count that, when present, must equal what the arrays say. */
static gboolean
check_count (JsonObject  *scalars,
             const char  *name,
             guint        expected,
             const char  *meaning,
             GError     **error)
{
  double value = expected;

  if (!scalar_number (scalars, name, &value, error))
    return FALSE;
  if (value != expected)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s = %g, but the arrays have %u %s",
                   name, value, expected, meaning);
      return FALSE;
    }
  return TRUE;
}

static const char *
scalar_string (JsonObject  *scalars,
               const char  *name,
               const char  *default_value,
               GError     **error)
{
  JsonNode *node = json_object_get_member (scalars, name);

  if (node == NULL)
    return default_value;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "member '%s' must be a string", name);
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
read_schedule (JsonObject   *scalars,
               JsonObject   *metadata,
               EpdSchedule  *schedule,
               GError      **error)
{
  const char *type = scalar_string (scalars, "schedule_type", "polynomial", error);
  const char *backend = json_object_has_member (metadata, "backend") &&
                        JSON_NODE_HOLDS_VALUE (json_object_get_member (metadata, "backend")) ?
                        json_object_get_string_member (metadata, "backend") : NULL;
  double rho = 7.0;

  return type != NULL &&
         scalar_number (scalars, "schedule_rho", &rho, error) &&
         epd_table_reference_schedule (type, rho, backend, schedule, error) &&
         scalar_number (scalars, "sigma_min", &schedule->sigma_min, error) &&
         scalar_number (scalars, "sigma_max", &schedule->sigma_max, error) &&
         scalar_number (scalars, "schedule_shift", &schedule->shift, error);
}

/* Unknown scalars, then the members of metadata_json, become metadata. */
static gboolean
read_metadata (JsonObject  *scalars,
               JsonObject  *metadata,
               GError     **error)
{
  const char *text = scalar_string (scalars, METADATA_JSON, "{}", error);
  g_autoptr(JsonNode) rest = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, scalars);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (!is_reserved (name))
      json_object_set_member (metadata, name, json_node_copy (member));
  if (text == NULL || !(rest = epd_json_parse (text, strlen (text), METADATA_JSON, error)))
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (rest))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "member '%s' must hold a JSON object", METADATA_JSON);
      return FALSE;
    }
  json_object_iter_init_ordered (&iter, json_node_get_object (rest));
  while (json_object_iter_next_ordered (&iter, &name, &member))
    json_object_set_member (metadata, name, epd_json_node_deep_copy (member));
  return TRUE;
}

static gboolean
read_header (JsonObject  *scalars,
             EpdTable    *table,
             GError     **error)
{
  const char *solver = scalar_string (scalars, "solver", "epd", error);
  double afs = 0.0, max_order = 4.0, version = EPD_TABLE_SCHEMA_VERSION;

  if (solver == NULL ||
      !scalar_number (scalars, "afs", &afs, error) ||
      !scalar_number (scalars, "max_order", &max_order, error) ||
      !scalar_number (scalars, "schema_version", &version, error))
    return FALSE;
  if (version > EPD_TABLE_SCHEMA_VERSION)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "schema_version %g is newer than this program's (%d)", version, EPD_TABLE_SCHEMA_VERSION);
      return FALSE;
    }
  if (max_order != floor (max_order) || max_order < 1 || max_order > 4)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "max_order %g is outside 1..4", max_order);
      return FALSE;
    }
  g_free (table->solver);
  table->solver = g_strdup (solver);
  table->afs = afs != 0.0;
  table->max_order = (guint) max_order;
  return TRUE;
}

EpdTable *
epd_table_from_npz_bytes (GBytes  *bytes,
                          GError **error)
{
  /* No member larger than a JSON table may be (64 MiB), before inflating. */
  g_autoptr(GHashTable) members = epd_npz_parse_limited (bytes, EPD_FILE_MAX_JSON, error);
  g_autoptr(EpdTable) table = NULL;
  g_autoptr(JsonObject) scalars = NULL;

  if (members == NULL ||
      !(table = table_from_arrays (members, error)) ||
      !(scalars = read_scalars (members, error)) ||
      !check_count (scalars, EPD_TABLE_REF_NUM_STEPS, table->steps + 1, "grid points (steps + 1)", error) ||
      !check_count (scalars, EPD_TABLE_REF_NUM_POINTS, table->n_points, "points per step", error) ||
      !read_header (scalars, table, error) ||
      !read_metadata (scalars, table->metadata, error) ||
      !read_schedule (scalars, table->metadata, &table->schedule, error) ||
      !epd_table_validate (table, error))
    return NULL;
  return g_steal_pointer (&table);
}
