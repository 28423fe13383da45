/* SPDX-License-Identifier: MIT */
/* epd-npy.c: NumPy .npy arrays (format versions 1-3), read and written.
 *
 * A file is "\x93NUMPY", a version, a header length, a Python dict literal
 * {'descr': '<f8', 'fortran_order': False, 'shape': (B, d), } padded to a
 * multiple of 64 bytes, then the raw elements. Every length is checked
 * against the buffer before it is used. */
#include "epd-npy.h"
#include "epd-npy-private.h"

#include <string.h>

#include "epd-file.h"

#define NPY_MAGIC      "\x93NUMPY"
#define NPY_MAGIC_LEN  6
#define NPY_MAX_DIMS   4
#define NPY_ALIGN      64

typedef struct
{
  char          kind;      /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'U' UTF-32, 'S' bytes */
  guint         itemsize;
  gboolean      fortran;
  guint         ndim;
  gsize         shape[NPY_MAX_DIMS];
  gsize         count;
  const guint8 *data;
} NpyHeader;

EpdArray *
epd_array_new (guint        ndim,
               const gsize *shape)
{
  EpdArray *self;

  g_return_val_if_fail (ndim <= NPY_MAX_DIMS, NULL);
  self = g_new0 (EpdArray, 1);
  self->ndim = ndim;
  for (guint i = 0; i < ndim; i++)
    self->shape[i] = shape[i];
  self->data = g_new0 (double, MAX (epd_array_size (self), 1));
  return self;
}

void
epd_array_free (EpdArray *self)
{
  if (self == NULL)
    return;
  g_free (self->data);
  g_free (self);
}

gsize
epd_array_size (const EpdArray *self)
{
  gsize n = 1;

  for (guint i = 0; i < self->ndim; i++)
    n *= self->shape[i];
  return n;
}

/* ---- the header dict ---------------------------------------------------- */

static void
skip_spaces (const char **p)
{
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

static gboolean
expect_char (const char **p,
             char         c)
{
  skip_spaces (p);
  if (**p != c)
    return FALSE;
  (*p)++;
  return TRUE;
}

/* A Python string literal in single or double quotes, without escapes. */
static char *
parse_quoted (const char **p)
{
  const char *start, *end;
  char quote;

  skip_spaces (p);
  quote = **p;
  if (quote != '\'' && quote != '"')
    return NULL;
  start = *p + 1;
  end = strchr (start, quote);
  if (end == NULL)
    return NULL;
  *p = end + 1;
  return g_strndup (start, end - start);
}

static gboolean
parse_bool (const char **p,
            gboolean    *out)
{
  skip_spaces (p);
  if (g_str_has_prefix (*p, "True"))
    *out = TRUE, *p += 4;
  else if (g_str_has_prefix (*p, "False"))
    *out = FALSE, *p += 5;
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_descr (const char  *descr,
             NpyHeader   *h,
             GError     **error)
{
  guint64 size;
  char order = descr[0];

  if ((order != '<' && order != '|' && order != '=') || descr[1] == '\0' ||
      strchr ("fiubUS", descr[1]) == NULL ||
      !g_ascii_string_to_unsigned (descr + 2, 10, 1, 1 << 20, &size, NULL))
    goto unsupported;
  h->kind = descr[1];
  h->itemsize = (guint) size;
  if (h->kind == 'U')
    h->itemsize *= 4;
  if (order == '|' && h->itemsize > 1 && h->kind != 'S')
    goto unsupported;
  if ((h->kind == 'f' && size != 4 && size != 8) ||
      ((h->kind == 'i' || h->kind == 'u') && size != 1 && size != 2 && size != 4 && size != 8) ||
      (h->kind == 'b' && size != 1))
    goto unsupported;
  return TRUE;

unsupported:
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "npy: dtype '%s' is not supported (use little-endian float64, float32, "
               "integers or bool)", descr);
  return FALSE;
}

static gboolean
parse_shape (const char **p,
             NpyHeader   *h,
             GError     **error)
{
  if (!expect_char (p, '('))
    return FALSE;
  h->ndim = 0;
  h->count = 1;
  while (!expect_char (p, ')'))
    {
      guint64 dim;
      char *end;

      skip_spaces (p);
      if (!g_ascii_isdigit (**p))
        return FALSE;
      dim = g_ascii_strtoull (*p, &end, 10);
      *p = end;
      if (h->ndim == NPY_MAX_DIMS)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                       "npy: more than %d dimensions are not supported", NPY_MAX_DIMS);
          return FALSE;
        }
      if (dim > G_MAXSIZE || !g_size_checked_mul (&h->count, h->count, (gsize) dim))
        return FALSE;
      h->shape[h->ndim++] = (gsize) dim;
      skip_spaces (p);
      if (**p == ',')
        (*p)++;
      else if (**p != ')')
        return FALSE;
    }
  return TRUE;
}

