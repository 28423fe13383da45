/* SPDX-License-Identifier: MIT */
/* epd-dataset.c: image datasets from idx files and PNG folders. */
#include "epd-dataset.h"

#include <cairo.h>
#include <gio/gio.h>
#include <string.h>

#include "epd-file.h"

#define FASHION_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define IDX_TYPE_U8 0x08
/* Bounds that keep every size product far from overflow. */
#define IDX_MAX_SIDE 4096
#define IDX_MAX_COUNT G_MAXINT32
/* Source PNGs: files and decoded images (64 Mpixel = 256 MiB as ARGB). */
#define PNG_MAX_BYTES ((gsize) 64 << 20)
#define PNG_MAX_PIXELS ((guint64) 64 << 20)

struct _EpdDataset
{
  char   *name;
  gsize   n;
  guint   side;
  guint   channels;
  guint   dim;
  float  *pixels;
  guint8 *labels;
  guint   n_classes;
  char  **class_names;
};

static const char *const fashion_classes[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", NULL,
};

static void
dataset_clear (gpointer data)
{
  EpdDataset *self = data;

  g_free (self->name);
  g_free (self->pixels);
  g_free (self->labels);
  g_strfreev (self->class_names);
}

/* Takes pixels and labels. */
static EpdDataset *
dataset_new_take (const char *name,
                  float      *pixels,
                  guint8     *labels,
                  gsize       n,
                  guint       side,
                  guint       channels)
{
  EpdDataset *self = g_atomic_rc_box_new0 (EpdDataset);

  self->name = g_strdup (name);
  self->pixels = pixels;
  self->labels = labels;
  self->n = n;
  self->side = side;
  self->channels = channels;
  self->dim = side * side * channels;
  for (gsize i = 0; labels != NULL && i < n; i++)
    self->n_classes = MAX (self->n_classes, (guint) labels[i] + 1);
  return self;
}

EpdDataset *
epd_dataset_ref (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_atomic_rc_box_acquire (self);
}

void
epd_dataset_unref (EpdDataset *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_rc_box_release_full (self, dataset_clear);
}

const char *
epd_dataset_fashion_mnist_dir (void)
{
  const char *dir = g_getenv ("EPD_FASHION_MNIST_DIR");

  return dir != NULL && *dir != '\0' ? dir : FASHION_MNIST_DEFAULT_DIR;
}

const char *const *
epd_dataset_fashion_mnist_classes (void)
{
  return fashion_classes;
}

/* ---- subsets ------------------------------------------------------------ */

static gsize *
select_per_class (const guint8 *labels,
                  gsize         n,
                  guint         per_class,
                  gsize        *count,
                  GError      **error)
{
  guint n_classes = 0;
  g_autofree guint *taken = NULL;
  g_autofree gsize *indices = NULL;
  gsize k = 0;

  for (gsize i = 0; i < n; i++)
    n_classes = MAX (n_classes, (guint) labels[i] + 1);
  taken = g_new0 (guint, n_classes);
  indices = g_new (gsize, MIN (n, (gsize) n_classes * per_class));
  for (gsize i = 0; i < n && k < (gsize) n_classes * per_class; i++)
    if (taken[labels[i]] < per_class)
      {
        taken[labels[i]]++;
        indices[k++] = i;
      }
  for (guint c = 0; c < n_classes; c++)
    if (taken[c] < per_class)
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                     "class %u has %u images, fewer than the %u per class asked for",
                     c, taken[c], per_class);
        return NULL;
      }
  *count = k;
  return g_steal_pointer (&indices);
}

/* The images a subset keeps, in file order. */
typedef struct
{
  gsize  count;
  gsize *indices; /* NULL: the first count images */
} Selection;

