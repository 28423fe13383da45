/* SPDX-License-Identifier: MIT
 * test-fd-cli.c: `epd fd` end to end on the empirical Fashion-MNIST model with a
 * small classifier saved here: its report, its Markdown row, and bad input. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "epd-test-cli.h"
#include "epd-dataset.h"
#include "epd-classifier.h"

static char *classifier_path;

/* A small classifier (32 hidden units, 2 epochs on 3000 images), saved in a temporary folder. */
static gboolean
classifier_ready (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) train = NULL;
  g_autoptr(EpdClassifier) c = NULL;
  g_autofree char *dir = NULL;
  EpdDatasetSubset subset = { 3000, 0 };
  EpdClassifierSettings settings;

  if (classifier_path != NULL)
    return TRUE;
  train = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, &subset, &error);
  if (train == NULL)
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return FALSE;
    }
  epd_classifier_settings_init (&settings);
  settings.hidden = 32;
  settings.epochs = 2;
  c = epd_classifier_new (784, 32, 10, 1);
  g_assert_true (epd_classifier_train (c, epd_dataset_get_pixels (train), epd_dataset_get_labels (train),
                                       3000, &settings, NULL, NULL, NULL, &error));
  dir = g_dir_make_tmp ("epd-fd-cli-XXXXXX", &error);
  g_assert_no_error (error);
  classifier_path = g_build_filename (dir, "small.clf", NULL);
  g_assert_true (epd_classifier_save (c, classifier_path, &error));
  g_assert_no_error (error);
  return TRUE;
}

/* The empirical model ends on its training images: the memorisation figure shows it
 * (nearest training image at distance ~0, test images several units away). */
static void
test_report (void)
{
  g_auto(EpdTestRun) run = { 0 };
  g_auto(EpdTestRun) row = { 0 };
  g_auto(GStrv) cells = NULL;
  g_autofree char *fd_text = NULL;
  double fd, floor_fd, nearest;

  if (!classifier_ready ())
    return;
  epd_test_cli_run (&run, NULL, "fd", "--model", "dataset:fashion-mnist:200", "--solver", "euler",
                    "--steps", "4", "--samples", "40", "--batch", "16", "--classifier", classifier_path,
                    "--device", "cpu", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Not Inception FID"));
  g_assert_nonnull (strstr (run.out, "FD to the 10000 test images"));
  g_assert_nonnull (strstr (run.out, "class histogram (samples):"));
  g_assert_nonnull (strstr (run.err, "40 samples"));
  epd_test_cli_run (&row, NULL, "fd", "--model", "dataset:fashion-mnist:200", "--solver", "euler",
                    "--steps", "4", "--samples", "40", "--batch", "7", "--classifier", classifier_path,
                    "--device", "cpu", "--row", "euler 4", NULL);
  g_assert_cmpint (row.status, ==, 0);
  /* | euler 4 | FD | floor | confidence | entropy | within | nearest (test's) | */
  cells = g_strsplit (row.out, "|", -1);
  g_assert_cmpuint (g_strv_length (cells), ==, 9);
  g_assert_cmpstr (g_strstrip (cells[1]), ==, "euler 4");
  fd = g_ascii_strtod (cells[2], NULL);
  floor_fd = g_ascii_strtod (cells[3], NULL);
  nearest = g_ascii_strtod (cells[7], NULL);
  g_assert_cmpfloat (fd, >, 0.0);
  g_assert_cmpfloat (floor_fd, >, 0.0);
  g_assert_cmpfloat (nearest, <, 1.0);
  g_assert_cmpfloat (g_ascii_strtod (strchr (cells[7], '(') + 1, NULL), >, 3.0);
  /* --out then --in: the written images measure the same, label aside. */
  {
    g_auto(EpdTestRun) with_out = { 0 };
    g_auto(EpdTestRun) from_in = { 0 };
    g_autofree char *dir = g_path_get_dirname (classifier_path);
    g_autofree char *npy = g_build_filename (dir, "x.npy", NULL);

    epd_test_cli_run (&with_out, NULL, "fd", "--model", "dataset:fashion-mnist:200", "--solver", "euler",
                      "--steps", "4", "--samples", "40", "--classifier", classifier_path,
                      "--device", "cpu", "--row", "euler 4", "--out", npy, NULL);
    epd_test_cli_run (&from_in, NULL, "fd", "--in", npy, "--classifier", classifier_path, "--row", "euler 4", NULL);
    g_assert_cmpint (with_out.status, ==, 0);
    g_assert_cmpint (from_in.status, ==, 0);
    g_assert_cmpstr (with_out.out, ==, row.out);
    g_assert_cmpstr (from_in.out, ==, row.out);
    g_unlink (npy);
  }
  /* The chunk size does not change the samples: the same FD as the report's. */
  fd_text = g_strdup_printf ("%.4f", fd);
  g_assert_nonnull (strstr (run.out, fd_text));
}

static void
test_bad_input (void)
{
  g_auto(EpdTestRun) a = { 0 };
  g_auto(EpdTestRun) b = { 0 };
  g_auto(EpdTestRun) c = { 0 };

  epd_test_cli_run (&a, NULL, "fd", "--samples", "1", NULL);
  g_assert_cmpint (a.status, ==, 2);
  g_assert_nonnull (strstr (a.err, "epd: error: --samples"));
  epd_test_cli_run (&b, NULL, "fd", "--classifier", "x.clf", "--classifier-seed", "2", NULL);
  g_assert_cmpint (b.status, ==, 2);
  g_assert_nonnull (strstr (b.err, "exclude each other"));
  if (!classifier_ready ())
    return;
  epd_test_cli_run (&c, NULL, "fd", "--model", "gmm:ring8", "--classifier", classifier_path, NULL);
  g_assert_cmpint (c.status, ==, 1);
  g_assert_nonnull (strstr (c.err, "28x28"));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd-cli/report", test_report);
  g_test_add_func ("/fd-cli/bad-input", test_bad_input);
  status = g_test_run ();
  if (classifier_path != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (classifier_path);

      g_unlink (classifier_path);
      g_rmdir (dir);
      g_free (classifier_path);
    }
  return status;
}