/* One "'key': value" pair of the header dict. */
static gboolean
parse_entry (const char **p,
             NpyHeader   *h,
             guint       *seen,
             GError     **error)
{
  g_autofree char *key = parse_quoted (p);
  g_autofree char *descr = NULL;

  if (key == NULL || !expect_char (p, ':'))
    return FALSE;
  if (g_str_equal (key, "descr"))
    {
      *seen |= 1;
      descr = parse_quoted (p);
      return descr != NULL && parse_descr (descr, h, error);
    }
  if (g_str_equal (key, "fortran_order"))
    {
      *seen |= 2;
      return parse_bool (p, &h->fortran);
    }
  if (g_str_equal (key, "shape"))
    {
      *seen |= 4;
      return parse_shape (p, h, error);
    }
  return FALSE;
}

static gboolean
parse_dict (const char  *text,
            NpyHeader   *h,
            GError     **error)
{
  g_autoptr(GError) local = NULL;
  const char *p = text;
  guint seen = 0;

  if (!expect_char (&p, '{'))
    goto malformed;
  while (!expect_char (&p, '}'))
    {
      if (!parse_entry (&p, h, &seen, &local))
        goto malformed;
      /* Entries are separated by commas; one may trail before '}'. */
      if (!expect_char (&p, ','))
        {
          if (!expect_char (&p, '}'))
            goto malformed;
          break;
        }
    }
  if (seen == 7)
    return TRUE;

malformed:
  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  else
    g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                 "npy: malformed header (expected {'descr': ..., 'fortran_order': ..., 'shape': (...)}): %.200s",
                 text);
  return FALSE;
}

static guint32
read_u32_le (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* Validates magic, version, header and data length; fills h. */
static gboolean
read_header (const guint8  *bytes,
             gsize          len,
             NpyHeader     *h,
             GError       **error)
{
  gsize header_len = 0, offset, data_len;
  g_autofree char *text = NULL;

  if (len == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npy: empty file");
      return FALSE;
    }
  if (len < 10 || memcmp (bytes, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npy: not a NumPy .npy file (bad magic or too short)");
      return FALSE;
    }
  if (bytes[6] < 1 || bytes[6] > 3)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "npy: format version %u.%u is not supported",
                   bytes[6], bytes[7]);
      return FALSE;
    }
  offset = bytes[6] == 1 ? 10 : 12;
  if (len >= offset)
    header_len = offset == 10 ? (gsize) (bytes[8] | bytes[9] << 8) : read_u32_le (bytes + 8);
  if (len < offset || header_len > len - offset)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npy: truncated header");
      return FALSE;
    }
  text = g_strndup ((const char *) bytes + offset, header_len);
  memset (h, 0, sizeof *h);
  if (!parse_dict (text, h, error))
    return FALSE;
  if (h->fortran && h->ndim > 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "npy: Fortran-order arrays are not supported; save with np.ascontiguousarray()");
      return FALSE;
    }
  offset += header_len;
  if (!g_size_checked_mul (&data_len, h->count, h->itemsize) || data_len != len - offset)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "npy: %s: the header promises %" G_GSIZE_FORMAT " elements of %u bytes, the file holds %" G_GSIZE_FORMAT " data bytes",
                   data_len > len - offset ? "truncated data" : "wrong data length",
                   h->count, h->itemsize, len - offset);
      return FALSE;
    }
  h->data = bytes + offset;
  return TRUE;
}

/* ---- elements ----------------------------------------------------------- */

static guint64
read_le (const guint8 *p,
         guint         size)
{
  guint64 v = 0;

  for (guint i = size; i-- > 0;)
    v = v << 8 | p[i];
  return v;
}

