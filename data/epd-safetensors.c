/* SPDX-License-Identifier: MIT
 * epd-safetensors.c: reading .safetensors files (F32, F16, BF16 -> float32). */
#include "epd-safetensors.h"

#include <math.h>
#include <string.h>

#include "epd-file.h"
#include "epd-json.h"

struct _EpdSafetensors
{
  gint                 ref_count;
  char                *source;
  GBytes              *bytes;     /* the whole file */
  const guint8        *data;      /* the data section */
  gsize                data_len;
  EpdSafetensorsEntry *entries;   /* sorted by name */
  guint                n_entries;
  GStringChunk        *names;
};

static const struct {
  const char *name;
  gsize       size;   /* 0: a known dtype this reader does not convert */
} dtypes[] = {
  [EPD_SAFETENSORS_F32] = { "F32", 4 },
  [EPD_SAFETENSORS_F16] = { "F16", 2 },
  [EPD_SAFETENSORS_BF16] = { "BF16", 2 },
};

/* safetensors' other dtypes: refused as unsupported rather than unknown. */
static const char *const other_dtypes[] = {
  "F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL",
  "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64", NULL,
};

const char *
epd_safetensors_dtype_to_string (EpdSafetensorsDtype dtype)
{
  return dtype <= EPD_SAFETENSORS_BF16 ? dtypes[dtype].name : "?";
}

EpdSafetensors *
epd_safetensors_ref (EpdSafetensors *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
epd_safetensors_unref (EpdSafetensors *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->source);
  g_bytes_unref (self->bytes);
  g_free (self->entries);
  if (self->names != NULL)
    g_string_chunk_free (self->names);
  g_free (self);
}

/* ---- the header ---------------------------------------------------------- */

static gboolean
parse_dtype (EpdSafetensors       *self,
             const char           *name,
             JsonNode             *node,
             EpdSafetensorsDtype  *dtype,
             GError              **error)
{
  const char *text = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                     ? json_node_get_string (node) : NULL;

  if (text == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: tensor '%s': \"dtype\" is not a string",
                   self->source, name);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (g_str_equal (text, dtypes[i].name))
      {
        *dtype = i;
        return TRUE;
      }
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "%s: tensor '%s': dtype '%s' is %s (F32, F16 and BF16 are read)", self->source, name, text,
               g_strv_contains (other_dtypes, text) ? "not supported" : "unknown");
  return FALSE;
}

/* A non-negative JSON integer. */
static gboolean
get_size (JsonNode *node,
          gsize    *value)
{
  gint64 v;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0 || (guint64) v > G_MAXSIZE)
    return FALSE;
  *value = (gsize) v;
  return TRUE;
}

static gboolean
parse_shape (EpdSafetensors       *self,
             const char           *name,
             JsonNode             *node,
             EpdSafetensorsEntry  *entry,
             GError              **error)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  guint ndim = array ? json_array_get_length (array) : 0;
  gsize count = 1;

  if (array == NULL || ndim > EPD_SAFETENSORS_MAX_DIMS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': \"shape\" is not a list of at most %d sizes", self->source, name,
                   EPD_SAFETENSORS_MAX_DIMS);
      return FALSE;
    }
  for (guint i = 0; i < ndim; i++)
    {
      gsize d;

      if (!get_size (json_array_get_element (array, i), &d))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                       "%s: tensor '%s': shape[%u] is not a non-negative integer", self->source, name, i);
          return FALSE;
        }
      if (d != 0 && count > G_MAXSIZE / 8 / d)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s: tensor '%s': the shape is too large",
                       self->source, name);
          return FALSE;
        }
      entry->shape[i] = d;
      count *= d;
    }
  entry->ndim = ndim;
  entry->n_elements = count;
  return TRUE;
}

