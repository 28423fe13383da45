/* SPDX-License-Identifier: MIT */
/* test-npy.c: .npy and .npz reading and writing: exact round trips, files
 * written by NumPy, deflated members, malformed or truncated input, and the
 * capped file reader (devices, FIFOs, oversize files). */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-file.h"
#include "epd-npy.h"

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "solver", "data", name, NULL);
}

static char *
temp_path (const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("epd-npy-test-%d-%u%s", getpid (), g_random_int (), suffix);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static EpdArray *
make_array (guint ndim,
            const gsize *shape)
{
  EpdArray *a = epd_array_new (ndim, shape);
  const double specials[] = { -0.0, 5e-324, 1.0 / 3.0, -1e300, 6.02214076e23, G_PI, 0.1 };

  for (gsize i = 0; i < epd_array_size (a); i++)
    a->data[i] = i < G_N_ELEMENTS (specials) ? specials[i] : sin ((double) i) * 1e3;
  return a;
}

static void
test_npy_round_trip (void)
{
  const gsize shapes[][4] = { { 0 }, { 7 }, { 3, 5 }, { 2, 3, 4 }, { 1, 2, 3, 2 }, { 0, 3 } };
  const guint ndims[] = { 0, 1, 2, 3, 4, 2 };

  for (gsize t = 0; t < G_N_ELEMENTS (ndims); t++)
    {
      g_autoptr(EpdArray) a = make_array (ndims[t], shapes[t]);
      g_autoptr(GBytes) bytes = epd_npy_serialize (a);
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      g_autoptr(EpdArray) b = epd_npy_parse (data, len, &error);

      g_assert_no_error (error);
      /* The data starts 64-byte aligned after a version 1.0 header. */
      g_assert_cmpuint (data[6], ==, 1);
      g_assert_cmpuint ((10 + data[8] + 256 * data[9]) % 64, ==, 0);
      g_assert_cmpuint (b->ndim, ==, a->ndim);
      g_assert_cmpmem (b->shape, b->ndim * sizeof (gsize), a->shape, a->ndim * sizeof (gsize));
      g_assert_cmpmem (b->data, epd_array_size (b) * sizeof (double), a->data, epd_array_size (a) * sizeof (double));
    }
}

static void
test_npy_file_round_trip (void)
{
  const gsize shape[] = { 4, 2 };
  g_autoptr(EpdArray) a = make_array (2, shape);
  g_autofree char *path = temp_path (".npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) b = NULL;

  g_assert_true (epd_npy_save (a, path, &error));
  g_assert_no_error (error);
  b = epd_npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (b->data, 8 * sizeof (double), a->data, 8 * sizeof (double));
  g_unlink (path);

  g_assert_null (epd_npy_load (path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
}

static EpdArray *
member_array (GHashTable *members,
              const char *name)
{
  GBytes *bytes = g_hash_table_lookup (members, name);
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;
  EpdArray *a;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  a = epd_npy_parse (data, len, &error);
  g_assert_no_error (error);
  return a;
}

static JsonNode *
member_scalar (GHashTable *members,
               const char *name)
{
  GBytes *bytes = g_hash_table_lookup (members, name);
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;
  JsonNode *node;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  node = epd_npy_parse_scalar (data, len, &error);
  g_assert_no_error (error);
  return node;
}

/* Archives written by NumPy 1.24 (np.savez and np.savez_compressed, see
 * data/make-fixtures.py): every dtype reads back to the exact values. */
static void
check_numpy_archive (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) members = epd_npz_load (path, &error);
  g_autoptr(EpdArray) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  g_autoptr(JsonNode) s = NULL, n = NULL, rho = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (members), ==, 8);
  a = member_array (members, "a");
  g_assert_cmpuint (a->ndim, ==, 2);
  g_assert_cmpuint (a->shape[0], ==, 2);
  g_assert_cmpuint (a->shape[1], ==, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (a->data[i], ==, i / 7.0);
  b = member_array (members, "b");
  g_assert_cmpfloat (b->data[0], ==, 1.5);
  g_assert_cmpfloat (b->data[1], ==, -2.25);
  c = member_array (members, "c");
  g_assert_cmpfloat (c->data[1], ==, -2.0);
  g_assert_cmpfloat (c->data[3], ==, 4.0);
  d = member_array (members, "d");
  g_assert_cmpuint (d->shape[0], ==, 3);
  g_assert_cmpfloat (d->data[0] + 2 * d->data[1] + 4 * d->data[2], ==, 5.0);
  e = member_array (members, "e");
  g_assert_cmpfloat (e->data[0], ==, -7.0);
  s = member_scalar (members, "s");
  g_assert_cmpstr (json_node_get_string (s), ==, "discrete");
  n = member_scalar (members, "n");
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (n), ==, 11);
  rho = member_scalar (members, "rho");
  g_assert_cmpint (json_node_get_value_type (rho), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (rho), ==, 7.0);
}

static void
test_npz_numpy_stored (void)
{
  check_numpy_archive ("numpy-stored.npz");
}

static void
test_npz_numpy_deflated (void)
{
  check_numpy_archive ("numpy-deflated.npz");
}

static void
put (GByteArray *out,
     guint64     v,
     guint       size)
{
  for (guint i = 0; i < size; i++)
    {
      guint8 b = (guint8) (v >> (8 * i));
      g_byte_array_append (out, &b, 1);
    }
}

/* A one-member zip whose member is deflated by GLib's raw zlib compressor. */
static GBytes *
make_deflated_zip (const char *name,
                   GBytes     *member)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 9);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize len, read, written, name_len = strlen (name), cd_start;
  const guint8 *data = g_bytes_get_data (member, &len);
  g_autofree guint8 *packed = g_malloc (len + 1024);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_converter_convert (G_CONVERTER (z), data, len, packed, len + 1024,
                                        G_CONVERTER_INPUT_AT_END, &read, &written, &error),
                   ==, G_CONVERTER_FINISHED);
  g_assert_no_error (error);
  g_assert_cmpuint (written, <, len);

  put (out, 0x04034b50, 4);
  put (out, 20, 2); put (out, 0, 2); put (out, 8, 2); put (out, 0, 4);
  put (out, epd_crc32 (0, data, len), 4); put (out, written, 4); put (out, len, 4);
  put (out, name_len, 2); put (out, 0, 2);
  g_byte_array_append (out, (const guint8 *) name, name_len);
  g_byte_array_append (out, packed, written);
  cd_start = out->len;
  put (out, 0x02014b50, 4);
  put (out, 20, 2); put (out, 20, 2); put (out, 0, 2); put (out, 8, 2); put (out, 0, 4);
  put (out, epd_crc32 (0, data, len), 4); put (out, written, 4); put (out, len, 4);
  put (out, name_len, 2); put (out, 0, 2); put (out, 0, 2); put (out, 0, 2); put (out, 0, 2);
  put (out, 0, 4); put (out, 0, 4);
  g_byte_array_append (out, (const guint8 *) name, name_len);
  put (out, 0x06054b50, 4); put (out, 0, 4); put (out, 1, 2); put (out, 1, 2);
  put (out, out->len - cd_start - 12, 4); put (out, cd_start, 4); put (out, 0, 2);
  return g_bytes_new (out->data, out->len);
}

