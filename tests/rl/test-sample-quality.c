/* SPDX-License-Identifier: MIT
 * test-sample-quality.c: the Frechet distance against an independent numpy computation,
 * and on real Fashion-MNIST images with a small classifier trained here: two halves of
 * the test set are close, blurred images are far, FD falls with N (why the floor uses
 * the sample's N), memorised images sit at distance 0 from the training set, and the
 * class figures add up. */
#include <math.h>
#include <string.h>

#include "epd-sample-quality.h"
#include "epd-npy.h"

static EpdArray *
member (GHashTable *npz,
        const char *name)
{
  GBytes *bytes = g_hash_table_lookup (npz, name);
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

/* numpy's FD (eigh square roots, np.cov) of tests/rl/data/fd-fixture.npz. */
static void
test_numpy_parity (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "rl", "data", "fd-fixture.npz", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) npz = epd_npz_load (path, &error);
  EpdArray *a, *b, *fd;
  g_autoptr(EpdFeatureStats) sa = NULL;
  g_autoptr(EpdFeatureStats) sb = NULL;
  double mine;

  g_assert_no_error (error);
  a = member (npz, "a");
  b = member (npz, "b");
  fd = member (npz, "fd");
  sa = epd_feature_stats_new (a->data, a->shape[0], (guint) a->shape[1], &error);
  g_assert_no_error (error);
  sb = epd_feature_stats_new (b->data, b->shape[0], (guint) b->shape[1], &error);
  g_assert_no_error (error);
  mine = epd_frechet_distance (sa, sb);
  g_test_message ("FD %.15g, numpy %.15g", mine, fd->data[0]);
  g_assert_cmpfloat (fd->data[0], >, 1.0);
  g_assert_cmpfloat (fabs (mine - fd->data[0]), <, 1e-9 * fd->data[0]);
  /* Symmetric, and zero against itself. */
  g_assert_cmpfloat (fabs (epd_frechet_distance (sb, sa) - mine), <, 1e-9 * mine);
  g_assert_cmpfloat (epd_frechet_distance (sa, sa), <, 1e-9 * mine);
  epd_array_free (a);
  epd_array_free (b);
  epd_array_free (fd);
}

typedef struct
{
  EpdDataset      *train;     /* the first 5000 training images */
  EpdDataset      *test;
  EpdClassifier   *classifier;
  EpdFeatureStats *second_half;  /* test images 5000..9999 */
} Fixture;

static Fixture fixture;

static double *
to_doubles (const float *px,
            gsize        n)
{
  double *x = g_new (double, n * 784);

  for (gsize i = 0; i < n * 784; i++)
    x[i] = px[i];
  return x;
}

/* The data and a small classifier (32 hidden units, 3 epochs on the 5000 training
 * images: these tests need features, not accuracy), or FALSE when the dataset
 * package is missing. */
