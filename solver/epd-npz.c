/* SPDX-License-Identifier: MIT */
/* epd-npz.c: .npz archives (zip files of NAME.npy members).
 *
 * Reading trusts only the central directory for sizes, CRCs and offsets (NumPy
 * writes Zip64 local headers with placeholder sizes), bounds-checks every
 * field against the buffer, inflates deflated members with GLib's raw zlib
 * decompressor and checks each member's CRC-32. Writing emits stored members. */
#include "epd-npy.h"
#include "epd-npy-private.h"

#include <stdlib.h>
#include <string.h>

#include "epd-file.h"

#define ZIP_LOCAL_SIG        0x04034b50u
#define ZIP_CENTRAL_SIG      0x02014b50u
#define ZIP_END_SIG          0x06054b50u
#define ZIP64_END_SIG        0x06064b50u
#define ZIP64_LOCATOR_SIG    0x07064b50u
#define ZIP_LOCAL_SIZE       30
#define ZIP_CENTRAL_SIZE     46
#define ZIP_END_SIZE         22
#define ZIP64_LOCATOR_SIZE   20
#define ZIP64_END_SIZE       56
#define ZIP_METHOD_STORED    0
#define ZIP_METHOD_DEFLATED  8
/* Deflate cannot expand data by more than about 1032:1. */
#define DEFLATE_MAX_RATIO    1032

typedef struct
{
  const guint8 *data;
  gsize         len;
} Zip;

typedef struct
{
  guint16  method;
  guint16  flags;
  guint32  crc;
  guint64  compressed;
  guint64  uncompressed;
  guint64  local_offset;
  char    *name;
} ZipEntry;

static guint32 crc_table[256];

static gpointer
crc_table_init (gpointer data)
{
  for (guint32 n = 0; n < 256; n++)
    {
      guint32 c = n;

      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[n] = c;
    }
  return NULL;
}

guint32
epd_crc32 (guint32       crc,
           const guint8 *data,
           gsize         len)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, crc_table_init, NULL);
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- reading ------------------------------------------------------------ */

static guint64
le (const guint8 *p,
    guint         size)
{
  guint64 v = 0;

  for (guint i = size; i-- > 0;)
    v = v << 8 | p[i];
  return v;
}

/* TRUE when [offset, offset + size) lies inside the archive. */
static gboolean
zip_has (const Zip *zip,
         guint64    offset,
         guint64    size)
{
  return offset <= zip->len && size <= zip->len - offset;
}

static gboolean
zip_fail (GError    **error,
          const char *what)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: %s", what);
  return FALSE;
}

/* The Zip64 end record, when the classic one holds 0xFFFF placeholders. */
static gboolean
read_zip64_end (const Zip *zip,
                gsize      end_offset,
                guint64   *count,
                guint64   *cd_offset,
                GError   **error)
{
  gsize loc = end_offset - ZIP64_LOCATOR_SIZE;
  guint64 rec;

  if (end_offset < ZIP64_LOCATOR_SIZE || le (zip->data + loc, 4) != ZIP64_LOCATOR_SIG)
    return zip_fail (error, "Zip64 placeholders without a Zip64 end record");
  rec = le (zip->data + loc + 8, 8);
  if (!zip_has (zip, rec, ZIP64_END_SIZE) || le (zip->data + rec, 4) != ZIP64_END_SIG)
    return zip_fail (error, "the Zip64 end record lies outside the file");
  *count = le (zip->data + rec + 32, 8);
  *cd_offset = le (zip->data + rec + 48, 8);
  return TRUE;
}

/* Finds the end-of-central-directory record (it may be followed by a comment). */
static gboolean
read_end (const Zip *zip,
          guint64   *count,
          guint64   *cd_offset,
          GError   **error)
{
  gsize lowest;

  if (zip->len == 0)
    return zip_fail (error, "empty file");
  if (zip->len < ZIP_END_SIZE)
    return zip_fail (error, "not a zip archive (too short)");
  lowest = zip->len > ZIP_END_SIZE + 0xffff ? zip->len - ZIP_END_SIZE - 0xffff : 0;
  for (gsize pos = zip->len - ZIP_END_SIZE + 1; pos-- > lowest;)
    {
      const guint8 *p = zip->data + pos;

      if (le (p, 4) != ZIP_END_SIG)
        continue;
      *count = le (p + 10, 2);
      *cd_offset = le (p + 16, 4);
      if (*count == 0xffff || *cd_offset == 0xffffffffu)
        return read_zip64_end (zip, pos, count, cd_offset, error);
      return TRUE;
    }
  return zip_fail (error, "not a zip archive (no end of central directory; truncated?)");
}