static void
test_npz_deflated_member (void)
{
  const gsize shape[] = { 50, 4 };
  g_autoptr(EpdArray) a = epd_array_new (2, shape);
  g_autoptr(GBytes) npy = NULL, zip = NULL;
  g_autoptr(GHashTable) members = NULL;
  g_autoptr(EpdArray) b = NULL;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < 200; i++)
    a->data[i] = (double) (i % 10) / 3.0;
  npy = epd_npy_serialize (a);
  zip = make_deflated_zip ("x.npy", npy);
  members = epd_npz_parse (zip, &error);
  g_assert_no_error (error);
  b = member_array (members, "x");
  g_assert_cmpmem (b->data, 200 * sizeof (double), a->data, 200 * sizeof (double));
}

static void
test_npz_round_trip (void)
{
  g_autoptr(GHashTable) members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_bytes_unref);
  g_autoptr(GHashTable) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path (".npz");
  const gsize shape[] = { 3, 2 };
  g_autoptr(EpdArray) a = make_array (2, shape);
  g_autoptr(JsonNode) s = json_node_init_string (json_node_alloc (), "flowmatch σ→t");
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_insert (members, g_strdup ("r"), epd_npy_serialize (a));
  g_hash_table_insert (members, g_strdup ("schedule_type"), epd_npy_serialize_scalar (s));
  g_assert_true (epd_npz_save (members, path, &error));
  g_assert_no_error (error);
  back = epd_npz_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (back), ==, 2);
  g_hash_table_iter_init (&iter, members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_true (g_bytes_equal (value, g_hash_table_lookup (back, key)));
  g_unlink (path);
}