static gint64
read_signed (const guint8 *p,
             guint         size)
{
  guint64 v = read_le (p, size);

  if (size < 8 && (v >> (8 * size - 1)) & 1)
    v |= ~(guint64) 0 << (8 * size);
  return (gint64) v;
}

static double
element_to_double (const NpyHeader *h,
                   const guint8    *p)
{
  guint64 bits;

  switch (h->kind)
    {
    case 'f':
      bits = read_le (p, h->itemsize);
      if (h->itemsize == 4)
        {
          guint32 b32 = (guint32) bits;
          float f;

          memcpy (&f, &b32, sizeof f);
          return f;
        }
      else
        {
          double d;

          memcpy (&d, &bits, sizeof d);
          return d;
        }
    case 'i':
      return (double) read_signed (p, h->itemsize);
    case 'u':
      return (double) read_le (p, h->itemsize);
    default: /* 'b' */
      return *p != 0;
    }
}

EpdArray *
epd_npy_parse (const guint8  *bytes,
               gsize          len,
               GError       **error)
{
  NpyHeader h;
  EpdArray *array;

  if (!read_header (bytes, len, &h, error))
    return NULL;
  /* Small dtypes grow 8-fold as float64: bound the result, not only the file. */
  if (h.count > EPD_FILE_MAX_ARRAY / sizeof (double))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "npy: %" G_GSIZE_FORMAT " elements are more than %" G_GSIZE_FORMAT " MiB as float64",
                   h.count, EPD_FILE_MAX_ARRAY >> 20);
      return NULL;
    }
  if (h.kind == 'U' || h.kind == 'S')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "npy: a string array where numbers were expected");
      return NULL;
    }
  array = epd_array_new (h.ndim, h.shape);
  for (gsize i = 0; i < h.count; i++)
    array->data[i] = element_to_double (&h, h.data + i * h.itemsize);
  return array;
}

static JsonNode *
string_to_node (const NpyHeader  *h,
                GError          **error)
{
  g_autofree char *text = NULL;
  glong n = 0;

  if (h->kind == 'S')
    {
      text = g_strndup ((const char *) h->data, h->itemsize);
      if (!g_utf8_validate (text, -1, NULL))
        g_clear_pointer (&text, g_free);
    }
  else
    {
      g_autofree gunichar *chars = g_new0 (gunichar, h->itemsize / 4 + 1);

      for (n = 0; n < (glong) h->itemsize / 4; n++)
        if ((chars[n] = read_u32_le (h->data + 4 * n)) == 0)
          break;
      text = g_ucs4_to_utf8 (chars, n, NULL, NULL, NULL);
    }
  if (text == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npy: a string scalar that is not valid text");
      return NULL;
    }
  return json_node_init_string (json_node_alloc (), text);
}

JsonNode *
epd_npy_parse_scalar (const guint8  *bytes,
                      gsize          len,
                      GError       **error)
{
  NpyHeader h;

  if (!read_header (bytes, len, &h, error))
    return NULL;
  if (h.count != 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "npy: expected a scalar, found %" G_GSIZE_FORMAT " elements", h.count);
      return NULL;
    }
  switch (h.kind)
    {
    case 'U':
    case 'S':
      return string_to_node (&h, error);
    case 'b':
      return json_node_init_boolean (json_node_alloc (), h.data[0] != 0);
    case 'i':
      return json_node_init_int (json_node_alloc (), read_signed (h.data, h.itemsize));
    case 'u':
      if (read_le (h.data, h.itemsize) <= G_MAXINT64)
        return json_node_init_int (json_node_alloc (), (gint64) read_le (h.data, h.itemsize));
      G_GNUC_FALLTHROUGH;
    default:
      return json_node_init_double (json_node_alloc (), element_to_double (&h, h.data));
    }
}

/* ---- writing ------------------------------------------------------------ */