/* Zip64 extra field: 64-bit values for the fields that hold 0xFFFFFFFF, in order. */
static gboolean
read_zip64_extra (const guint8 *extra,
                  gsize         len,
                  ZipEntry     *e)
{
  for (gsize pos = 0; pos + 4 <= len;)
    {
      guint id = le (extra + pos, 2), size = le (extra + pos + 2, 2);
      gsize at = pos + 4, end = at + size;

      if (end > len)
        return FALSE;
      if (id == 0x0001)
        {
          guint64 *fields[] = { &e->uncompressed, &e->compressed, &e->local_offset };

          for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
            if (*fields[i] == 0xffffffffu)
              {
                if (at + 8 > end)
                  return FALSE;
                *fields[i] = le (extra + at, 8);
                at += 8;
              }
        }
      pos = end;
    }
  return TRUE;
}

/* One central-directory entry at *pos; advances *pos past it. */
static gboolean
read_central_entry (const Zip  *zip,
                    guint64    *pos,
                    ZipEntry   *e,
                    GError    **error)
{
  const guint8 *p;
  guint name_len, extra_len, comment_len;

  if (!zip_has (zip, *pos, ZIP_CENTRAL_SIZE) || le (zip->data + *pos, 4) != ZIP_CENTRAL_SIG)
    return zip_fail (error, "corrupt central directory");
  p = zip->data + *pos;
  e->flags = le (p + 8, 2);
  e->method = le (p + 10, 2);
  e->crc = le (p + 16, 4);
  e->compressed = le (p + 20, 4);
  e->uncompressed = le (p + 24, 4);
  name_len = le (p + 28, 2);
  extra_len = le (p + 30, 2);
  comment_len = le (p + 32, 2);
  e->local_offset = le (p + 42, 4);
  if (!zip_has (zip, *pos + ZIP_CENTRAL_SIZE, (guint64) name_len + extra_len + comment_len))
    return zip_fail (error, "corrupt central directory (entry runs past the end)");
  e->name = g_strndup ((const char *) p + ZIP_CENTRAL_SIZE, name_len);
  if (!read_zip64_extra (p + ZIP_CENTRAL_SIZE + name_len, extra_len, e))
    return zip_fail (error, "corrupt Zip64 extra field");
  *pos += ZIP_CENTRAL_SIZE + name_len + extra_len + comment_len;
  return TRUE;
}

static GBytes *
inflate_member (const guint8  *data,
                gsize          compressed,
                gsize          uncompressed,
                const char    *name,
                GError       **error)
{
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autofree guint8 *out = g_malloc (MAX (uncompressed, 1));
  gsize in_pos = 0, out_pos = 0;
  GConverterResult result = G_CONVERTER_CONVERTED;

  /* One spare byte of output space reveals streams longer than declared. */
  while (result != G_CONVERTER_FINISHED)
    {
      gsize read = 0, written = 0;
      guint8 spare;
      gboolean full = out_pos == uncompressed;
      g_autoptr(GError) local = NULL;

      result = g_converter_convert (G_CONVERTER (z), data + in_pos, compressed - in_pos,
                                    full ? &spare : out + out_pos, full ? 1 : uncompressed - out_pos,
                                    G_CONVERTER_INPUT_AT_END, &read, &written, &local);
      if (result == G_CONVERTER_ERROR || (full && written > 0) || (read == 0 && written == 0 && result != G_CONVERTER_FINISHED))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: member '%s': corrupt deflate data%s%s",
                       name, local ? ": " : "", local ? local->message : "");
          return NULL;
        }
      in_pos += read;
      out_pos += written;
    }
  if (out_pos != uncompressed)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "npz: member '%s' inflates to %" G_GSIZE_FORMAT " bytes, the directory says %" G_GSIZE_FORMAT,
                   name, out_pos, uncompressed);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&out), uncompressed);
}

/* The member's bytes: located through its local header, inflated if need be,
 * and checked against the directory's size and CRC. */