static void
test_npy_scalars (void)
{
  g_autoptr(JsonNode) i = json_node_init_int (json_node_alloc (), -123456789012345);
  g_autoptr(JsonNode) d = json_node_init_double (json_node_alloc (), 1.0 / 3.0);
  g_autoptr(JsonNode) b = json_node_init_boolean (json_node_alloc (), TRUE);
  g_autoptr(JsonNode) s = json_node_init_string (json_node_alloc (), "teacher: dpm, σ");
  g_autoptr(JsonNode) empty = json_node_init_string (json_node_alloc (), "");
  g_autoptr(JsonNode) null = json_node_init_null (json_node_alloc ());
  JsonNode *nodes[] = { i, d, b, s, empty };
  const gsize shape[] = { 2 };
  g_autoptr(EpdArray) pair = epd_array_new (1, shape);
  g_autoptr(GBytes) pair_bytes = epd_npy_serialize (pair);
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;

  for (gsize k = 0; k < G_N_ELEMENTS (nodes); k++)
    {
      g_autoptr(GBytes) bytes = epd_npy_serialize_scalar (nodes[k]);
      g_autoptr(JsonNode) back = NULL;

      data = g_bytes_get_data (bytes, &len);
      back = epd_npy_parse_scalar (data, len, &error);
      g_assert_no_error (error);
      g_assert_true (json_node_equal (back, nodes[k]));
      g_assert_cmpint (json_node_get_value_type (back), ==, json_node_get_value_type (nodes[k]));
    }
  g_assert_null (epd_npy_serialize_scalar (null));

  data = g_bytes_get_data (pair_bytes, &len);
  g_assert_null (epd_npy_parse_scalar (data, len, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_SHAPE);
}

static void
test_crc32 (void)
{
  /* The standard check value of CRC-32/ISO-HDLC. */
  g_assert_cmphex (epd_crc32 (0, (const guint8 *) "123456789", 9), ==, 0xCBF43926);
  g_assert_cmphex (epd_crc32 (epd_crc32 (0, (const guint8 *) "1234", 4), (const guint8 *) "56789", 5),
                   ==, 0xCBF43926);
}

/* A valid 2x3 float64 .npy whose header text is then edited in place. */
static GBytes *
npy_with_header_edit (const char *from,
                      const char *to)
{
  const gsize shape[] = { 2, 3 };
  g_autoptr(EpdArray) a = make_array (2, shape);
  g_autoptr(GBytes) bytes = epd_npy_serialize (a);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint8 *copy = g_memdup2 (data, len);
  gsize n = strlen (from), at = 0;

  while (at + n <= len && memcmp (copy + at, from, n) != 0)
    at++;
  g_assert_cmpuint (at + n, <=, len);
  g_assert_cmpuint (strlen (to), ==, n);
  memcpy (copy + at, to, n);
  return g_bytes_new_take (copy, len);
}

typedef struct
{
  const char *from, *to;
  int         code;
} HeaderEdit;

static void
test_npy_bad_headers (void)
{
  const HeaderEdit edits[] = {
    { "False", "True ", EPD_ERROR_UNSUPPORTED },      /* Fortran order */
    { "'<f8'", "'>f8'", EPD_ERROR_UNSUPPORTED },      /* big-endian */
    { "'<f8'", "'<c8'", EPD_ERROR_UNSUPPORTED },      /* complex */
    { "'<f8'", "'<f2'", EPD_ERROR_UNSUPPORTED },      /* half */
    { "(2, 3)", "(2, 4)", EPD_ERROR_PARSE },          /* truncated data */
    { "(2, 3)", "(1, 3)", EPD_ERROR_PARSE },          /* trailing data */
    { "(2, 3)", "(2,,3)", EPD_ERROR_PARSE },
    { "'shape'", "'shapf'", EPD_ERROR_PARSE },        /* unknown key */
    { "{'descr'", "['descr'", EPD_ERROR_PARSE },
    { "NUMPY", "NUMPZ", EPD_ERROR_PARSE },            /* magic */
    { "NUMPY\x01", "NUMPY\x04", EPD_ERROR_UNSUPPORTED }, /* version */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr(GBytes) bytes = npy_with_header_edit (edits[i].from, edits[i].to);
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      g_assert_null (epd_npy_parse (data, len, &error));
      if (!g_error_matches (error, EPD_ERROR, edits[i].code))
        g_error ("edit %" G_GSIZE_FORMAT " (%s -> %s): got '%s'", i, edits[i].from, edits[i].to,
                 error ? error->message : "no error");
    }
}

static void
test_npy_too_many_dims (void)
{
  const char header[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }";
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, sizeof header - 1, 0 };
  double v = 1.0;

  g_byte_array_append (out, prefix, 10);
  g_byte_array_append (out, (const guint8 *) header, sizeof header - 1);
  g_byte_array_append (out, (const guint8 *) &v, 8);
  g_assert_null (epd_npy_parse (out->data, out->len, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_SHAPE);
}

/* Every proper prefix of a valid file is rejected with an error (ASan checks
 * that no byte past the prefix is read). */
static void
test_npy_npz_truncated (void)
{
  const gsize shape[] = { 3, 4 };
  g_autoptr(EpdArray) a = make_array (2, shape);
  g_autoptr(GBytes) npy = epd_npy_serialize (a);
  g_autofree char *path = fixture_path ("numpy-deflated.npz");
  g_autofree char *zip = NULL;
  gsize npy_len, zip_len;
  const guint8 *npy_data = g_bytes_get_data (npy, &npy_len);

  for (gsize n = 0; n < npy_len; n++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (npy_data, n);

      g_assert_null (epd_npy_parse (copy, n, &error));
      g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    }

  g_assert_true (g_file_get_contents (path, &zip, &zip_len, NULL));
  for (gsize n = 0; n < zip_len; n++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (zip, n);
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) members = epd_npz_parse (bytes, &error);

      g_assert_null (members);
      g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    }
}