static void
selection_clear (Selection *sel)
{
  g_clear_pointer (&sel->indices, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Selection, selection_clear)

static gsize
selection_at (const Selection *sel,
              gsize            k)
{
  return sel->indices != NULL ? sel->indices[k] : k;
}

static gboolean
select_images (const guint8           *labels,
               gsize                   n,
               const EpdDatasetSubset *subset,
               Selection              *sel,
               GError                **error)
{
  sel->count = n;
  if (subset != NULL && subset->per_class > 0)
    {
      if (labels == NULL)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "a per-class subset needs labels, and this dataset has none");
          return FALSE;
        }
      sel->indices = select_per_class (labels, n, subset->per_class, &sel->count, error);
      return sel->indices != NULL;
    }
  if (subset != NULL && subset->first_n > n)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "asked for the first %" G_GSIZE_FORMAT " images of %" G_GSIZE_FORMAT,
                   subset->first_n, n);
      return FALSE;
    }
  if (subset != NULL && subset->first_n > 0)
    sel->count = subset->first_n;
  return TRUE;
}

EpdDataset *
epd_dataset_subset (EpdDataset             *self,
                    const EpdDatasetSubset *subset,
                    GError                **error)
{
  g_auto(Selection) sel = { 0 };
  float *pixels;
  guint8 *labels = NULL;
  EpdDataset *out;

  g_return_val_if_fail (self != NULL, NULL);
  if (!select_images (self->labels, self->n, subset, &sel, error))
    {
      g_prefix_error (error, "%s: ", self->name);
      return NULL;
    }
  pixels = g_new (float, sel.count * self->dim);
  if (self->labels != NULL)
    labels = g_new (guint8, sel.count);
  for (gsize k = 0; k < sel.count; k++)
    {
      gsize i = selection_at (&sel, k);

      memcpy (pixels + k * self->dim, self->pixels + i * self->dim, self->dim * sizeof (float));
      if (labels != NULL)
        labels[k] = self->labels[i];
    }
  out = dataset_new_take (self->name, pixels, labels, sel.count, self->side, self->channels);
  out->n_classes = self->n_classes;
  out->class_names = g_strdupv (self->class_names);
  return out;
}

EpdDataset *
epd_dataset_new_from_data (const char   *name,
                           const float  *pixels,
                           const guint8 *labels,
                           gsize         n,
                           guint         side,
                           guint         channels,
                           GError      **error)
{
  gsize total = n * side * side * channels;

  g_return_val_if_fail (pixels != NULL || n == 0, NULL);
  if (n == 0 || side == 0 || (channels != 1 && channels != 3))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: a dataset needs n > 0, side > 0 and 1 or 3 channels "
                   "(got %" G_GSIZE_FORMAT ", %u, %u)", name, n, side, channels);
      return NULL;
    }
  for (gsize i = 0; i < total; i++)
    if (!(pixels[i] >= -1.0f && pixels[i] <= 1.0f))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "%s: pixel %" G_GSIZE_FORMAT " is %g, outside [-1, 1]",
                     name, i, (double) pixels[i]);
        return NULL;
      }
  return dataset_new_take (name, g_memdup2 (pixels, total * sizeof (float)),
                           labels != NULL ? g_memdup2 (labels, n) : NULL,
                           n, side, channels);
}

/* ---- idx files ---------------------------------------------------------- */

typedef struct
{
  const char   *path;
  GInputStream *stream;
  guint         ndims;
  guint32       dims[3];
} IdxReader;

static void
idx_reader_clear (IdxReader *reader)
{
  g_clear_object (&reader->stream);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IdxReader, idx_reader_clear)

/* Reads exactly size bytes, or says what went wrong with the file. */
static gboolean
idx_read (IdxReader  *reader,
          void       *buffer,
          gsize       size,
          const char *what,
          GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all (reader->stream, buffer, size, &got, NULL, &local_error))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: corrupt data while reading %s: %s",
                   reader->path, what, local_error->message);
      return FALSE;
    }
  if (got < size)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: truncated: %s needs %" G_GSIZE_FORMAT " bytes, the file has %" G_GSIZE_FORMAT,
                   reader->path, what, size, got);
      return FALSE;
    }
  return TRUE;
}

