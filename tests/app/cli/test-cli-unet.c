/* SPDX-License-Identifier: MIT
 * test-cli-unet.c: `epd eval` and `epd sample` on diffusers UNet folders (and
 * eval on a closed-form model), run as a user runs them. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-test-cli.h"
#include "epd-model.h"

#define run_epd(run, ...) epd_test_cli_run ((run), NULL, __VA_ARGS__, NULL)

static char *
temp_path (const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("epd-test-cli-unet-%d-%u%s", getpid (), g_random_int (), suffix);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static char *
fixture (const char *first,
         const char *second)
{
  return g_build_filename (g_getenv ("EPD_SOURCE_ROOT"), "tests", "data", "unet", first, second, NULL);
}

static double
relative_error (const EpdArray *a,
                const EpdArray *b)
{
  double diff = 0.0, scale = 0.0;

  g_assert_cmpuint (epd_array_size (a), ==, epd_array_size (b));
  for (gsize i = 0; i < epd_array_size (a); i++)
    {
      diff = MAX (diff, fabs (a->data[i] - b->data[i]));
      scale = MAX (scale, fabs (b->data[i]));
    }
  return diff / scale;
}

/* (B, C, H, W) and its (B, C*H*W) flattening give the torch reference. */
static void
test_eval_unet (void)
{
  g_autofree char *dir = fixture ("rgb", NULL);
  g_autofree char *model = g_strdup_printf ("unet:%s/unet", dir);
  g_autofree char *x = g_build_filename (dir, "x.npy", NULL), *sigma = g_build_filename (dir, "sigma.npy", NULL);
  g_autofree char *ref_path = g_build_filename (dir, "denoised.npy", NULL);
  g_autofree char *out = temp_path (".npy"), *x2 = temp_path ("-x2.npy"), *out2 = temp_path ("-2.npy");
  g_auto(EpdTestRun) run = { 0 };
  g_auto(EpdTestRun) run2 = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) ref = epd_npy_load (ref_path, &error);
  g_autoptr(EpdArray) got = NULL, got2 = NULL, x4 = NULL, flat = NULL;
  gsize shape[2];

  g_assert_no_error (error);
  run_epd (&run, "eval", "--model", model, "--device", "cpu", "--x", x, "--sigma", sigma, "--out", out);
  g_test_message ("%s", run.err);
  g_assert_cmpint (run.status, ==, 0);
  got = epd_npy_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->ndim, ==, 4);
  g_assert_cmpfloat (relative_error (got, ref), <=, 1e-5);

  x4 = epd_npy_load (x, &error);
  shape[0] = x4->shape[0];
  shape[1] = epd_array_size (x4) / shape[0];
  flat = epd_array_new (2, shape);
  memcpy (flat->data, x4->data, epd_array_size (x4) * sizeof (double));
  g_assert_true (epd_npy_save (flat, x2, &error));
  run_epd (&run2, "eval", "--model", model, "--device", "cpu", "--x", x2, "--sigma", sigma, "--out", out2);
  g_assert_cmpint (run2.status, ==, 0);
  got2 = epd_npy_load (out2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got2->ndim, ==, 2);
  g_assert_cmpmem (got2->data, epd_array_size (got2) * sizeof (double), got->data,
                   epd_array_size (got) * sizeof (double));
  g_remove (out);
  g_remove (x2);
  g_remove (out2);
}

/* Any model kind: a Gaussian mixture's D through the CLI is the in-process one. */
static void
test_eval_gmm (void)
{
  g_autofree char *x = temp_path ("-x.npy"), *s = temp_path ("-s.npy"), *out = temp_path (".npy");
  g_auto(EpdTestRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  gsize xs[2] = { 3, 2 }, ss[1] = { 1 };
  g_autoptr(EpdArray) xa = epd_array_new (2, xs);
  g_autoptr(EpdArray) sa = epd_array_new (1, ss);
  g_autoptr(EpdArray) got = NULL;
  g_autoptr(EpdDenoiser) gmm = epd_model_from_spec ("gmm:ring8", &error);
  double sig[3] = { 0.7, 0.7, 0.7 }, want[6];

  for (guint i = 0; i < 6; i++)
    xa->data[i] = 0.3 * i - 0.8;
  sa->data[0] = 0.7;  /* one sigma for every row */
  g_assert_true (epd_npy_save (xa, x, &error) && epd_npy_save (sa, s, &error));
  run_epd (&run, "eval", "--model", "gmm:ring8", "--device", "cpu", "--x", x, "--sigma", s, "--out", out);
  g_assert_cmpint (run.status, ==, 0);
  got = epd_npy_load (out, &error);
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (gmm, xa->data, sig, 3, want, &error));
  g_assert_cmpmem (got->data, sizeof want, want, sizeof want);
  g_remove (x);
  g_remove (s);
  g_remove (out);
}

