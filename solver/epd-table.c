/* SPDX-License-Identifier: MIT */
/* epd-table.c: EPD coefficient tables: construction, validation, equality,
 * loading (by content, or by extension where the content cannot tell) and
 * saving by extension. The formats are in epd-table-json.c and
 * epd-table-npz.c. */
#include "epd-table-private.h"

#include <math.h>
#include <string.h>

#include "epd-file.h"
#include "epd-json.h"
#include "epd-npy.h"

#define SIMPLEX_TOLERANCE 1e-6

EpdTable *
epd_table_alloc (const char *solver,
                 guint       steps,
                 guint       n_points)
{
  EpdTable *self = g_new0 (EpdTable, 1);
  gsize n = (gsize) steps * n_points;

  self->solver = g_strdup (solver);
  self->steps = steps;
  self->n_points = n_points;
  epd_schedule_init (&self->schedule, EPD_SCHEDULE_POLYNOMIAL);
  self->max_order = 4;
  self->r = g_new0 (double, MAX (n, 1));
  self->weight = g_new0 (double, MAX (n, 1));
  self->metadata = json_object_new ();
  return self;
}

EpdTable *
epd_table_new (const char *solver,
               guint       steps,
               guint       n_points)
{
  EpdTable *self;

  g_return_val_if_fail (solver != NULL && n_points > 0, NULL);
  self = epd_table_alloc (solver, steps, n_points);
  for (guint s = 0; s < steps; s++)
    for (guint k = 0; k < n_points; k++)
      {
        self->r[s * n_points + k] = (k + 1.0) / (n_points + 1.0);
        self->weight[s * n_points + k] = 1.0 / n_points;
      }
  return self;
}

static double *
dup_values (const double *values,
            gsize         n)
{
  return values ? g_memdup2 (values, MAX (n, 1) * sizeof (double)) : NULL;
}

static gpointer
table_boxed_copy (gpointer table)
{
  return epd_table_copy (table);
}

G_DEFINE_BOXED_TYPE (EpdTable, epd_table, table_boxed_copy, epd_table_free)

/* Everything but the metadata, which the caller sets. */
static EpdTable *
copy_values (const EpdTable *self)
{
  EpdTable *copy;
  gsize n = (gsize) self->steps * self->n_points;

  copy = g_new0 (EpdTable, 1);
  *copy = *self;
  copy->solver = g_strdup (self->solver);
  copy->r = dup_values (self->r, n);
  copy->weight = dup_values (self->weight, n);
  copy->scale_dir = dup_values (self->scale_dir, n);
  copy->scale_time = dup_values (self->scale_time, n);
  return copy;
}

EpdTable *
epd_table_copy (const EpdTable *self)
{
  EpdTable *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = copy_values (self);
  copy->metadata = epd_json_object_deep_copy (self->metadata);
  return copy;
}

EpdTable *
epd_table_copy_bare (const EpdTable *self)
{
  EpdTable *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = copy_values (self);
  copy->metadata = json_object_new ();
  return copy;
}

void
epd_table_free (EpdTable *self)
{
  if (self == NULL)
    return;
  g_free (self->solver);
  g_free (self->r);
  g_free (self->weight);
  g_free (self->scale_dir);
  g_free (self->scale_time);
  if (self->metadata)
    json_object_unref (self->metadata);
  g_free (self);
}

static gboolean
values_equal (const double *a,
              const double *b,
              gsize         n)
{
  if (a == NULL || b == NULL)
    return a == b;
  return memcmp (a, b, n * sizeof (double)) == 0;
}

static gboolean
metadata_equal (JsonObject *a,
                JsonObject *b)
{
  g_autoptr(JsonNode) na = json_node_init_object (json_node_alloc (), a);
  g_autoptr(JsonNode) nb = json_node_init_object (json_node_alloc (), b);

  return json_node_equal (na, nb);
}

