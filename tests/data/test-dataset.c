/* SPDX-License-Identifier: MIT */
/* test-dataset.c: idx and PNG-folder loaders on files the test writes itself,
 * their errors, subsets, and the real Fashion-MNIST files when installed. */
#include "epd-dataset.h"
#include "test-data-util.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_IMAGES 12
#define SIDE 4

/* Labels with 4 zeros, 4 ones, 4 twos, not in order. */
static const guint8 test_labels[N_IMAGES] = { 0, 0, 0, 1, 2, 1, 2, 0, 1, 2, 2, 1 };

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("epd-test-dataset-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->dir);
}

static char *
write_images (Fixture *f, const char *name, guint32 n, gboolean gzip)
{
  g_autofree guint8 *pixels = g_new (guint8, (gsize) n * SIDE * SIDE);
  guint32 dims[3] = { n, SIDE, SIDE };
  char *path = g_build_filename (f->dir, name, NULL);

  for (gsize i = 0; i < (gsize) n * SIDE * SIDE; i++)
    pixels[i] = (guint8) (i * 5 % 256);
  test_write_idx (path, pixels, dims, 3, gzip);
  return path;
}

static char *
write_labels (Fixture *f, const char *name, guint32 n)
{
  char *path = g_build_filename (f->dir, name, NULL);

  test_write_idx (path, test_labels, &n, 1, TRUE);
  return path;
}

static void
assert_pixel_bytes (EpdDataset *ds, const gsize *source_index)
{
  for (gsize k = 0; k < epd_dataset_get_n (ds); k++)
    for (gsize j = 0; j < SIDE * SIDE; j++)
      {
        guint8 byte = (guint8) ((source_index[k] * SIDE * SIDE + j) * 5 % 256);

        g_assert_cmpfloat (epd_dataset_get_image (ds, k)[j], ==, (float) (byte / 127.5 - 1.0));
      }
}

static void
test_idx_load (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.gz", N_IMAGES, TRUE);
  g_autofree char *labels = write_labels (f, "lab.gz", N_IMAGES);
  g_autoptr(EpdDataset) ds = epd_dataset_load_idx (images, labels, NULL, &error);
  gsize all[N_IMAGES];

  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (ds), ==, N_IMAGES);
  g_assert_cmpuint (epd_dataset_get_side (ds), ==, SIDE);
  g_assert_cmpuint (epd_dataset_get_channels (ds), ==, 1);
  g_assert_cmpuint (epd_dataset_get_dim (ds), ==, SIDE * SIDE);
  g_assert_cmpuint (epd_dataset_get_n_classes (ds), ==, 3);
  g_assert_cmpmem (epd_dataset_get_labels (ds), N_IMAGES, test_labels, N_IMAGES);
  for (gsize i = 0; i < N_IMAGES; i++)
    all[i] = i;
  assert_pixel_bytes (ds, all);
  /* byte 0 -> -1 and byte 255 (pixel 51) -> +1 exactly */
  g_assert_cmpfloat (epd_dataset_get_pixels (ds)[0], ==, -1.0f);
  g_assert_cmpfloat (epd_dataset_get_pixels (ds)[51], ==, 1.0f);
}

static void
test_idx_raw (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.idx3", N_IMAGES, FALSE);
  g_autoptr(EpdDataset) ds = epd_dataset_load_idx (images, NULL, NULL, &error);
  gsize all[N_IMAGES];

  g_assert_no_error (error);
  g_assert_null (epd_dataset_get_labels (ds));
  g_assert_cmpuint (epd_dataset_get_n_classes (ds), ==, 0);
  for (gsize i = 0; i < N_IMAGES; i++)
    all[i] = i;
  assert_pixel_bytes (ds, all);
}

