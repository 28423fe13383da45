/* SPDX-License-Identifier: MIT */
/* epd-image-grid.c: sampled images as a PNG grid, one value -> scale x scale pixels. */
#include "epd-image-grid.h"
#include "epd-numeric.h"
#include "epd-file.h"

#include <math.h>

#define GUTTER 2
/* Cairo's limit on image surface sides. */
#define MAX_SURFACE_SIDE 32767
#define GUTTER_RGB 0xffffffu

typedef struct
{
  guint side;
  guint channels;
  guint columns;
  guint rows;
  guint scale;
  int   width;
  int   height;
} GridLayout;

static gboolean
grid_layout (gsize       n,
             guint       side,
             guint       channels,
             guint       columns,
             guint       scale,
             GridLayout *layout,
             GError    **error)
{
  guint64 cell, width, height;

  if (n == 0 || side == 0 || scale == 0 || (channels != 1 && channels != 3))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "image grid: need images, a side and a scale > 0 and 1 or 3 channels "
                   "(got %" G_GSIZE_FORMAT " images, side %u, scale %u, %u channels)",
                   n, side, scale, channels);
      return FALSE;
    }
  layout->columns = columns > 0 ? columns : (guint) ceil (sqrt ((double) n));
  layout->columns = (guint) MIN ((gsize) layout->columns, n);
  layout->rows = (guint) ((n + layout->columns - 1) / layout->columns);
  cell = (guint64) side * scale + GUTTER;
  width = layout->columns * cell + GUTTER;
  height = layout->rows * cell + GUTTER;
  if (width > MAX_SURFACE_SIDE || height > MAX_SURFACE_SIDE)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "image grid: %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                   " pixels is larger than Cairo's %d: use fewer images or a smaller scale",
                   width, height, MAX_SURFACE_SIDE);
      return FALSE;
    }
  layout->side = side;
  layout->channels = channels;
  layout->scale = scale;
  layout->width = (int) width;
  layout->height = (int) height;
  return TRUE;
}

static guint32
value_to_byte (double v)
{
  return (guint32) lround ((CLAMP (v, -1.0, 1.0) + 1.0) * 127.5);
}

static guint32
pixel_rgb (const double *value,
           guint         channels)
{
  guint32 r = value_to_byte (value[0]);

  if (channels == 1)
    return r << 16 | r << 8 | r;
  return r << 16 | value_to_byte (value[1]) << 8 | value_to_byte (value[2]);
}

static void
draw_image (guchar           *data,
            int               stride,
            const GridLayout *layout,
            const double     *image,
            gsize             index)
{
  guint cell = layout->side * layout->scale + GUTTER;
  gsize x0 = GUTTER + (index % layout->columns) * cell;
  gsize y0 = GUTTER + (index / layout->columns) * cell;

  for (guint y = 0; y < layout->side * layout->scale; y++)
    {
      guint32 *row = (guint32 *) (data + (y0 + y) * stride) + x0;

      for (guint x = 0; x < layout->side * layout->scale; x++)
        {
          gsize v = ((gsize) (y / layout->scale) * layout->side + x / layout->scale) * layout->channels;

          row[x] = pixel_rgb (image + v, layout->channels);
        }
    }
}

static gboolean
check_finite (const double *images,
              gsize         count,
              GError      **error)
{
  gssize bad = epd_first_non_finite (images, count);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "image grid: value %" G_GSIZE_FORMAT " is %g, not finite", i, images[i]);
      return FALSE;
    }
  return TRUE;
}

cairo_surface_t *
epd_image_grid_render (const double *images,
                       gsize         n,
                       guint         side,
                       guint         channels,
                       guint         columns,
                       guint         scale,
                       GError      **error)
{
  GridLayout layout;
  gsize dim = (gsize) side * side * channels;
  cairo_surface_t *surface;
  guchar *data;
  int stride;

  g_return_val_if_fail (images != NULL || n == 0, NULL);
  if (!grid_layout (n, side, channels, columns, scale, &layout, error) ||
      !check_finite (images, n * dim, error))
    return NULL;
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, layout.width, layout.height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "image grid: cannot create a %d x %d surface: %s",
                   layout.width, layout.height,
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return NULL;
    }
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  cairo_surface_flush (surface);
  for (int y = 0; y < layout.height; y++)
    for (int x = 0; x < layout.width; x++)
      ((guint32 *) (data + (gsize) y * stride))[x] = GUTTER_RGB;
  for (gsize i = 0; i < n; i++)
    draw_image (data, stride, &layout, images + i * dim, i);
  cairo_surface_mark_dirty (surface);
  return surface;
}

static cairo_status_t
append_bytes (void                *closure,
              const unsigned char *data,
              unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean
epd_image_grid_save_png (const double *images,
                         gsize         n,
                         guint         side,
                         guint         channels,
                         guint         columns,
                         guint         scale,
                         const char   *path,
                         GError      **error)
{
  cairo_surface_t *surface;
  g_autoptr(GByteArray) png = g_byte_array_new ();
  cairo_status_t status;

  g_return_val_if_fail (path != NULL, FALSE);
  surface = epd_image_grid_render (images, n, side, channels, columns, scale, error);
  if (surface == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  status = cairo_surface_write_to_png_stream (surface, append_bytes, png);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot encode the PNG: %s",
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  if (!epd_file_write_atomic (path, (const char *) png->data, png->len, error))
    return FALSE;
  return TRUE;
}