/* Bit-exact: every double compared by its bits, metadata by value. */
gboolean
epd_table_equal (const EpdTable *a,
                 const EpdTable *b)
{
  gsize n;

  if (a == NULL || b == NULL)
    return a == b;
  n = (gsize) a->steps * a->n_points;
  return g_strcmp0 (a->solver, b->solver) == 0 &&
         a->steps == b->steps && a->n_points == b->n_points &&
         a->schedule.kind == b->schedule.kind &&
         values_equal (&a->schedule.sigma_min, &b->schedule.sigma_min, 1) &&
         values_equal (&a->schedule.sigma_max, &b->schedule.sigma_max, 1) &&
         values_equal (&a->schedule.rho, &b->schedule.rho, 1) &&
         values_equal (&a->schedule.shift, &b->schedule.shift, 1) &&
         !a->afs == !b->afs && a->max_order == b->max_order &&
         values_equal (a->r, b->r, n) && values_equal (a->weight, b->weight, n) &&
         values_equal (a->scale_dir, b->scale_dir, n) &&
         values_equal (a->scale_time, b->scale_time, n) &&
         metadata_equal (a->metadata, b->metadata);
}

/* ---- validation --------------------------------------------------------- */

static gboolean
validate_header (const EpdTable  *self,
                 GError         **error)
{
  if (g_strcmp0 (self->solver, "epd") != 0 && g_strcmp0 (self->solver, "epd-plugin") != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "unknown solver '%s' (a table is for epd or epd-plugin)",
                   self->solver ? self->solver : "(none)");
      return FALSE;
    }
  if (self->steps == 0 || self->n_points == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "a table needs at least one step and one point (got %u steps, %u points)",
                   self->steps, self->n_points);
      return FALSE;
    }
  if (self->max_order < 1 || self->max_order > 4)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "max_order %u is outside 1..4", self->max_order);
      return FALSE;
    }
  if (self->r == NULL || self->weight == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "a table needs both r and weight");
      return FALSE;
    }
  return epd_schedule_validate (&self->schedule, error);
}

static gboolean
validate_row (const EpdTable  *self,
              guint            s,
              GError         **error)
{
  const char *scale_names[] = { "scale_dir", "scale_time" };
  const double *scales[] = { self->scale_dir, self->scale_time };
  double sum = 0.0;

  for (guint k = 0; k < self->n_points; k++)
    {
      gsize i = (gsize) s * self->n_points + k;
      double r = self->r[i], w = self->weight[i];

      if (!isfinite (r) || !isfinite (w))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "step %u, point %u: %s is %g",
                       s, k, isfinite (r) ? "weight" : "r", isfinite (r) ? w : r);
          return FALSE;
        }
      if (r <= 0.0 || r >= 1.0)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "step %u, point %u: r = %.17g is outside (0, 1)", s, k, r);
          return FALSE;
        }
      if (w < 0.0)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "step %u, point %u: weight = %.17g is negative (weights lie on the simplex)", s, k, w);
          return FALSE;
        }
      for (guint j = 0; j < G_N_ELEMENTS (scales); j++)
        if (scales[j] != NULL && !(isfinite (scales[j][i]) && scales[j][i] > 0.0))
          {
            g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                         "step %u, point %u: %s = %g must be a finite number > 0",
                         s, k, scale_names[j], scales[j][i]);
            return FALSE;
          }
      sum += w;
    }
  if (fabs (sum - 1.0) > SIMPLEX_TOLERANCE)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "step %u: weights sum to %.9g, not 1 (tolerance %g)", s, sum, SIMPLEX_TOLERANCE);
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_table_validate (const EpdTable  *self,
                    GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!validate_header (self, error))
    return FALSE;
  for (guint s = 0; s < self->steps; s++)
    if (!validate_row (self, s, error))
      return FALSE;
  return TRUE;
}

/* ---- the reference's schedules ------------------------------------------ */