static void
test_idx_subsets (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.gz", N_IMAGES, TRUE);
  g_autofree char *labels = write_labels (f, "lab.gz", N_IMAGES);
  EpdDatasetSubset first = { .first_n = 5 };
  EpdDatasetSubset per_class = { .per_class = 2 };
  EpdDatasetSubset too_many = { .per_class = 5 };
  static const gsize first_index[] = { 0, 1, 2, 3, 4 };
  static const gsize class_index[] = { 0, 1, 3, 4, 5, 6 };
  static const guint8 class_labels[] = { 0, 0, 1, 2, 1, 2 };
  g_autoptr(EpdDataset) a = epd_dataset_load_idx (images, labels, &first, &error);
  g_autoptr(EpdDataset) b = NULL;
  g_autoptr(EpdDataset) c = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (a), ==, 5);
  assert_pixel_bytes (a, first_index);
  b = epd_dataset_load_idx (images, labels, &per_class, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (b), ==, 6);
  assert_pixel_bytes (b, class_index);
  g_assert_cmpmem (epd_dataset_get_labels (b), 6, class_labels, 6);
  /* subsets of a loaded dataset pick the same images */
  c = epd_dataset_subset (b, &first, &error);
  g_assert_no_error (error);
  assert_pixel_bytes (c, class_index);
  g_clear_pointer (&c, epd_dataset_unref);
  /* the first 3 lack class 2, yet the class count stays the parent's */
  first.first_n = 3;
  c = epd_dataset_subset (b, &first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (c), ==, 3);
  g_assert_cmpuint (epd_dataset_get_n_classes (c), ==, 3);
  g_assert_null (epd_dataset_load_idx (images, labels, &too_many, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "class 0 has 4 images"));
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_idx (images, NULL, &per_class, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

static void
assert_error_names (GError *error, int code, const char *path, const char *words)
{
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_idx_corrupt (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.gz", N_IMAGES, TRUE);
  g_autofree char *labels = write_labels (f, "lab.gz", N_IMAGES);
  g_autofree char *labels_short = write_labels (f, "short-lab.gz", N_IMAGES - 1);
  g_autofree char *bad_magic = g_build_filename (f->dir, "magic.gz", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing.gz", NULL);
  guint8 zero[SIDE * SIDE] = { 0 };
  guint32 dims2[2] = { 1, SIDE * SIDE };

  /* labels given as images: wrong number of dimensions */
  g_assert_null (epd_dataset_load_idx (labels, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, labels, "bad idx magic");
  g_clear_error (&error);
  test_write_idx (bad_magic, zero, dims2, 2, TRUE);
  g_assert_null (epd_dataset_load_idx (bad_magic, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, bad_magic, "bad idx magic");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_idx (images, labels_short, NULL, &error));
  assert_error_names (error, EPD_ERROR_SHAPE, images, "11 labels");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_idx (missing, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_IO, missing, "cannot open");
}

/* A header promising 2^31 - 1 images of 4096 x 4096 (256 TiB) with 4 bytes of data. */
static void
test_idx_huge_header (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  static const guint8 header[] = { 0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0x10, 0,
                                   0, 0, 0x10, 0, 1, 2, 3, 4 };
  g_autofree char *path = g_build_filename (f->dir, "huge.idx3", NULL);

  test_write_raw (path, header, sizeof header);
  g_assert_null (epd_dataset_load_idx (path, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, path, "truncated: image 0 needs 16777216 bytes, the file has 4");
}

/* 1000 images of 4096 x 4096 promised, one there: the loader reserved
 * 64 images (4 GiB) before reading the first. Under a 1 GiB address space
 * limit it must still say "truncated" rather than abort on allocation. */
static void
test_idx_huge_images (void)
{
  /* The child runs this function again: the parent's pid names the file. */
  g_autofree char *name = g_strdup_printf ("epd-test-idx-huge-%d.gz",
                                           (int) (g_test_subprocess () ? getppid () : getpid ()));
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), name, NULL);

#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("AddressSanitizer reserves more address space than the limit");
  return;
#endif
  if (!g_test_subprocess ())
    {
      g_autofree guint8 *image = g_new0 (guint8, 4096 * 4096);
      g_autoptr(GBytes) idx = NULL;
      g_autoptr(GBytes) gz = NULL;
      guint32 dims[3] = { 1, 4096, 4096 };
      guint8 *header;
      gsize len;

      idx = test_idx_bytes (image, dims, 3);
      header = g_bytes_unref_to_data (g_steal_pointer (&idx), &len);
      header[7] = 0xe8;  /* n = 1000 (0x3e8) */
      header[6] = 0x03;
      idx = g_bytes_new_take (header, len);
      gz = test_gzip (idx);
      test_write_raw (path, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_unlink (path);
      g_test_trap_assert_passed ();
      return;
    }
  {
    struct rlimit limit = { (rlim_t) 1 << 30, (rlim_t) 1 << 30 };
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);
    g_assert_null (epd_dataset_load_idx (path, NULL, NULL, &error));
    assert_error_names (error, EPD_ERROR_PARSE, path, "truncated: image 1 needs 16777216 bytes, the file has 0");
  }
}

/* Labels promising 2^31 - 1 entries and holding 100. */
static void
test_idx_short_labels (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.gz", N_IMAGES, TRUE);
  g_autofree char *path = g_build_filename (f->dir, "labels.idx1", NULL);
  guint8 bytes[8 + 100] = { 0, 0, 8, 1, 0x7f, 0xff, 0xff, 0xff };

  test_write_raw (path, bytes, sizeof bytes);
  g_assert_null (epd_dataset_load_idx (images, path, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, path, "truncated: labels 64..127 needs 64 bytes, the file has 36");
}

/* A file whose header promises N_IMAGES images, holding 9.5 of them. */
static void
test_idx_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 pixels[N_IMAGES * SIDE * SIDE] = { 0 };
  guint32 dims[3] = { N_IMAGES, SIDE, SIDE };
  g_autoptr(GBytes) full = test_idx_bytes (pixels, dims, 3);
  g_autoptr(GBytes) cut = g_bytes_new_from_bytes (full, 0, 16 + 9 * SIDE * SIDE + SIDE);
  g_autoptr(GBytes) cut_gz = test_gzip (cut);
  g_autofree char *raw_path = g_build_filename (f->dir, "cut.idx3", NULL);
  g_autofree char *gz_path = g_build_filename (f->dir, "cut.gz", NULL);

  test_write_raw (raw_path, g_bytes_get_data (cut, NULL), g_bytes_get_size (cut));
  g_assert_null (epd_dataset_load_idx (raw_path, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, raw_path, "truncated: image 9 needs 16 bytes, the file has 4");
  g_clear_error (&error);
  test_write_raw (gz_path, g_bytes_get_data (cut_gz, NULL), g_bytes_get_size (cut_gz));
  g_assert_null (epd_dataset_load_idx (gz_path, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, gz_path, "truncated");
  /* a subset that ends before the cut still loads */
  g_clear_error (&error);
  {
    EpdDatasetSubset first = { .first_n = 9 };
    g_autoptr(EpdDataset) ds = epd_dataset_load_idx (gz_path, NULL, &first, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (epd_dataset_get_n (ds), ==, 9);
  }
}

static void
test_idx_bad_gzip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 pixels[N_IMAGES * SIDE * SIDE] = { 0 };
  guint32 dims[3] = { N_IMAGES, SIDE, SIDE };
  g_autoptr(GBytes) full = test_idx_bytes (pixels, dims, 3);
  g_autoptr(GBytes) gz = test_gzip (full);
  g_autofree guint8 *broken = g_memdup2 (g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
  g_autofree char *garbage = g_build_filename (f->dir, "garbage.gz", NULL);
  g_autofree char *cut = g_build_filename (f->dir, "cut-stream.gz", NULL);
  g_autofree char *flipped = g_build_filename (f->dir, "flipped.gz", NULL);

  test_write_raw (garbage, (const guint8 *) "this is not gzip data at all", 28);
  g_assert_null (epd_dataset_load_idx (garbage, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, garbage, "corrupt data");
  g_clear_error (&error);
  /* the gzip stream itself cut short */
  test_write_raw (cut, broken, g_bytes_get_size (gz) / 2);
  g_assert_null (epd_dataset_load_idx (cut, NULL, NULL, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, cut));
  g_clear_error (&error);
  /* a damaged deflate body (past the 10-byte gzip header) */
  for (gsize i = 12; i < g_bytes_get_size (gz) - 8; i++)
    broken[i] ^= 0x5a;
  test_write_raw (flipped, broken, g_bytes_get_size (gz));
  g_assert_null (epd_dataset_load_idx (flipped, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, flipped, "corrupt data");
}

static void
test_fashion_env (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) ds = NULL;
  guint8 bad_labels[N_IMAGES];

  test_write_fashion_dir (f->dir, test_labels, N_IMAGES, SIDE);
  g_setenv ("EPD_FASHION_MNIST_DIR", f->dir, TRUE);
  g_assert_cmpstr (epd_dataset_fashion_mnist_dir (), ==, f->dir);
  ds = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (epd_dataset_get_name (ds), ==, "fashion-mnist:t10k");
  g_assert_cmpuint (epd_dataset_get_n (ds), ==, N_IMAGES);
  g_assert_cmpuint (epd_dataset_get_n_classes (ds), ==, 10);
  g_assert_cmpstr (epd_dataset_get_class_name (ds, 0), ==, "T-shirt/top");
  g_assert_cmpstr (epd_dataset_get_class_name (ds, 9), ==, "Ankle boot");
  g_assert_null (epd_dataset_get_class_name (ds, 10));
  /* pixel (i, j) = (7 i + 3 j) mod 256 */
  g_assert_cmpfloat (epd_dataset_get_image (ds, 5)[2], ==, (float) (41 / 127.5 - 1.0));
  /* a label outside 0..9 */
  memcpy (bad_labels, test_labels, N_IMAGES);
  bad_labels[7] = 10;
  test_write_fashion_dir (f->dir, bad_labels, N_IMAGES, SIDE);
  g_assert_null (epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, NULL, &error));
  assert_error_names (error, EPD_ERROR_PARSE, "train-labels-idx1-ubyte.gz", "label 10");
  g_unsetenv ("EPD_FASHION_MNIST_DIR");
}

/* The installed package's test split, when it is there. */
static void
test_fashion_real (void)
{
  g_autoptr(GError) error = NULL;
  EpdDatasetSubset first = { .first_n = 100 };
  g_autoptr(EpdDataset) ds = NULL;
  g_autofree char *path = NULL;
  guint seen = 0;

  g_unsetenv ("EPD_FASHION_MNIST_DIR");
  path = g_build_filename (epd_dataset_fashion_mnist_dir (), "t10k-images-idx3-ubyte.gz", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  ds = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, &first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (ds), ==, 100);
  g_assert_cmpuint (epd_dataset_get_side (ds), ==, 28);
  for (gsize i = 0; i < 100; i++)
    {
      g_assert_cmpuint (epd_dataset_get_labels (ds)[i], <=, 9);
      seen |= 1u << epd_dataset_get_labels (ds)[i];
    }
  g_assert_cmpuint (seen, ==, 0x3ff); /* all ten classes among the first 100 */
  for (gsize j = 0; j < 100 * 784; j++)
    {
      g_assert_cmpfloat (epd_dataset_get_pixels (ds)[j], >=, -1.0f);
      g_assert_cmpfloat (epd_dataset_get_pixels (ds)[j], <=, 1.0f);
    }
}

/* ---- PNG folders ---------------------------------------------------------- */

typedef struct { double r, g, b; int x, width; } Band;

/* A width x height PNG of vertical colour bands. */
static void
write_png (const char *path, int width, int height, const Band *bands, guint n_bands)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);

  for (guint k = 0; k < n_bands; k++)
    {
      cairo_set_source_rgb (cr, bands[k].r, bands[k].g, bands[k].b);
      cairo_rectangle (cr, bands[k].x, 0, bands[k].width, height);
      cairo_fill (cr);
    }
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
}

static void
write_png_folder (Fixture *f)
{
  static const Band red[] = { { 1, 0, 0, 0, 6 } };
  /* 8 x 4: blue | green | red; the center crop keeps only the green */
  static const Band bands[] = { { 0, 0, 1, 0, 2 }, { 0, 1, 0, 2, 4 }, { 1, 0, 0, 6, 2 } };
  /* 8 x 8: white left half, black right half */
  static const Band halves[] = { { 1, 1, 1, 0, 4 } };
  g_autofree char *a = g_build_filename (f->dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (f->dir, "b.png", NULL);
  g_autofree char *c = g_build_filename (f->dir, "c.PNG", NULL);
  g_autofree char *txt = g_build_filename (f->dir, "notes.txt", NULL);

  /* written out of order: the loader sorts by name */
  write_png (c, 8, 8, halves, 1);
  write_png (b, 8, 4, bands, 3);
  write_png (a, 6, 6, red, 1);
  test_write_raw (txt, (const guint8 *) "not an image", 12);
}

static void
test_png_rgb (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) ds = NULL;
  const float *a, *b, *c;

  write_png_folder (f);
  ds = epd_dataset_load_png_dir (f->dir, 2, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (ds), ==, 3);
  g_assert_cmpuint (epd_dataset_get_dim (ds), ==, 12);
  a = epd_dataset_get_image (ds, 0);
  b = epd_dataset_get_image (ds, 1);
  c = epd_dataset_get_image (ds, 2);
  for (guint p = 0; p < 4; p++)
    {
      /* uniform colours survive cropping and scaling exactly */
      g_assert_cmpfloat (a[3 * p + 0], ==, 1.0f);
      g_assert_cmpfloat (a[3 * p + 1], ==, -1.0f);
      g_assert_cmpfloat (b[3 * p + 0], ==, -1.0f);
      g_assert_cmpfloat (b[3 * p + 1], ==, 1.0f);
      g_assert_cmpfloat (b[3 * p + 2], ==, -1.0f);
    }
  /* 8 -> 2 keeps the left column white and the right black, within the filter's blur */
  for (guint y = 0; y < 2; y++)
    for (guint ch = 0; ch < 3; ch++)
      {
        g_assert_cmpfloat (c[(y * 2 + 0) * 3 + ch], >, 0.9f);
        g_assert_cmpfloat (c[(y * 2 + 1) * 3 + ch], <, -0.9f);
      }
}

static void
test_png_grey (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) ds = NULL;
  EpdDatasetSubset first = { .first_n = 2 };
  g_autoptr(EpdDataset) sub = NULL;

  write_png_folder (f);
  ds = epd_dataset_load_png_dir (f->dir, 3, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_dim (ds), ==, 9);
  g_assert_null (epd_dataset_get_labels (ds));
  /* Rec. 709 luma of pure red and pure green */
  g_assert_cmpfloat_with_epsilon (epd_dataset_get_image (ds, 0)[4], 0.2126 * 2 - 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (epd_dataset_get_image (ds, 1)[4], 0.7152 * 2 - 1, 1e-6);
  sub = epd_dataset_subset (ds, &first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n (sub), ==, 2);
  g_assert_cmpmem (epd_dataset_get_pixels (sub), 18 * sizeof (float),
                   epd_dataset_get_pixels (ds), 18 * sizeof (float));
}

static void
test_png_errors (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bad = g_build_filename (f->dir, "b-broken.png", NULL);
  g_autofree char *nowhere = g_build_filename (f->dir, "nowhere", NULL);

  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_INVALID, f->dir, "no PNG images");
  g_clear_error (&error);
  write_png_folder (f);
  test_write_raw (bad, (const guint8 *) "\x89PNG but not really", 19);
  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_PARSE, bad, "cannot read the PNG");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_png_dir (nowhere, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_IO, nowhere, "cannot open the folder");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 2, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

/* A FIFO where a file is expected is refused at once (opening it would
 * block until something writes to it). */
static void
test_special_files (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *images = write_images (f, "img.gz", N_IMAGES, TRUE);
  g_autofree char *fifo = g_build_filename (f->dir, "fifo.png", NULL);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (epd_dataset_load_idx (fifo, NULL, NULL, &error));
  assert_error_names (error, EPD_ERROR_IO, fifo, "is a FIFO (named pipe), not a regular file");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_idx (images, fifo, NULL, &error));
  assert_error_names (error, EPD_ERROR_IO, fifo, "is a FIFO (named pipe), not a regular file");
  g_clear_error (&error);
  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_IO, fifo, "is a FIFO (named pipe), not a regular file");
}

/* A PNG header promising 100000 x 100000 pixels is refused before Cairo
 * allocates anything. */
static void
test_png_huge_header (Fixture *f, gconstpointer data)
{
  static const guint8 header[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0, 8, 6, 0, 0, 0,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "huge.png", NULL);

  test_write_raw (path, header, sizeof header);
  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_UNSUPPORTED, path, "a PNG of 100000 x 100000 pixels is larger than");
}

