/* SPDX-License-Identifier: MIT */
/* test-diversity.c: normalised histogram entropy is 0 for one mode and 1 for uniform
 * modes, on a real mixture (mode coverage) and on classifier classes. */
#include <math.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-diversity.h"

static void
test_entropy (void)
{
  const guint one[4] = { 0, 9, 0, 0 };
  const guint uniform[4] = { 3, 3, 3, 3 };
  const guint half[4] = { 5, 5, 0, 0 };
  const guint none[4] = { 0, 0, 0, 0 };

  g_assert_cmpfloat (epd_diversity_entropy (one, 4), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (epd_diversity_entropy (uniform, 4), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (epd_diversity_entropy (half, 4), 0.5, 1e-12);
  g_assert_cmpfloat (epd_diversity_entropy (none, 4), ==, 0.0);
  g_assert_cmpuint (epd_diversity_coverage (half, 4), ==, 2);
  g_assert_cmpuint (epd_diversity_coverage (uniform, 4), ==, 4);
}

static void
test_mixture (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", NULL);
  guint k = epd_gmm_get_n_components (gmm);
  const double *means = epd_gmm_get_means (gmm);
  g_autofree double *x = g_new (double, 2 * k * 2);
  g_autoptr(GError) error = NULL;
  double diversity = -1.0;

  /* All samples on (near) component 3: one mode, diversity 0. */
  for (guint i = 0; i < 2 * k; i++)
    {
      x[2 * i] = means[2 * 3] + 0.01 * i;
      x[2 * i + 1] = means[2 * 3 + 1];
    }
  g_assert_true (epd_diversity_measure (EPD_DENOISER (gmm), x, 2 * k, &diversity, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (diversity, ==, 0.0);

  /* Two samples on every component: uniform, diversity 1. */
  for (guint i = 0; i < 2 * k; i++)
    {
      x[2 * i] = means[2 * (i % k)];
      x[2 * i + 1] = means[2 * (i % k) + 1];
    }
  g_assert_true (epd_diversity_measure (EPD_DENOISER (gmm), x, 2 * k, &diversity, &error));
  g_assert_cmpfloat_with_epsilon (diversity, 1.0, 1e-12);
}

/* A classifier that only looks at input 0 and input 1 sees distinct classes. */
static void
test_classes (void)
{
  g_autoptr(EpdClassifier) classifier = epd_classifier_new (2, 4, 2, 9);
  EpdClassifierSettings settings;
  float inputs[200 * 2];
  guint8 labels[200];
  double x[4 * 2] = { 0.9, -0.9, 0.9, -0.9, -0.9, 0.9, -0.9, 0.9 };
  g_autofree guint *counts = NULL;
  guint n_bins = 0;

  for (guint i = 0; i < 200; i++)
    {
      labels[i] = i % 2;
      inputs[2 * i] = labels[i] ? -0.9f : 0.9f;
      inputs[2 * i + 1] = -inputs[2 * i];
    }
  epd_classifier_settings_init (&settings);
  settings.hidden = 4;
  settings.epochs = 20;
  settings.batch_size = 20;
  settings.learning_rate = 0.05;
  g_assert_true (epd_classifier_train (classifier, inputs, labels, 200, &settings,
                                       NULL, NULL, NULL, NULL));
  g_assert_true (epd_diversity_class_histogram (classifier, x, 4, &counts, &n_bins));
  g_assert_cmpuint (n_bins, ==, 2);
  g_assert_cmpuint (counts[0], ==, 2);
  g_assert_cmpuint (counts[1], ==, 2);
  g_assert_cmpfloat_with_epsilon (epd_diversity_entropy (counts, n_bins), 1.0, 1e-12);
  g_clear_pointer (&counts, g_free);
  g_assert_true (epd_diversity_class_histogram (classifier, x, 2, &counts, &n_bins));
  g_assert_cmpfloat (epd_diversity_entropy (counts, n_bins), ==, 0.0);
}

/* Exact samples from another seed have the reference spread; the same samples
 * shrunk halfway toward their component means have half of it. Per sample,
 * |x - mu| / std is Rayleigh in 2-D (relative sd 0.52), so for 4096 samples the
 * ratio of two independent means has a standard error of about 0.012: 0.05 is 4 of them. */
static void
test_mixture_spread (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const double *means = epd_gmm_get_means (gmm);
  gsize n = 4096;
  g_autofree double *x = g_new (double, n * 2);
  g_autofree guint *assign = g_new (guint, n);
  g_autoptr(GError) error = NULL;
  double reference = NAN, ratio = NAN;

  g_assert_true (epd_diversity_spread_reference (EPD_DENOISER (gmm), &reference, &error));
  g_assert_no_error (error);
  /* The mean of a Rayleigh variable: sqrt (pi / 2). */
  g_assert_cmpfloat_with_epsilon (reference, sqrt (G_PI / 2), 0.05);
  epd_gmm_sample (gmm, rand, n, x);
  g_assert_true (epd_diversity_spread (EPD_DENOISER (gmm), x, n, reference, &ratio, &error));
  g_assert_cmpfloat_with_epsilon (ratio, 1.0, 0.05);

  epd_gmm_assign (gmm, x, NULL, n, assign);
  for (gsize b = 0; b < n; b++)
    for (guint i = 0; i < 2; i++)
      x[b * 2 + i] = means[assign[b] * 2 + i] + 0.5 * (x[b * 2 + i] - means[assign[b] * 2 + i]);
  g_assert_true (epd_diversity_spread (EPD_DENOISER (gmm), x, n, reference, &ratio, &error));
  g_assert_cmpfloat_with_epsilon (ratio, 0.5, 0.025);
}

/* Images: the mean pairwise distance. 40 random 4x4 images in [-1, 1] (the empirical
 * model's data); a batch of all of them against the reference (which draws rows of the
 * same images) is ~1, the batch scaled by 0.5 exactly half of the batch's, and one
 * image repeated (collapse) 0. */
static void
test_image_spread (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  float pixels[40 * 16];
  double x[40 * 16], half[40 * 16], same[40 * 16];
  g_autoptr(EpdDataset) dataset = NULL;
  g_autoptr(EpdEmpirical) model = NULL;
  g_autoptr(GError) error = NULL;
  double reference = NAN, ratio = NAN, full = NAN;

  for (guint i = 0; i < 40 * 16; i++)
    {
      pixels[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
      x[i] = pixels[i];
      half[i] = 0.5 * pixels[i];
      same[i] = pixels[i % 16];
    }
  dataset = epd_dataset_new_from_data ("noise", pixels, NULL, 40, 4, 1, &error);
  g_assert_no_error (error);
  model = epd_empirical_new (dataset);
  g_assert_true (epd_diversity_spread_reference (EPD_DENOISER (model), &reference, &error));
  g_assert_no_error (error);
  g_assert_true (epd_diversity_spread (EPD_DENOISER (model), x, 40, reference, &full, &error));
  /* The reference is the same 40 images here (all rows): the ratio is exactly 1. */
  g_assert_cmpfloat_with_epsilon (full, 1.0, 1e-12);
  g_assert_true (epd_diversity_spread (EPD_DENOISER (model), half, 40, reference, &ratio, &error));
  g_assert_cmpfloat_with_epsilon (ratio, 0.5 * full, 1e-6);
  g_assert_true (epd_diversity_spread (EPD_DENOISER (model), same, 40, reference, &ratio, &error));
  g_assert_cmpfloat (ratio, ==, 0.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/diversity/entropy", test_entropy);
  g_test_add_func ("/diversity/mixture", test_mixture);
  g_test_add_func ("/diversity/classes", test_classes);
  g_test_add_func ("/diversity/mixture-spread", test_mixture_spread);
  g_test_add_func ("/diversity/image-spread", test_image_spread);
  return g_test_run ();
}