gboolean
epd_table_reference_schedule (const char   *type,
                              double        rho,
                              const char   *backend,
                              EpdSchedule  *schedule,
                              GError      **error)
{
  EpdScheduleKind kind;

  if (!epd_schedule_kind_from_string (type, &kind, error))
    return FALSE;
  if (kind == EPD_SCHEDULE_FLOWMATCH)
    {
      if (!epd_schedule_init_flowmatch_preset (schedule, g_strcmp0 (backend, "flux") == 0 ? "flux" : "sd3", error))
        return FALSE;
    }
  else
    epd_schedule_init (schedule, kind);
  schedule->rho = rho;
  return TRUE;
}

/* ---- files -------------------------------------------------------------- */

static gboolean
is_zip (const char *data,
        gsize       len)
{
  return len >= 4 && data[0] == 'P' && data[1] == 'K' &&
         ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

static gboolean
has_npz_extension (const char *path)
{
  return g_str_has_suffix (path, ".npz") || g_str_has_suffix (path, ".NPZ");
}

/* The content decides; a .npz name decides for content that is no zip, so
 * a damaged archive gets a zip error rather than a JSON one. */
static EpdTable *
table_from_data (const char  *data,
                 gsize        len,
                 const char  *source,
                 GError     **error)
{
  EpdTable *table;

  if (len == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: empty file", source);
      return NULL;
    }
  if (is_zip (data, len) || has_npz_extension (source))
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (data, len);

      table = epd_table_from_npz_bytes (bytes, error);
    }
  else
    {
      g_autoptr(JsonNode) root = epd_json_parse (data, len, source, error);

      if (root == NULL)
        return NULL;
      table = epd_table_from_json (root, error);
    }
  if (table == NULL)
    g_prefix_error (error, "%s: ", source);
  return table;
}

static EpdTable *
load_builtin (const char  *name,
              GError     **error)
{
  g_autofree char *path = g_strconcat (EPD_TABLE_BUILTIN_RESOURCE_PATH, name, ".json", NULL);
  g_autoptr(GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_auto(GStrv) names = NULL;
  g_autofree char *list = NULL;
  gsize len;
  const char *data;

  if (bytes == NULL)
    {
      names = epd_table_builtin_names ();
      list = g_strjoinv (", ", names);
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "unknown builtin table '%s' (%s%s)", name,
                   names[0] ? "available: " : "none are linked into this program", list);
      return NULL;
    }
  data = g_bytes_get_data (bytes, &len);
  return table_from_data (data, len, name, error);
}

EpdTable *
epd_table_load (const char  *path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  if (g_str_has_prefix (path, EPD_TABLE_BUILTIN_PREFIX))
    return load_builtin (path + strlen (EPD_TABLE_BUILTIN_PREFIX), error);
  if (!epd_file_read_capped (path, EPD_FILE_MAX_JSON, &contents, &len, error))
    return NULL;
  return table_from_data (contents, len, path, error);
}

gboolean
epd_table_save (const EpdTable  *self,
                const char      *path,
                GError         **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  gsize len;
  const char *data;

  if (!epd_table_validate (self, error) || !epd_file_check_output (path, error))
    {
      g_prefix_error (error, "not saving %s: ", path);
      return FALSE;
    }
  if (has_npz_extension (path))
    {
      bytes = epd_table_to_npz_bytes (self, error);
      if (bytes == NULL)
        return FALSE;
      data = g_bytes_get_data (bytes, &len);
      if (!epd_file_write_atomic (path, data, len, error))
        return FALSE;
      return TRUE;
    }
  root = epd_table_to_json (self);
  return epd_json_save (root, path, error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

char **
epd_table_builtin_names (void)
{
  g_auto(GStrv) children = g_resources_enumerate_children (EPD_TABLE_BUILTIN_RESOURCE_PATH,
                                                           G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; children && children[i]; i++)
    if (g_str_has_suffix (children[i], ".json"))
      g_ptr_array_add (names, g_strndup (children[i], strlen (children[i]) - 5));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}