/* A tEXt chunk declaring 2 GB in a file of a few hundred bytes: libpng
 * allocated the declared size (2 GB of memory) before finding it missing. */
static void
test_png_huge_chunk (Fixture *f, gconstpointer data)
{
  static const guint8 text[] = { 0x77, 0x35, 0x94, 0x00, 't', 'E', 'X', 't', 'C', 'o', 'm', 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "text.png", NULL);
  g_autofree guint8 *png = NULL;
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  gsize len;

  test_write_png_solid (path, 2, 2, 1, 0, 0);
  g_assert_true (g_file_get_contents (path, (char **) &png, &len, NULL));
  /* After the signature (8 bytes) and IHDR (25). */
  g_byte_array_append (bytes, png, 33);
  g_byte_array_append (bytes, text, sizeof text);
  g_byte_array_append (bytes, png + 33, len - 33);
  test_write_raw (path, bytes->data, bytes->len);
  g_assert_null (epd_dataset_load_png_dir (f->dir, 4, 1, &error));
  assert_error_names (error, EPD_ERROR_PARSE, path, "a PNG chunk declares 2000000000 bytes");
}

static void
test_new_from_data (void)
{
  g_autoptr(GError) error = NULL;
  float pixels[8] = { -1, 0, 1, 0.5f, 0, 0, 0, 1.5f };
  guint8 labels[2] = { 3, 1 };
  g_autoptr(EpdDataset) ds = epd_dataset_new_from_data ("mem", pixels, labels, 1, 2, 1, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (epd_dataset_get_n_classes (ds), ==, 4);
  g_assert_cmpfloat (epd_dataset_get_image (ds, 0)[3], ==, 0.5f);
  g_assert_null (epd_dataset_new_from_data ("mem", pixels, labels, 2, 2, 1, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "pixel 7 is 1.5"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/dataset/idx/load", test_idx_load);
  ADD ("/dataset/idx/raw", test_idx_raw);
  ADD ("/dataset/idx/subsets", test_idx_subsets);
  ADD ("/dataset/idx/corrupt", test_idx_corrupt);
  ADD ("/dataset/idx/truncated", test_idx_truncated);
  ADD ("/dataset/idx/huge-header", test_idx_huge_header);
  ADD ("/dataset/idx/short-labels", test_idx_short_labels);
  ADD ("/dataset/idx/bad-gzip", test_idx_bad_gzip);
  ADD ("/dataset/fashion/env", test_fashion_env);
  ADD ("/dataset/png/rgb", test_png_rgb);
  ADD ("/dataset/png/grey", test_png_grey);
  ADD ("/dataset/png/errors", test_png_errors);
  ADD ("/dataset/special-files", test_special_files);
  ADD ("/dataset/png/huge-header", test_png_huge_header);
  ADD ("/dataset/png/huge-chunk", test_png_huge_chunk);
#undef ADD
  g_test_add_func ("/dataset/idx/huge-images", test_idx_huge_images);
  g_test_add_func ("/dataset/fashion/real", test_fashion_real);
  g_test_add_func ("/dataset/new-from-data", test_new_from_data);
  return g_test_run ();
}