static gboolean
idx_open_stream (IdxReader  *reader,
                 GError    **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (reader->path);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GFileInputStream) raw = NULL;

  /* Streamed with memory that follows the data, but a FIFO would block. */
  if (!epd_file_check_regular (reader->path, error))
    return FALSE;
  raw = g_file_read (file, NULL, &local_error);
  if (raw == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot open: %s",
                   reader->path, local_error->message);
      return FALSE;
    }
  if (g_str_has_suffix (reader->path, ".gz"))
    {
      g_autoptr(GZlibDecompressor) gunzip =
        g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);

      reader->stream = g_converter_input_stream_new (G_INPUT_STREAM (raw),
                                                     G_CONVERTER (gunzip));
    }
  else
    reader->stream = G_INPUT_STREAM (g_steal_pointer (&raw));
  return TRUE;
}

/* Opens path and checks the idx header: unsigned bytes, ndims dimensions. */
static gboolean
idx_open (IdxReader  *reader,
          const char *path,
          guint       ndims,
          GError    **error)
{
  guint8 magic[4];
  guint8 dims[3 * 4];

  reader->path = path;
  if (!idx_open_stream (reader, error) || !idx_read (reader, magic, 4, "the header", error))
    return FALSE;
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != IDX_TYPE_U8 || magic[3] != ndims)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: bad idx magic %02x %02x %02x %02x (expected 00 00 08 %02x: "
                   "unsigned bytes in %u dimensions)",
                   path, magic[0], magic[1], magic[2], magic[3], ndims, ndims);
      return FALSE;
    }
  if (!idx_read (reader, dims, 4 * ndims, "the dimensions", error))
    return FALSE;
  reader->ndims = ndims;
  for (guint k = 0; k < ndims; k++)
    {
      guint32 be;

      memcpy (&be, dims + 4 * k, 4);
      reader->dims[k] = GUINT32_FROM_BE (be);
    }
  return TRUE;
}

/* Grows a buffer of items by doubling from 64 items or 1 MiB, up to max: memory
 * follows the data actually read, whatever count a corrupt header promises
 * (64 items of 4096 x 4096 floats would be 4 GiB before the first image). */
static gpointer
grow (gpointer data,
      gsize   *capacity,
      gsize    max,
      gsize    item_size)
{
  gsize first = MAX (1, MIN (64, ((gsize) 1 << 20) / item_size));

  *capacity = MIN (max, MAX (first, 2 * *capacity));
  return g_realloc_n (data, *capacity, item_size);
}

static guint8 *
idx_read_labels (const char *path,
                 gsize      *n,
                 GError    **error)
{
  g_auto(IdxReader) reader = { 0 };
  g_autofree guint8 *labels = NULL;
  gsize capacity = 0;

  if (!idx_open (&reader, path, 1, error))
    return NULL;
  if (reader.dims[0] == 0 || reader.dims[0] > IDX_MAX_COUNT)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: bad label count %u",
                   path, reader.dims[0]);
      return NULL;
    }
  *n = reader.dims[0];
  for (gsize done = 0; done < *n; done = capacity)
    {
      g_autofree char *what = NULL;

      labels = grow (labels, &capacity, *n, 1);
      what = g_strdup_printf ("labels %" G_GSIZE_FORMAT "..%" G_GSIZE_FORMAT, done, capacity - 1);
      if (!idx_read (&reader, labels + done, capacity - done, what, error))
        return NULL;
    }
  return g_steal_pointer (&labels);
}

static gboolean
idx_check_images (IdxReader  *reader,
                  gsize       n_labels,
                  GError    **error)
{
  guint32 n = reader->dims[0], rows = reader->dims[1], cols = reader->dims[2];

  if (n == 0 || n > IDX_MAX_COUNT || rows == 0 || rows > IDX_MAX_SIDE || rows != cols)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: images of %u x %u x %u: need n > 0 and square images up to %u pixels",
                   reader->path, n, rows, cols, IDX_MAX_SIDE);
      return FALSE;
    }
  if (n_labels != 0 && n_labels != n)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: %u images, but the label file has %" G_GSIZE_FORMAT " labels",
                   reader->path, n, n_labels);
      return FALSE;
    }
  return TRUE;
}