static GBytes *
read_member (const Zip       *zip,
             const ZipEntry  *e,
             GError         **error)
{
  const guint8 *local, *data;
  guint64 start;
  GBytes *bytes;
  gsize len;

  if (e->flags & 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "npz: member '%s' is encrypted", e->name);
      return NULL;
    }
  if (!zip_has (zip, e->local_offset, ZIP_LOCAL_SIZE) ||
      le (zip->data + e->local_offset, 4) != ZIP_LOCAL_SIG)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: member '%s': bad local header offset", e->name);
      return NULL;
    }
  local = zip->data + e->local_offset;
  start = e->local_offset + ZIP_LOCAL_SIZE + le (local + 26, 2) + le (local + 28, 2);
  if (!zip_has (zip, start, e->compressed))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: member '%s' is truncated", e->name);
      return NULL;
    }
  if (e->method == ZIP_METHOD_STORED && e->compressed == e->uncompressed)
    bytes = g_bytes_new (zip->data + start, e->compressed);
  else if (e->method == ZIP_METHOD_DEFLATED && e->uncompressed / DEFLATE_MAX_RATIO <= e->compressed)
    bytes = inflate_member (zip->data + start, e->compressed, e->uncompressed, e->name, error);
  else
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "npz: member '%s': compression method %u with sizes %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                   " is not supported (stored and deflate are)",
                   e->name, e->method, e->compressed, e->uncompressed);
      return NULL;
    }
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (epd_crc32 (0, data, len) != e->crc)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: member '%s' fails its CRC-32 check (corrupt file)", e->name);
      g_bytes_unref (bytes);
      return NULL;
    }
  return bytes;
}

/* Adds one directory entry's member to members under NAME (".npy" dropped). */
static gboolean
add_member (const Zip       *zip,
            const ZipEntry  *e,
            GHashTable      *members,
            GError         **error)
{
  g_autofree char *key = NULL;
  GBytes *bytes;

  if (g_str_has_suffix (e->name, "/"))
    return TRUE;  /* a directory */
  key = g_str_has_suffix (e->name, ".npy") ? g_strndup (e->name, strlen (e->name) - 4) : g_strdup (e->name);
  if (g_hash_table_contains (members, key))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "npz: member '%s' appears twice", e->name);
      return FALSE;
    }
  bytes = read_member (zip, e, error);
  if (bytes == NULL)
    return FALSE;
  g_hash_table_insert (members, g_steal_pointer (&key), bytes);
  return TRUE;
}

/* Inflating checks each member against its declared size, so the declared
 * sizes bound the memory that an archive (or a deflate bomb) can take. */
static gboolean
add_to_total (const ZipEntry  *e,
              guint64         *total,
              GError         **error)
{
  if (e->uncompressed > EPD_FILE_MAX_ARRAY - *total)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "npz: member '%s' takes the archive past %" G_GSIZE_FORMAT " MiB uncompressed",
                   e->name, EPD_FILE_MAX_ARRAY >> 20);
      return FALSE;
    }
  *total += e->uncompressed;
  return TRUE;
}

GHashTable *
epd_npz_parse (GBytes  *bytes,
               GError **error)
{
  return epd_npz_parse_limited (bytes, EPD_FILE_MAX_ARRAY, error);
}

/* Refuses a member larger than max_member from its directory entry, before
 * inflating it. */
static gboolean
check_member_size (const ZipEntry  *e,
                   guint64          max_member,
                   GError         **error)
{
  if (e->uncompressed <= max_member)
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "npz: member '%s' is %" G_GUINT64_FORMAT " bytes uncompressed, more than the %" G_GUINT64_FORMAT
               " this reader takes", e->name, e->uncompressed, max_member);
  return FALSE;
}

GHashTable *
epd_npz_parse_limited (GBytes  *bytes,
                       guint64  max_member,
                       GError **error)
{
  g_autoptr(GHashTable) members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_bytes_unref);
  Zip zip;
  guint64 count, pos, total = 0;

  zip.data = g_bytes_get_data (bytes, &zip.len);
  if (!read_end (&zip, &count, &pos, error))
    return NULL;
  for (guint64 i = 0; i < count; i++)
    {
      ZipEntry e = { 0 };
      gboolean ok = read_central_entry (&zip, &pos, &e, error) && add_to_total (&e, &total, error) &&
                    check_member_size (&e, max_member, error) && add_member (&zip, &e, members, error);

      g_free (e.name);
      if (!ok)
        return NULL;
    }
  return g_steal_pointer (&members);
}