/* Magic, version and the padded header dict, ready for the elements. */
static GByteArray *
npy_begin (const char  *descr,
           guint        ndim,
           const gsize *shape)
{
  g_autoptr(GString) dict = g_string_new (NULL);
  GByteArray *out = g_byte_array_new ();
  gsize prefix;
  guint8 version;

  g_string_append_printf (dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (dict, i ? ", %" G_GSIZE_FORMAT : "%" G_GSIZE_FORMAT, shape[i]);
  g_string_append (dict, ndim == 1 ? ",), }" : "), }");

  /* Pad with spaces and a final newline so the data starts 64-aligned. */
  version = dict->len + 1 + 10 + NPY_ALIGN <= 65535 ? 1 : 2;
  prefix = version == 1 ? 10 : 12;
  while ((prefix + dict->len + 1) % NPY_ALIGN != 0)
    g_string_append_c (dict, ' ');
  g_string_append_c (dict, '\n');

  g_byte_array_append (out, (const guint8 *) NPY_MAGIC, NPY_MAGIC_LEN);
  g_byte_array_append (out, (const guint8[]) { version, 0 }, 2);
  for (guint i = 0; i < prefix - 8; i++)
    {
      guint8 b = (guint8) (dict->len >> (8 * i));
      g_byte_array_append (out, &b, 1);
    }
  g_byte_array_append (out, (const guint8 *) dict->str, dict->len);
  return out;
}

void
epd_bytes_append_le (GByteArray *out,
                     guint64     v,
                     guint       size)
{
  for (guint i = 0; i < size; i++)
    {
      guint8 b = (guint8) (v >> (8 * i));
      g_byte_array_append (out, &b, 1);
    }
}

static void
append_double (GByteArray *out,
               double      value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  epd_bytes_append_le (out, bits, 8);
}

GBytes *
epd_npy_serialize (const EpdArray *array)
{
  GByteArray *out = npy_begin ("<f8", array->ndim, array->shape);
  gsize n = epd_array_size (array);

  for (gsize i = 0; i < n; i++)
    append_double (out, array->data[i]);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
epd_npy_serialize_scalar (JsonNode *value)
{
  GByteArray *out;
  GType type;

  if (value == NULL || !JSON_NODE_HOLDS_VALUE (value))
    return NULL;
  type = json_node_get_value_type (value);
  if (type == G_TYPE_INT64)
    epd_bytes_append_le (out = npy_begin ("<i8", 0, NULL), (guint64) json_node_get_int (value), 8);
  else if (type == G_TYPE_DOUBLE)
    append_double (out = npy_begin ("<f8", 0, NULL), json_node_get_double (value));
  else if (type == G_TYPE_BOOLEAN)
    epd_bytes_append_le (out = npy_begin ("|b1", 0, NULL), json_node_get_boolean (value), 1);
  else if (type == G_TYPE_STRING)
    {
      glong n = 0;
      g_autofree gunichar *chars = g_utf8_to_ucs4_fast (json_node_get_string (value), -1, &n);
      g_autofree char *descr = g_strdup_printf ("<U%ld", MAX (n, 1));

      out = npy_begin (descr, 0, NULL);
      for (glong i = 0; i < MAX (n, 1); i++)
        epd_bytes_append_le (out, i < n ? chars[i] : 0, 4);
    }
  else
    return NULL;
  return g_byte_array_free_to_bytes (out);
}

EpdArray *
epd_npy_load (const char  *path,
              GError     **error)
{
  g_autofree char *contents = NULL;
  EpdArray *array;
  gsize len;

  /* The parser then checks that the file holds exactly the header and the
   * elements it promises. */
  if (!epd_file_read_capped (path, EPD_FILE_MAX_ARRAY, &contents, &len, error))
    return NULL;
  array = epd_npy_parse ((const guint8 *) contents, len, error);
  if (array == NULL)
    g_prefix_error (error, "%s: ", path);
  return array;
}

gboolean
epd_npy_save (const EpdArray  *array,
              const char      *path,
              GError         **error)
{
  g_autoptr(GBytes) bytes = epd_npy_serialize (array);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!epd_file_check_output (path, error))
    return FALSE;
  if (!epd_file_write_atomic (path, data, len, error))
    return FALSE;
  return TRUE;
}

gboolean
epd_npy_peek_shape (const guint8  *bytes,
                    gsize          len,
                    guint         *ndim,
                    gsize         *shape,
                    GError       **error)
{
  NpyHeader h;

  if (!read_header (bytes, len, &h, error))
    return FALSE;
  *ndim = h.ndim;
  memcpy (shape, h.shape, sizeof h.shape);
  return TRUE;
}