static gboolean
parse_offsets (EpdSafetensors       *self,
               const char           *name,
               JsonNode             *node,
               EpdSafetensorsEntry  *entry,
               GError              **error)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  gsize expected;

  if (array == NULL || json_array_get_length (array) != 2 ||
      !get_size (json_array_get_element (array, 0), &entry->begin) ||
      !get_size (json_array_get_element (array, 1), &entry->end))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': \"data_offsets\" is not [begin, end] (two non-negative integers)",
                   self->source, name);
      return FALSE;
    }
  if (entry->begin > entry->end)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': data_offsets [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT "] end before they begin",
                   self->source, name, entry->begin, entry->end);
      return FALSE;
    }
  if (entry->end > self->data_len)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': data_offsets [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT "] lie outside "
                   "the %" G_GSIZE_FORMAT " bytes of data (a truncated file?)",
                   self->source, name, entry->begin, entry->end, self->data_len);
      return FALSE;
    }
  expected = entry->n_elements * dtypes[entry->dtype].size;
  if (entry->end - entry->begin != expected)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': %" G_GSIZE_FORMAT " elements of %s need %" G_GSIZE_FORMAT
                   " bytes, data_offsets give %" G_GSIZE_FORMAT,
                   self->source, name, entry->n_elements, dtypes[entry->dtype].name, expected,
                   entry->end - entry->begin);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_entry (EpdSafetensors       *self,
             const char           *name,
             JsonNode             *node,
             EpdSafetensorsEntry  *entry,
             GError              **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *dtype, *shape, *offsets;

  if (*name == '\0')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: a tensor has an empty name", self->source);
      return FALSE;
    }
  if (object == NULL || json_object_get_size (object) != 3 ||
      (dtype = json_object_get_member (object, "dtype")) == NULL ||
      (shape = json_object_get_member (object, "shape")) == NULL ||
      (offsets = json_object_get_member (object, "data_offsets")) == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: tensor '%s': expected an object with exactly \"dtype\", \"shape\" and \"data_offsets\"",
                   self->source, name);
      return FALSE;
    }
  entry->name = g_string_chunk_insert (self->names, name);
  return parse_dtype (self, name, dtype, &entry->dtype, error) &&
         parse_shape (self, name, shape, entry, error) &&
         parse_offsets (self, name, offsets, entry, error);
}

static gboolean
check_metadata (EpdSafetensors  *self,
                JsonNode        *node,
                GError         **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autoptr(GList) members = object ? json_object_get_members (object) : NULL;

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *v = json_object_get_member (object, l->data);

      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
        object = NULL;
    }
  if (object == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: \"__metadata__\" is not an object of strings", self->source);
      return FALSE;
    }
  return TRUE;
}

static int
compare_begin (gconstpointer a,
               gconstpointer b)
{
  const EpdSafetensorsEntry *x = *(EpdSafetensorsEntry *const *) a, *y = *(EpdSafetensorsEntry *const *) b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static int
compare_name (gconstpointer a,
              gconstpointer b)
{
  return strcmp (((const EpdSafetensorsEntry *) a)->name, ((const EpdSafetensorsEntry *) b)->name);
}

/* Sorted by offset, the ranges must tile the data: overlaps, holes and
 * trailing bytes are refused (a hole would be data no tensor explains). */
static gboolean
check_layout (EpdSafetensors  *self,
              GError         **error)
{
  g_autofree EpdSafetensorsEntry **order = g_new (EpdSafetensorsEntry *, self->n_entries + 1);
  gsize at = 0;

  for (guint i = 0; i < self->n_entries; i++)
    order[i] = &self->entries[i];
  qsort (order, self->n_entries, sizeof *order, compare_begin);
  for (guint i = 0; i < self->n_entries; i++)
    {
      if (order[i]->begin != at)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                       order[i]->begin < at
                       ? "%s: tensor '%s' starts at byte %" G_GSIZE_FORMAT ", inside the data of '%s' (overlapping offsets)"
                       : "%s: tensor '%s' starts at byte %" G_GSIZE_FORMAT ", leaving a hole after '%s'",
                       self->source, order[i]->name, order[i]->begin, i ? order[i - 1]->name : "(start)");
          return FALSE;
        }
      at = order[i]->end;
    }
  if (at != self->data_len)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: %" G_GSIZE_FORMAT " bytes of data after the last tensor", self->source,
                   self->data_len - at);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_members (EpdSafetensors  *self,
               JsonObject      *root,
               GError         **error)
{
  g_autoptr(GList) members = json_object_get_members (root);

  self->entries = g_new0 (EpdSafetensorsEntry, g_list_length (members) + 1);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (root, name);

      if (g_str_equal (name, "__metadata__"))
        {
          if (!check_metadata (self, node, error))
            return FALSE;
          continue;
        }
      if (!parse_entry (self, name, node, &self->entries[self->n_entries++], error))
        return FALSE;
    }
  qsort (self->entries, self->n_entries, sizeof *self->entries, compare_name);
  return check_layout (self, error);
}