/* Random bytes and random single-byte corruptions: an error or a valid
 * result, never a crash; a flipped data byte is caught by the CRC. */
static void
test_npz_corrupt (void)
{
  g_autofree char *path = fixture_path ("numpy-stored.npz");
  g_autofree char *zip = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &zip, &len, NULL));
  for (int t = 0; t < 3000; t++)
    {
      g_autofree guint8 *copy = g_memdup2 (zip, len);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GHashTable) members = NULL;
      g_autoptr(GError) local = NULL;

      copy[g_rand_int_range (rand, 0, len)] ^= 1 + g_rand_int_range (rand, 0, 255);
      bytes = g_bytes_new (copy, len);
      members = epd_npz_parse (bytes, &local);
      g_assert_true ((members == NULL) == (local != NULL));
    }
  for (int t = 0; t < 200; t++)
    {
      gsize n = g_rand_int_range (rand, 0, 400);
      g_autofree guint8 *junk = g_malloc (n + 1);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local = NULL;

      for (gsize i = 0; i < n; i++)
        junk[i] = g_rand_int_range (rand, 0, 256);
      bytes = g_bytes_new (junk, n);
      g_assert_null (epd_npz_parse (bytes, &local));
      g_assert_nonnull (local);
      g_clear_error (&local);
      g_assert_null (epd_npy_parse (junk, n, &local));
      g_assert_nonnull (local);
    }

  /* The first member's data starts after its local header and name. */
  {
    g_autofree guint8 *copy = g_memdup2 (zip, len);
    g_autoptr(GBytes) bytes = NULL;
    gsize data_start = 30 + (copy[26] | copy[27] << 8) + (copy[28] | copy[29] << 8);

    copy[data_start + 100] ^= 0x40;
    bytes = g_bytes_new (copy, len);
    g_assert_null (epd_npz_parse (bytes, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "CRC-32"));
  }
}

