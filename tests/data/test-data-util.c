/* SPDX-License-Identifier: MIT */
/* test-data-util.c: small idx files written by the data tests themselves. */
#include "test-data-util.h"

#include <cairo.h>
#include <gio/gio.h>
#include <string.h>

GBytes *
test_idx_bytes (const guint8  *data,
                const guint32 *dims,
                guint          ndims)
{
  GByteArray *out = g_byte_array_new ();
  guint8 magic[4] = { 0, 0, 0x08, (guint8) ndims };
  gsize size = 1;

  g_byte_array_append (out, magic, 4);
  for (guint k = 0; k < ndims; k++)
    {
      guint32 be = GUINT32_TO_BE (dims[k]);

      g_byte_array_append (out, (const guint8 *) &be, 4);
      size *= dims[k];
    }
  g_byte_array_append (out, data, (guint) size);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
test_gzip (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GZlibCompressor) gzip = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr(GInputStream) raw = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (gzip));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

void
test_write_raw (const char   *path,
                const guint8 *data,
                gsize         size)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);
}

void
test_write_idx (const char    *path,
                const guint8  *data,
                const guint32 *dims,
                guint          ndims,
                gboolean       gzip)
{
  g_autoptr(GBytes) bytes = test_idx_bytes (data, dims, ndims);
  g_autoptr(GBytes) packed = gzip ? test_gzip (bytes) : g_bytes_ref (bytes);
  gsize size;
  const guint8 *raw = g_bytes_get_data (packed, &size);

  test_write_raw (path, raw, size);
}

void
test_write_fashion_dir (const char   *dir,
                        const guint8 *labels,
                        guint32       n,
                        guint32       side)
{
  static const char *const prefixes[] = { "train", "t10k" };
  g_autofree guint8 *pixels = g_new (guint8, (gsize) n * side * side);
  guint32 image_dims[3] = { n, side, side };

  for (gsize i = 0; i < n; i++)
    for (gsize j = 0; j < (gsize) side * side; j++)
      pixels[i * side * side + j] = (guint8) ((7 * i + 3 * j) % 256);
  for (guint k = 0; k < G_N_ELEMENTS (prefixes); k++)
    {
      g_autofree char *images_name = g_strdup_printf ("%s-images-idx3-ubyte.gz", prefixes[k]);
      g_autofree char *labels_name = g_strdup_printf ("%s-labels-idx1-ubyte.gz", prefixes[k]);
      g_autofree char *images = g_build_filename (dir, images_name, NULL);
      g_autofree char *labels_path = g_build_filename (dir, labels_name, NULL);

      test_write_idx (images, pixels, image_dims, 3, TRUE);
      test_write_idx (labels_path, labels, &n, 1, TRUE);
    }
}

void
test_write_png_solid (const char *path,
                      int         width,
                      int         height,
                      double      r,
                      double      g,
                      double      b)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, r, g, b);
  cairo_paint (cr);
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
}
