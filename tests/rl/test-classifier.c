/* SPDX-License-Identifier: MIT */
/* test-classifier.c: the MLP classifier learns a separable problem, deterministically,
 * and its file round-trips exactly and rejects damaged files. */
#include <glib/gstdio.h>
#include <math.h>

#include "epd-classifier.h"

#define N_INPUTS 16
#define N_CLASSES 3

/* Three classes in 16-D: class c lights up inputs [5c, 5c+5) to +0.8, the rest -0.2,
 * plus noise 0.25: linearly separable with a wide margin. */
static void
make_data (guint32 seed,
           gsize   n,
           float  *inputs,
           guint8 *labels)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    {
      labels[i] = (guint8) (i % N_CLASSES);
      for (guint j = 0; j < N_INPUTS; j++)
        {
          double base = j / 5 == labels[i] ? 0.8 : -0.2;
          inputs[i * N_INPUTS + j] = (float) (base + 0.25 * epd_random_normal (rand));
        }
    }
}

static EpdClassifier *
train_small (guint32 seed)
{
  g_autofree float *inputs = g_new (float, 600 * N_INPUTS);
  g_autofree guint8 *labels = g_new (guint8, 600);
  EpdClassifierSettings settings;
  g_autoptr(GError) error = NULL;
  EpdClassifier *classifier;

  epd_classifier_settings_init (&settings);
  settings.hidden = 8;
  settings.epochs = 10;
  settings.batch_size = 32;
  settings.learning_rate = 1e-2;
  settings.seed = seed;
  make_data (1, 600, inputs, labels);
  classifier = epd_classifier_new (N_INPUTS, settings.hidden, N_CLASSES, seed);
  g_assert_true (epd_classifier_train (classifier, inputs, labels, 600, &settings,
                                       NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return classifier;
}

static void
test_separable (void)
{
  g_autoptr(EpdClassifier) classifier = train_small (7);
  g_autofree float *inputs = g_new (float, 300 * N_INPUTS);
  g_autofree guint8 *labels = g_new (guint8, 300);
  g_autoptr(EpdClassifier) untrained = epd_classifier_new (N_INPUTS, 8, N_CLASSES, 7);
  double accuracy;

  make_data (2, 300, inputs, labels);  /* held-out draws */
  accuracy = epd_classifier_accuracy (classifier, inputs, labels, 300);
  g_test_message ("held-out accuracy %.4f (untrained %.4f)", accuracy,
                  epd_classifier_accuracy (untrained, inputs, labels, 300));
  g_assert_cmpfloat (accuracy, >=, 0.97);
  g_assert_cmpfloat (epd_classifier_accuracy (untrained, inputs, labels, 300), <, 0.8);
}

static void
test_deterministic (void)
{
  g_autoptr(EpdClassifier) a = train_small (3);
  g_autoptr(EpdClassifier) b = train_small (3);
  g_autoptr(EpdClassifier) c = train_small (4);
  double x[N_INPUTS], pa[N_CLASSES], pb[N_CLASSES], pc[N_CLASSES];
  double sum = 0.0;

  for (guint j = 0; j < N_INPUTS; j++)
    x[j] = 0.1 * j - 0.5;
  epd_classifier_predict (a, x, 1, pa);
  epd_classifier_predict (b, x, 1, pb);
  epd_classifier_predict (c, x, 1, pc);
  for (guint k = 0; k < N_CLASSES; k++)
    {
      g_assert_cmpfloat (pa[k], ==, pb[k]);
      sum += pa[k];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
  g_assert_true (pa[0] != pc[0] || pa[1] != pc[1]);
}

static void
test_round_trip (void)
{
  g_autoptr(EpdClassifier) a = train_small (5);
  g_autoptr(EpdClassifier) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-test-clf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.clf", NULL);
  g_autofree char *contents = NULL;
  double x[2 * N_INPUTS], pa[2 * N_CLASSES], pb[2 * N_CLASSES];
  gsize len;

  epd_classifier_set_test_accuracy (a, 0.875);
  g_assert_true (epd_classifier_save (a, path, &error));
  b = epd_classifier_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (epd_classifier_get_test_accuracy (b), ==, 0.875);
  g_assert_cmpuint (epd_classifier_n_inputs (b), ==, N_INPUTS);
  for (guint j = 0; j < 2 * N_INPUTS; j++)
    x[j] = sin (j);
  epd_classifier_predict (a, x, 2, pa);
  epd_classifier_predict (b, x, 2, pb);
  for (guint k = 0; k < 2 * N_CLASSES; k++)
    g_assert_cmpfloat (pa[k], ==, pb[k]);

  /* Truncated and foreign files are refused with a message. */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize) len - 4, NULL));
  g_assert_null (epd_classifier_load (path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "not a classifier at all, clearly", -1, NULL));
  g_assert_null (epd_classifier_load (path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_bad_labels (void)
{
  g_autoptr(EpdClassifier) classifier = epd_classifier_new (N_INPUTS, 4, N_CLASSES, 1);
  float inputs[2 * N_INPUTS] = { 0 };
  guint8 labels[2] = { 0, 3 };
  EpdClassifierSettings settings;
  g_autoptr(GError) error = NULL;

  epd_classifier_settings_init (&settings);
  settings.hidden = 4;
  g_assert_false (epd_classifier_train (classifier, inputs, labels, 2, &settings,
                                        NULL, NULL, NULL, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/classifier/separable", test_separable);
  g_test_add_func ("/classifier/deterministic", test_deterministic);
  g_test_add_func ("/classifier/round-trip", test_round_trip);
  g_test_add_func ("/classifier/bad-labels", test_bad_labels);
  return g_test_run ();
}