static void
assert_error_with (GError     *error,
                   int         code,
                   const char *needle)
{
  if (!g_error_matches (error, EPD_ERROR, code) || strstr (error->message, needle) == NULL)
    g_error ("expected code %d with '%s', got '%s'", code, needle, error ? error->message : "no error");
}

static void
assert_loads_fail (const char *path,
                   int         code,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) array = epd_npy_load (path, &error);
  g_autoptr(GHashTable) members = NULL;

  g_assert_null (array);
  assert_error_with (error, code, needle);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  members = epd_npz_load (path, &error);
  g_assert_null (members);
  assert_error_with (error, code, needle);
  g_assert_nonnull (strstr (error->message, path));
}

/* The limit holds to the byte, also for files whose size fstat does not
 * know (/proc reports 0) and which are read until they pass it. */
static void
test_file_read_capped (void)
{
  g_autofree char *path = temp_path (".bin");
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_set_contents (path, "0123456789", 10, NULL));
  g_assert_true (epd_file_read_capped (path, 10, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 10);
  g_assert_cmpstr (contents, ==, "0123456789");
  g_clear_pointer (&contents, g_free);
  g_assert_false (epd_file_read_capped (path, 9, &contents, &len, &error));
  assert_error_with (error, EPD_ERROR_IO, "larger than the 9 bytes allowed for this kind of file (10 bytes)");
  g_assert_null (contents);
  g_clear_error (&error);
  g_unlink (path);

  g_assert_true (epd_file_read_capped ("/proc/self/status", 1 << 20, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 16);
  g_assert_true (g_str_has_prefix (contents, "Name:"));
  g_clear_pointer (&contents, g_free);
  g_assert_false (epd_file_read_capped ("/proc/self/status", 16, &contents, &len, &error));
  assert_error_with (error, EPD_ERROR_IO, "/proc/self/status: the file is larger than the 16 bytes allowed");
}

/* Devices, FIFOs and folders are refused at once, before any read. */
/* A write replaces the whole file or nothing, and leaves no temporary file. */
static void
test_file_write_atomic (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-test-write-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.txt", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "out.txt", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;

  g_assert_true (epd_file_write_atomic (path, "a longer first version", -1, &error));
  g_assert_no_error (error);
  g_assert_true (epd_file_write_atomic (path, "short\0bytes", 11, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpmem (contents, 11, "short\0bytes", 11);
  listing = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (listing), ==, "out.txt");
  g_assert_null (g_dir_read_name (listing));
  g_assert_false (epd_file_write_atomic (missing, "x", 1, &error));
  assert_error_with (error, EPD_ERROR_IO, "cannot write ");
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_npy_special_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-npy-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "latents.npy", NULL);

  g_assert_nonnull (dir);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_loads_fail ("/dev/zero", EPD_ERROR_IO, "is a character device, not a regular file");
  assert_loads_fail (fifo, EPD_ERROR_IO, "is a FIFO (named pipe), not a regular file");
  assert_loads_fail (dir, EPD_ERROR_IO, "is a folder, not a regular file");
  g_unlink (fifo);
  g_rmdir (dir);
}

/* A sparse file one byte over the limit: refused by its size, unread. */
static void
test_npy_oversize (void)
{
  g_autofree char *path = temp_path (".npy");
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, EPD_FILE_MAX_ARRAY + 1), ==, 0);
  close (fd);
  assert_loads_fail (path, EPD_ERROR_IO, "the file is larger than the 1024 MiB allowed");
  g_unlink (path);
}