/* Streams the images, converting the selected ones to [-1, 1]. */
static float *
idx_read_images (IdxReader       *reader,
                 const Selection *sel,
                 GError         **error)
{
  gsize dim = (gsize) reader->dims[1] * reader->dims[2];
  g_autofree guint8 *image = g_new (guint8, dim);
  g_autofree float *pixels = NULL;
  gsize next = 0, capacity = 0;

  for (gsize i = 0; next < sel->count; i++)
    {
      g_autofree char *what = g_strdup_printf ("image %" G_GSIZE_FORMAT, i);

      if (!idx_read (reader, image, dim, what, error))
        return NULL;
      if (selection_at (sel, next) != i)
        continue;
      if (next == capacity)
        pixels = grow (pixels, &capacity, sel->count, dim * sizeof (float));
      for (gsize j = 0; j < dim; j++)
        pixels[next * dim + j] = (float) (image[j] / 127.5 - 1.0);
      next++;
    }
  return g_steal_pointer (&pixels);
}

EpdDataset *
epd_dataset_load_idx (const char             *images_path,
                      const char             *labels_path,
                      const EpdDatasetSubset *subset,
                      GError                **error)
{
  g_auto(IdxReader) reader = { 0 };
  g_autofree guint8 *labels = NULL;
  g_auto(Selection) sel = { 0 };
  g_autofree guint8 *kept_labels = NULL;
  gsize n_labels = 0;
  float *pixels;

  g_return_val_if_fail (images_path != NULL, NULL);
  if (labels_path != NULL && (labels = idx_read_labels (labels_path, &n_labels, error)) == NULL)
    return NULL;
  if (!idx_open (&reader, images_path, 3, error) || !idx_check_images (&reader, n_labels, error))
    return NULL;
  if (!select_images (labels, reader.dims[0], subset, &sel, error))
    {
      g_prefix_error (error, "%s: ", images_path);
      return NULL;
    }
  pixels = idx_read_images (&reader, &sel, error);
  if (pixels == NULL)
    return NULL;
  if (labels != NULL)
    {
      kept_labels = g_new (guint8, sel.count);
      for (gsize k = 0; k < sel.count; k++)
        kept_labels[k] = labels[selection_at (&sel, k)];
    }
  return dataset_new_take (images_path, pixels, g_steal_pointer (&kept_labels),
                           sel.count, reader.dims[1], 1);
}

EpdDataset *
epd_dataset_load_fashion_mnist (EpdDatasetSplit         split,
                                const EpdDatasetSubset *subset,
                                GError                **error)
{
  const char *dir = epd_dataset_fashion_mnist_dir ();
  const char *prefix = split == EPD_DATASET_SPLIT_TEST ? "t10k" : "train";
  g_autofree char *images_name = g_strdup_printf ("%s-images-idx3-ubyte.gz", prefix);
  g_autofree char *labels_name = g_strdup_printf ("%s-labels-idx1-ubyte.gz", prefix);
  g_autofree char *images = g_build_filename (dir, images_name, NULL);
  g_autofree char *labels = g_build_filename (dir, labels_name, NULL);
  EpdDataset *self = epd_dataset_load_idx (images, labels, subset, error);

  if (self == NULL)
    return NULL;
  if (self->n_classes > G_N_ELEMENTS (fashion_classes) - 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: label %u is outside Fashion-MNIST's classes 0..9",
                   labels, self->n_classes - 1);
      epd_dataset_unref (self);
      return NULL;
    }
  g_free (self->name);
  self->name = g_strdup_printf ("fashion-mnist:%s", prefix);
  self->n_classes = G_N_ELEMENTS (fashion_classes) - 1;
  self->class_names = g_strdupv ((char **) fashion_classes);
  return self;
}