static void
test_eval_errors (void)
{
  g_autofree char *dir = fixture ("grey-attn", NULL);
  g_autofree char *model = g_strdup_printf ("unet:%s", dir);
  g_autofree char *x = g_build_filename (dir, "x.npy", NULL), *sigma = g_build_filename (dir, "sigma.npy", NULL);
  g_autofree char *net_t = g_build_filename (dir, "net_t.npy", NULL);
  g_autofree char *rgb_x = fixture ("rgb", "x.npy");
  g_autofree char *out = temp_path (".npy");
  g_autofree char *bad_model = g_strdup_printf ("unet:%s/nothing-here", dir);
  struct { const char *model, *x, *sigma; int status; const char *message; } cases[] = {
    { model, rgb_x, sigma, 1, "expected an array (B, 64) or (B, 1, 8, 8)" },
    { model, x, net_t, 1, "--sigma: 4 values for 5 rows" },
    { bad_model, x, sigma, 1, "not a folder" },
    { "unet:", x, sigma, 1, "needs a diffusers UNet2DModel folder" },
    { model, NULL, sigma, 2, "--x is required" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(EpdTestRun) run = { 0 };
      const char *args[16] = { "eval", "--model", cases[i].model, "--sigma", cases[i].sigma, "--out", out };
      guint n = 7;

      if (cases[i].x != NULL)
        {
          args[n++] = "--x";
          args[n++] = cases[i].x;
        }
      args[n] = NULL;
      epd_test_cli_runv (&run, NULL, args);
      g_test_message ("-> %d: %s", run.status, run.err);
      g_assert_cmpint (run.status, ==, cases[i].status);
      g_assert_nonnull (strstr (run.err, "epd: error: "));
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

/* epd sample on a UNet folder, by path and by name through $EPD_MODELS_DIR;
 * the schedule spans the model's trained sigma range. */
static void
test_sample_unet (void)
{
  g_autofree char *models = fixture ("rgb", NULL);
  g_autofree char *env = g_strdup_printf ("EPD_MODELS_DIR=%s", models);
  const char *const extra_env[] = { env, NULL };
  g_autofree char *out = temp_path (".npy");
  g_auto(EpdTestRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) x = NULL;

  epd_test_cli_run (&run, extra_env, "sample", "--model", "unet:unet", "--device", "cpu", "--solver", "epd",
                    "--steps", "3", "--batch", "5", "--seed", "2", "--out", out, NULL);
  g_test_message ("%s", run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.err, "sigma from 0.0291672 to 14.6146"));
  x = epd_npy_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (x->shape[0], ==, 5);
  g_assert_cmpuint (x->shape[1], ==, 3 * 12 * 12);
  for (gsize i = 0; i < epd_array_size (x); i++)
    g_assert_true (isfinite (x->data[i]));
  g_remove (out);
}

/* epd bench on a UNet: every CPU row has a reference share with its range
 * (the executor's own GEMMs as bare sgemm calls, timed in turn with it). */
static void
test_bench_unet (void)
{
  g_autofree char *dir = fixture ("grey-attn", NULL);
  g_autofree char *model = g_strdup_printf ("unet:%s", dir);
  g_auto(EpdTestRun) run = { 0 };
  g_auto(GStrv) lines = NULL;
  guint rows = 0;

  run_epd (&run, "bench", "--model", model, "--device", "cpu", "--batch", "1,3", "--repeat", "3",
           "--points", "0", "--markdown");
  g_test_message ("%s%s", run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "reference: the CPU executor's GEMMs"));
  lines = g_strsplit (run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cells = NULL;
      double share, low, high;

      if (!g_str_has_prefix (lines[i], "| CPU (OpenBLAS f32) |"))
        continue;
      cells = g_strsplit (lines[i], "|", -1);
      g_assert_cmpuint (g_strv_length (cells), ==, 10);
      g_assert_cmpint (sscanf (cells[8], " %lf (%lf-%lf)", &share, &low, &high), ==, 3);
      g_assert_cmpfloat (low, >, 0.0);
      g_assert_cmpfloat (low, <=, share);
      g_assert_cmpfloat (share, <=, high);
      rows++;
    }
  g_assert_cmpuint (rows, ==, 2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-unet/eval", test_eval_unet);
  g_test_add_func ("/cli-unet/eval-gmm", test_eval_gmm);
  g_test_add_func ("/cli-unet/eval-errors", test_eval_errors);
  g_test_add_func ("/cli-unet/sample", test_sample_unet);
  g_test_add_func ("/cli-unet/bench", test_bench_unet);
  return g_test_run ();
}