static void
test_npy_empty (void)
{
  g_autofree char *path = temp_path (".npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) array = NULL;
  g_autoptr(GHashTable) members = NULL;

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  array = epd_npy_load (path, &error);
  assert_error_with (error, EPD_ERROR_PARSE, ": npy: empty file");
  g_clear_error (&error);
  members = epd_npz_load (path, &error);
  assert_error_with (error, EPD_ERROR_PARSE, ": npz: empty file");
  g_unlink (path);
}

/* Declared member sizes bound what an archive may inflate to: a directory
 * that promises 4 GiB is refused before anything is allocated. */
static void
test_npz_size_cap (void)
{
  const gsize shape[] = { 2 };
  g_autoptr(EpdArray) a = make_array (1, shape);
  g_autoptr(GHashTable) members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) zip = NULL, bad = NULL;
  g_autoptr(GHashTable) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  const guint8 *data;
  gsize len, cd;

  g_hash_table_insert (members, g_strdup ("a"), epd_npy_serialize (a));
  zip = epd_npz_serialize (members);
  data = g_bytes_get_data (zip, &len);
  copy = g_memdup2 (data, len);
  /* The end record (the last 22 bytes) holds the directory offset at +16;
   * the directory entry holds the uncompressed size at +24. */
  cd = copy[len - 6] | copy[len - 5] << 8 | copy[len - 4] << 16 | (gsize) copy[len - 3] << 24;
  memset (copy + cd + 24, 0xfe, 4);
  bad = g_bytes_new (copy, len);
  back = epd_npz_parse (bad, &error);
  g_assert_null (back);
  assert_error_with (error, EPD_ERROR_UNSUPPORTED, "npz: member 'a.npy' takes the archive past 1024 MiB uncompressed");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/npy/round-trip", test_npy_round_trip);
  g_test_add_func ("/npy/file-round-trip", test_npy_file_round_trip);
  g_test_add_func ("/npy/scalars", test_npy_scalars);
  g_test_add_func ("/npy/bad-headers", test_npy_bad_headers);
  g_test_add_func ("/npy/too-many-dims", test_npy_too_many_dims);
  g_test_add_func ("/npy/crc32", test_crc32);
  g_test_add_func ("/npz/numpy-stored", test_npz_numpy_stored);
  g_test_add_func ("/npz/numpy-deflated", test_npz_numpy_deflated);
  g_test_add_func ("/npz/deflated-member", test_npz_deflated_member);
  g_test_add_func ("/npz/round-trip", test_npz_round_trip);
  g_test_add_func ("/npz/truncated", test_npy_npz_truncated);
  g_test_add_func ("/npz/corrupt", test_npz_corrupt);
  g_test_add_func ("/file/read-capped", test_file_read_capped);
  g_test_add_func ("/file/write-atomic", test_file_write_atomic);
  g_test_add_func ("/npy/special-files", test_npy_special_files);
  g_test_add_func ("/npy/oversize", test_npy_oversize);
  g_test_add_func ("/npy/empty", test_npy_empty);
  g_test_add_func ("/npz/size-cap", test_npz_size_cap);
  return g_test_run ();
}