/* ---- PNG folders -------------------------------------------------------- */

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char **
png_dir_list (const char *dir,
              GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) gdir = g_dir_open (dir, 0, &local_error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (gdir == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot open the folder: %s",
                   dir, local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      g_autofree char *lower = g_ascii_strdown (name, -1);

      if (g_str_has_suffix (lower, ".png"))
        g_ptr_array_add (names, g_build_filename (dir, name, NULL));
    }
  if (names->len == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "%s: no PNG images in the folder", dir);
      return NULL;
    }
  g_ptr_array_sort (names, compare_paths);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* The center square of image, scaled to side x side over black. */
static cairo_surface_t *
png_crop_resize (cairo_surface_t *image,
                 guint            side)
{
  int w = cairo_image_surface_get_width (image);
  int h = cairo_image_surface_get_height (image);
  int square = MIN (w, h);
  cairo_surface_t *out = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, side, side);
  cairo_t *cr = cairo_create (out);

  cairo_scale (cr, (double) side / square, (double) side / square);
  cairo_set_source_surface (cr, image, -(w - square) / 2.0, -(h - square) / 2.0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  /* Pad, so the scaling filter does not pull transparent black in at the edges. */
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_rectangle (cr, 0, 0, square, square);
  cairo_fill (cr);
  cairo_destroy (cr);
  cairo_surface_flush (out);
  return out;
}

/* Premultiplied ARGB over black is just the RGB bytes. */
static void
png_to_pixels (cairo_surface_t *surface,
               guint            side,
               guint            channels,
               float           *out)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  for (guint y = 0; y < side; y++)
    for (guint x = 0; x < side; x++)
      {
        guint32 px = ((const guint32 *) (data + (gsize) y * stride))[x];
        double rgb[3] = { (px >> 16) & 0xff, (px >> 8) & 0xff, px & 0xff };
        float *dst = out + ((gsize) y * side + x) * channels;

        if (channels == 1)
          dst[0] = (float) ((0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 127.5 - 1.0);
        else
          for (guint c = 0; c < 3; c++)
            dst[c] = (float) (rgb[c] / 127.5 - 1.0);
      }
}

typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
} PngBytes;

static cairo_status_t
png_read_bytes (void          *closure,
                unsigned char *out,
                unsigned int   length)
{
  PngBytes *png = closure;

  if (length > png->len - png->pos)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (out, png->data + png->pos, length);
  png->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

/* A few KiB of PNG can promise a 32767 x 32767 image that Cairo would
 * allocate (4 GiB): check the IHDR size before decoding. */
static gboolean
png_check_size (const char   *path,
                const guint8 *data,
                gsize         len,
                GError      **error)
{
  guint32 width, height;

  if (len < 24 || memcmp (data + 12, "IHDR", 4) != 0)
    return TRUE;  /* not a PNG: Cairo says so */
  memcpy (&width, data + 16, 4);
  memcpy (&height, data + 20, 4);
  width = GUINT32_FROM_BE (width);
  height = GUINT32_FROM_BE (height);
  if ((guint64) width * height <= PNG_MAX_PIXELS)
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "%s: a PNG of %u x %u pixels is larger than the %u megapixels this loader decodes",
               path, width, height, (guint) (PNG_MAX_PIXELS >> 20));
  return FALSE;
}

/* libpng allocates what a chunk's length field declares before reading it
 * (236 bytes of PNG can declare a 2 GB tEXt): every chunk must fit in the
 * bytes that follow it, which bounds what libpng allocates by the file size. */