GHashTable *
epd_npz_load (const char  *path,
              GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GHashTable *members;
  gsize len;

  if (!epd_file_read_capped (path, EPD_FILE_MAX_ARRAY, &contents, &len, error))
    return NULL;
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  members = epd_npz_parse (bytes, error);
  if (members == NULL)
    g_prefix_error (error, "%s: ", path);
  return members;
}

/* ---- writing ------------------------------------------------------------ */

/* The fields shared by local and central headers, from "version needed" on:
 * stored, no flags, a fixed 1980-01-01 timestamp so output is reproducible. */
static void
put_common (GByteArray *out,
            guint32     crc,
            gsize       size,
            gsize       name_len)
{
  epd_bytes_append_le (out, 20, 2);                    /* version needed: 2.0 */
  epd_bytes_append_le (out, 0, 2);                     /* flags */
  epd_bytes_append_le (out, ZIP_METHOD_STORED, 2);
  epd_bytes_append_le (out, 0, 2);                     /* time */
  epd_bytes_append_le (out, 0x21, 2);                  /* date: 1980-01-01 */
  epd_bytes_append_le (out, crc, 4);
  epd_bytes_append_le (out, size, 4);                  /* compressed */
  epd_bytes_append_le (out, size, 4);                  /* uncompressed */
  epd_bytes_append_le (out, name_len, 2);
  epd_bytes_append_le (out, 0, 2);                     /* extra */
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GBytes *
epd_npz_serialize (GHashTable *members)
{
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GByteArray) central = g_byte_array_new ();
  g_autofree gpointer *keys = NULL;
  gsize cd_size;
  guint n;

  keys = g_hash_table_get_keys_as_array (members, &n);
  qsort (keys, n, sizeof *keys, compare_names);
  for (guint i = 0; i < n; i++)
    {
      GBytes *bytes = g_hash_table_lookup (members, keys[i]);
      g_autofree char *name = g_strconcat (keys[i], ".npy", NULL);
      gsize size, name_len = strlen (name), offset = out->len;
      const guint8 *data = g_bytes_get_data (bytes, &size);
      guint32 crc = epd_crc32 (0, data, size);

      g_return_val_if_fail (size < 0xffffffffu && offset < 0xffffffffu, NULL);
      epd_bytes_append_le (out, ZIP_LOCAL_SIG, 4);
      put_common (out, crc, size, name_len);
      g_byte_array_append (out, (const guint8 *) name, name_len);
      g_byte_array_append (out, data, size);

      epd_bytes_append_le (central, ZIP_CENTRAL_SIG, 4);
      epd_bytes_append_le (central, 20, 2);            /* version made by */
      put_common (central, crc, size, name_len);
      epd_bytes_append_le (central, 0, 2);             /* comment */
      epd_bytes_append_le (central, 0, 2);             /* disk */
      epd_bytes_append_le (central, 0, 2);             /* internal attributes */
      epd_bytes_append_le (central, 0, 4);             /* external attributes */
      epd_bytes_append_le (central, offset, 4);
      g_byte_array_append (central, (const guint8 *) name, name_len);
    }
  cd_size = central->len;
  epd_bytes_append_le (central, ZIP_END_SIG, 4);
  epd_bytes_append_le (central, 0, 4);                 /* disk numbers */
  epd_bytes_append_le (central, n, 2);
  epd_bytes_append_le (central, n, 2);
  epd_bytes_append_le (central, cd_size, 4);
  epd_bytes_append_le (central, out->len, 4);
  epd_bytes_append_le (central, 0, 2);                 /* comment */
  g_byte_array_append (out, central->data, central->len);
  return g_byte_array_free_to_bytes (out);
}

gboolean
epd_npz_save (GHashTable  *members,
              const char  *path,
              GError     **error)
{
  g_autoptr(GBytes) bytes = epd_npz_serialize (members);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!epd_file_check_output (path, error))
    return FALSE;
  if (!epd_file_write_atomic (path, data, len, error))
    return FALSE;
  return TRUE;
}