static gboolean
fixture_ready (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *x = NULL, *features = NULL;
  EpdClassifierSettings settings;
  EpdDatasetSubset subset = { 5000, 0 };

  if (fixture.test != NULL)
    return TRUE;
  fixture.test = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, &error);
  if (fixture.test == NULL)
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return FALSE;
    }
  fixture.train = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, &subset, &error);
  g_assert_no_error (error);
  epd_classifier_settings_init (&settings);
  settings.hidden = 32;
  settings.epochs = 3;
  fixture.classifier = epd_classifier_new (784, settings.hidden, 10, settings.seed);
  g_assert_true (epd_classifier_train (fixture.classifier, epd_dataset_get_pixels (fixture.train),
                                       epd_dataset_get_labels (fixture.train), 5000, &settings,
                                       NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (epd_classifier_accuracy (fixture.classifier, epd_dataset_get_pixels (fixture.test),
                                              epd_dataset_get_labels (fixture.test), 10000), >, 0.7);
  x = to_doubles (epd_dataset_get_image (fixture.test, 5000), 5000);
  features = g_new (double, 5000 * 32);
  epd_classifier_features (fixture.classifier, x, 5000, features);
  fixture.second_half = epd_feature_stats_new (features, 5000, 32, &error);
  g_assert_no_error (error);
  return TRUE;
}

/* Report of n images from px (optionally with a 5x5 box blur) against the second half. */
static void
report_of (const float      *px,
           gsize             n,
           gboolean          blur,
           EpdQualityReport *r)
{
  g_autoptr(EpdSampleQuality) q = epd_sample_quality_new (fixture.classifier, fixture.train, 500);
  g_autofree double *x = g_new (double, n * 784);
  int w = blur ? 2 : 0;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < n; i++)
    for (int v = 0; v < 28; v++)
      for (int u = 0; u < 28; u++)
        {
          double s = 0.0;
          int count = 0;

          for (int dv = -w; dv <= w; dv++)
            for (int du = -w; du <= w; du++, count++)
              s += px[i * 784 + CLAMP (v + dv, 0, 27) * 28 + CLAMP (u + du, 0, 27)];
          x[i * 784 + v * 28 + u] = s / count;
        }
  /* In two chunks, as a sampler delivers them. */
  g_assert_true (epd_sample_quality_add (q, x, n / 2, &error));
  g_assert_true (epd_sample_quality_add (q, x + (n / 2) * 784, n - n / 2, &error));
  g_assert_no_error (error);
  g_assert_true (epd_sample_quality_report (q, fixture.second_half, r, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r->n, ==, n);
}

static void
test_halves_and_blur (void)
{
  EpdQualityReport halves, blurred;

  if (!fixture_ready ())
    return;
  report_of (epd_dataset_get_image (fixture.test, 0), 5000, FALSE, &halves);
  report_of (epd_dataset_get_image (fixture.test, 0), 5000, TRUE, &blurred);
  g_test_message ("FD of the test halves %.4f, blurred %.4f", halves.fd, blurred.fd);
  g_assert_cmpfloat (halves.fd, >, 0.0);
  g_assert_cmpfloat (halves.fd, <, 0.05 * blurred.fd);
  /* Blurring also lowers the confidence and shrinks the spread within classes. */
  g_assert_cmpfloat (blurred.confidence, <, halves.confidence);
  g_assert_cmpfloat (blurred.within_class, <, halves.within_class);
  epd_quality_report_clear (&halves);
  epd_quality_report_clear (&blurred);
}

/* FD is biased upward at small N: the same data scores worse with fewer images,
 * which is why the floor must use the samples' N. */
static void
test_floor_depends_on_n (void)
{
  const gsize ns[] = { 100, 500, 5000 };
  double fd[3];

  if (!fixture_ready ())
    return;
  for (guint k = 0; k < 3; k++)
    {
      EpdQualityReport r;

      report_of (epd_dataset_get_image (fixture.test, 0), ns[k], FALSE, &r);
      fd[k] = r.fd;
      epd_quality_report_clear (&r);
    }
  g_test_message ("FD at N = 100, 500, 5000: %.4f %.4f %.4f", fd[0], fd[1], fd[2]);
  g_assert_cmpfloat (fd[0], >, 2.0 * fd[1]);
  g_assert_cmpfloat (fd[1], >, 2.0 * fd[2]);
}

/* Training images are at distance 0 from the training set, test images are not. */
static void
test_memorisation (void)
{
  EpdQualityReport copies, fresh;

  if (!fixture_ready ())
    return;
  report_of (epd_dataset_get_image (fixture.train, 1000), 200, FALSE, &copies);
  report_of (epd_dataset_get_image (fixture.test, 0), 200, FALSE, &fresh);
  g_test_message ("nearest training image: copies %.3g (mean), test images %.3f (median)",
                  copies.nearest_mean, fresh.nearest_median);
  g_assert_cmpfloat (copies.nearest_mean, <, 1e-2);
  g_assert_cmpfloat (fresh.nearest_min, >, 0.5);
  g_assert_cmpfloat (fresh.nearest_median, >, 3.0);
  epd_quality_report_clear (&copies);
  epd_quality_report_clear (&fresh);
}

/* One image ten times: one class, entropy 0, no spread. */
static void
test_class_figures (void)
{
  g_autoptr(EpdSampleQuality) q = NULL;
  g_autofree double *x = g_new (double, 10 * 784);
  g_autoptr(GError) error = NULL;
  EpdQualityReport r;
  guint total = 0, top = 0;

  if (!fixture_ready ())
    return;
  q = epd_sample_quality_new (fixture.classifier, NULL, 100);
  for (guint i = 0; i < 10; i++)
    for (guint j = 0; j < 784; j++)
      x[i * 784 + j] = epd_dataset_get_image (fixture.test, 3)[j];
  g_assert_true (epd_sample_quality_add (q, x, 10, &error));
  g_assert_true (epd_sample_quality_report (q, fixture.second_half, &r, &error));
  g_assert_no_error (error);
  for (guint c = 0; c < r.n_classes; c++)
    {
      total += r.counts[c];
      top = MAX (top, r.counts[c]);
    }
  g_assert_cmpuint (total, ==, 10);
  g_assert_cmpuint (top, ==, 10);
  g_assert_cmpfloat (r.class_entropy, ==, 0.0);
  g_assert_cmpfloat (r.within_class, ==, 0.0);
  g_assert_cmpfloat (r.confidence, >, 0.1);
  g_assert_cmpfloat (r.confidence, <=, 1.0);
  g_assert_true (isnan (r.nearest_mean));
  epd_quality_report_clear (&r);
  /* A non-finite pixel is an error that names the image. */
  x[5 * 784 + 7] = NAN;
  g_assert_false (epd_sample_quality_add (q, x, 10, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "image 15"));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sample-quality/numpy-parity", test_numpy_parity);
  g_test_add_func ("/sample-quality/halves-and-blur", test_halves_and_blur);
  g_test_add_func ("/sample-quality/floor-depends-on-n", test_floor_depends_on_n);
  g_test_add_func ("/sample-quality/memorisation", test_memorisation);
  g_test_add_func ("/sample-quality/class-figures", test_class_figures);
  status = g_test_run ();
  g_clear_pointer (&fixture.second_half, epd_feature_stats_free);
  g_clear_pointer (&fixture.classifier, epd_classifier_free);
  g_clear_pointer (&fixture.train, epd_dataset_unref);
  g_clear_pointer (&fixture.test, epd_dataset_unref);
  return status;
}