static gboolean
parse_header (EpdSafetensors  *self,
              GError         **error)
{
  gsize len = g_bytes_get_size (self->bytes);
  const guint8 *bytes = g_bytes_get_data (self->bytes, NULL);
  g_autoptr(JsonNode) root = NULL;
  guint64 n = 0;

  if (len < 8)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: %" G_GSIZE_FORMAT " bytes, too short for a safetensors file", self->source, len);
      return FALSE;
    }
  for (int i = 7; i >= 0; i--)
    n = n << 8 | bytes[i];
  if (n > EPD_SAFETENSORS_MAX_HEADER || n > len - 8 || n < 2)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: header length %" G_GUINT64_FORMAT " is %s", self->source, n,
                   n > EPD_SAFETENSORS_MAX_HEADER ? "larger than the 16 MiB allowed"
                   : n < 2 ? "too small" : "past the end of the file (a truncated file?)");
      return FALSE;
    }
  if (!g_utf8_validate_len ((const char *) bytes + 8, n, NULL) || bytes[8] != '{')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: the header is not UTF-8 JSON starting with '{'",
                   self->source);
      return FALSE;
    }
  self->data = bytes + 8 + n;
  self->data_len = len - 8 - n;
  root = epd_json_parse ((const char *) bytes + 8, n, self->source, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: the header is not a JSON object", self->source);
      return FALSE;
    }
  return parse_members (self, json_node_get_object (root), error);
}

EpdSafetensors *
epd_safetensors_parse (GBytes      *bytes,
                       const char  *source,
                       GError     **error)
{
  EpdSafetensors *self = g_new0 (EpdSafetensors, 1);

  self->ref_count = 1;
  self->source = g_strdup (source);
  self->bytes = g_bytes_ref (bytes);
  self->names = g_string_chunk_new (1024);
  if (!parse_header (self, error))
    {
      epd_safetensors_unref (self);
      return NULL;
    }
  return self;
}

EpdSafetensors *
epd_safetensors_open (const char  *path,
                      GError     **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local = NULL;

  if (!epd_file_check_regular (path, error))
    return NULL;
  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot read %s: %s", path, local->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  return epd_safetensors_parse (bytes, path, error);
}

/* ---- access --------------------------------------------------------------- */

const EpdSafetensorsEntry *
epd_safetensors_get_entries (EpdSafetensors *self,
                             guint          *n)
{
  *n = self->n_entries;
  return self->entries;
}

const EpdSafetensorsEntry *
epd_safetensors_lookup (EpdSafetensors *self,
                        const char     *name)
{
  EpdSafetensorsEntry key = { .name = name };

  return bsearch (&key, self->entries, self->n_entries, sizeof key, compare_name);
}

const char *
epd_safetensors_get_source (EpdSafetensors *self)
{
  return self->source;
}

/* IEEE half -> float, subnormals, infinities and NaN included. */
static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  float f;

  if (exp == 0)
    return (h & 0x8000 ? -1.0f : 1.0f) * ldexpf ((float) mant, -24);
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&f, &bits, sizeof f);
  return f;
}

static float
load_element (const guint8        *p,
              EpdSafetensorsDtype  dtype)
{
  guint32 bits;
  float f;

  switch (dtype)
    {
    case EPD_SAFETENSORS_F16:
      return half_to_float ((guint16) (p[0] | p[1] << 8));
    case EPD_SAFETENSORS_BF16:
      bits = (guint32) (p[0] | p[1] << 8) << 16;
      break;
    case EPD_SAFETENSORS_F32:
    default:
      bits = (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
      break;
    }
  memcpy (&f, &bits, sizeof f);
  return f;
}

gboolean
epd_safetensors_read_float (EpdSafetensors            *self,
                            const EpdSafetensorsEntry *entry,
                            float                     *dst,
                            GError                   **error)
{
  const guint8 *p = self->data + entry->begin;
  gsize size = dtypes[entry->dtype].size;

  for (gsize i = 0; i < entry->n_elements; i++)
    {
      dst[i] = load_element (p + i * size, entry->dtype);
      if (!isfinite (dst[i]))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "%s: tensor '%s': element %" G_GSIZE_FORMAT " is %g, not finite",
                       self->source, entry->name, i, dst[i]);
          return FALSE;
        }
    }
  return TRUE;
}