static gboolean
png_check_chunks (const char   *path,
                  const guint8 *data,
                  gsize         len,
                  GError      **error)
{
  gsize pos = 8;

  if (len < 8 || memcmp (data, "\x89PNG\r\n\x1a\n", 8) != 0)
    return TRUE;  /* not a PNG: Cairo says so */
  while (len - pos >= 12)
    {
      guint32 length;

      memcpy (&length, data + pos, 4);
      length = GUINT32_FROM_BE (length);
      if (length > len - pos - 12)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                       "%s: a PNG chunk declares %u bytes, but only %" G_GSIZE_FORMAT " follow it",
                       path, length, len - pos - 12);
          return FALSE;
        }
      if (memcmp (data + pos + 4, "IEND", 4) == 0)
        break;
      pos += 12 + (gsize) length;
    }
  return TRUE;
}

static gboolean
png_load_one (const char *path,
              guint       side,
              guint       channels,
              float      *out,
              GError    **error)
{
  g_autofree char *contents = NULL;
  PngBytes png = { 0 };
  cairo_surface_t *image, *square;
  cairo_status_t status;

  /* Regular files only (a FIFO named *.png would block), of bounded size. */
  if (!epd_file_read_capped (path, PNG_MAX_BYTES, &contents, &png.len, error) ||
      !png_check_size (path, (const guint8 *) contents, png.len, error) ||
      !png_check_chunks (path, (const guint8 *) contents, png.len, error))
    return FALSE;
  png.data = (const guint8 *) contents;
  image = cairo_image_surface_create_from_png_stream (png_read_bytes, &png);
  status = cairo_surface_status (image);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: cannot read the PNG (corrupt or not a PNG; Cairo says: %s)",
                   path, cairo_status_to_string (status));
      cairo_surface_destroy (image);
      return FALSE;
    }
  square = png_crop_resize (image, side);
  png_to_pixels (square, side, channels, out);
  cairo_surface_destroy (square);
  cairo_surface_destroy (image);
  return TRUE;
}

EpdDataset *
epd_dataset_load_png_dir (const char *dir,
                          guint       side,
                          guint       channels,
                          GError    **error)
{
  g_auto(GStrv) paths = NULL;
  g_autofree float *pixels = NULL;
  gsize n, dim = (gsize) side * side * channels;

  g_return_val_if_fail (dir != NULL, NULL);
  if (side == 0 || side > IDX_MAX_SIDE || (channels != 1 && channels != 3))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "%s: images need a side in 1..%u and 1 or 3 channels (got %u, %u)",
                   dir, IDX_MAX_SIDE, side, channels);
      return NULL;
    }
  if ((paths = png_dir_list (dir, error)) == NULL)
    return NULL;
  n = g_strv_length (paths);
  {
    g_autofree char *what = g_strdup_printf ("%s: %" G_GSIZE_FORMAT " images of %u x %u x %u",
                                             dir, n, side, side, channels);

    /* The floats here, and the float64 copy the empirical denoiser makes. */
    if (!epd_memory_check (what, (guint64) n * dim, sizeof (float) + sizeof (double), error))
      return NULL;
  }
  pixels = g_new (float, n * dim);
  for (gsize i = 0; i < n; i++)
    if (!png_load_one (paths[i], side, channels, pixels + i * dim, error))
      return NULL;
  return dataset_new_take (dir, g_steal_pointer (&pixels), NULL, n, side, channels);
}

/* ---- getters ------------------------------------------------------------ */

const char *
epd_dataset_get_name (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

gsize
epd_dataset_get_n (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n;
}

guint
epd_dataset_get_side (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->side;
}

guint
epd_dataset_get_channels (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->channels;
}

guint
epd_dataset_get_dim (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->dim;
}

const float *
epd_dataset_get_pixels (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->pixels;
}

const float *
epd_dataset_get_image (EpdDataset *self,
                       gsize       index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n, NULL);
  return self->pixels + index * self->dim;
}

const guint8 *
epd_dataset_get_labels (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->labels;
}

guint
epd_dataset_get_n_classes (EpdDataset *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_classes;
}

const char *
epd_dataset_get_class_name (EpdDataset *self,
                            guint       klass)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (self->class_names == NULL || klass >= g_strv_length (self->class_names))
    return NULL;
  return self->class_names[klass];
}
