/* SPDX-License-Identifier: MIT */
/* test-empirical.c: the OpenBLAS empirical denoiser against a direct double
 * implementation, its exact JVP against finite differences, and the spec parser. */
#include "epd-empirical.h"
#include "test-data-util.h"

#include <cblas.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define N_DATA 50
#define SIDE 4
#define DIM (SIDE * SIDE)

static EpdEmpirical *
random_model (guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) ds = NULL;
  float pixels[N_DATA * DIM];

  for (guint i = 0; i < N_DATA * DIM; i++)
    pixels[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  ds = epd_dataset_new_from_data ("random", pixels, NULL, N_DATA, SIDE, 1, &error);
  g_assert_no_error (error);
  return epd_empirical_new (ds);
}

/* softmax over -|x - y_i|^2 / (2 s^2), distances summed directly. */
static void
naive_denoise (const float *y, const double *x, double s, double *out)
{
  double logits[N_DATA], max = -INFINITY, sum = 0.0;

  for (guint i = 0; i < N_DATA; i++)
    {
      double d2 = 0.0;

      for (guint j = 0; j < DIM; j++)
        d2 += (x[j] - y[i * DIM + j]) * (x[j] - y[i * DIM + j]);
      logits[i] = -d2 / (2 * s * s);
      max = MAX (max, logits[i]);
    }
  memset (out, 0, DIM * sizeof (double));
  for (guint i = 0; i < N_DATA; i++)
    {
      double w = exp (logits[i] - max);

      sum += w;
      for (guint j = 0; j < DIM; j++)
        out[j] += w * y[i * DIM + j];
    }
  for (guint j = 0; j < DIM; j++)
    out[j] /= sum;
}

static double
max_abs_diff (const double *a, const double *b, gsize n, double *scale)
{
  double diff = 0.0;

  *scale = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      diff = MAX (diff, fabs (a[i] - b[i]));
      *scale = MAX (*scale, fabs (b[i]));
    }
  return diff;
}

/* Rows near data points and far from them, sigmas from 0.002 to 80, 40 rows
 * (more than one GEMM chunk). */
static void
test_parity (void)
{
  g_autoptr(EpdEmpirical) model = random_model (1);
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autoptr(GError) error = NULL;
  static const double sigmas[] = { 0.002, 0.01, 0.1, 0.5, 2.0, 80.0 };
  const float *y = epd_empirical_get_data (model);
  enum { B = 40 };
  double x[B * DIM], s[B], out[B * DIM], ref[DIM];

  for (guint r = 0; r < B; r++)
    {
      s[r] = sigmas[r % G_N_ELEMENTS (sigmas)];
      for (guint j = 0; j < DIM; j++)
        x[r * DIM + j] = y[(r % N_DATA) * DIM + j] + (r % 2 ? 0.3 : s[r]) * epd_random_normal (rand);
    }
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (model), x, s, B, out, &error));
  g_assert_no_error (error);
  for (guint r = 0; r < B; r++)
    {
      double scale, diff;

      naive_denoise (y, x + r * DIM, s[r], ref);
      diff = max_abs_diff (out + r * DIM, ref, DIM, &scale);
      g_test_message ("sigma %g: max |D - naive| = %.3g (scale %.3g)", s[r], diff, scale);
      g_assert_cmpfloat (diff, <=, 1e-12 * scale);
    }
}

static double
dist2 (const float *a, const float *b)
{
  double d2 = 0.0;

  for (guint j = 0; j < DIM; j++)
    d2 += ((double) a[j] - b[j]) * ((double) a[j] - b[j]);
  return d2;
}

/* At sigma 0.002, a point between image 0 and its nearest neighbour k: both
 * logits are about -1e5 and only their difference (set to 1) decides the
 * mixture. The logits carry an absolute error of about
 * eps |x| |y| / s^2 = 1e-16 * 16 / 4e-6 = 4e-10, hence the looser bound. */
static void
test_sharp_mixture (void)
{
  g_autoptr(EpdEmpirical) model = random_model (3);
  g_autoptr(GError) error = NULL;
  const float *y = epd_empirical_get_data (model), *y0 = y, *yk;
  double x[DIM], s = 0.002, out[DIM], ref[DIM], gap2 = INFINITY, diff, scale, w0;
  guint k = 0;

  for (guint i = 1; i < N_DATA; i++)
    if (dist2 (y0, y + i * DIM) < gap2)
      {
        gap2 = dist2 (y0, y + i * DIM);
        k = i;
      }
  yk = y + k * DIM;
  /* the logit gap is a |y_0 - y_k|^2 / s^2 at x = midpoint + a (y_0 - y_k) */
  for (guint j = 0; j < DIM; j++)
    x[j] = 0.5 * ((double) y0[j] + yk[j]) + s * s / gap2 * ((double) y0[j] - yk[j]);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (model), x, &s, 1, out, &error));
  naive_denoise (y, x, s, ref);
  diff = max_abs_diff (out, ref, DIM, &scale);
  g_test_message ("sharp mixture: max |D - naive| = %.3g", diff);
  g_assert_cmpfloat (diff, <=, 1e-8 * scale);
  /* only the pair matters, and y_0 weighs 1 / (1 + e^-1) */
  w0 = (ref[0] - yk[0]) / ((double) y0[0] - yk[0]);
  g_assert_cmpfloat_with_epsilon (w0, 1.0 / (1.0 + exp (-1.0)), 1e-6);
  w0 = (out[0] - yk[0]) / ((double) y0[0] - yk[0]);
  g_assert_cmpfloat_with_epsilon (w0, 1.0 / (1.0 + exp (-1.0)), 1e-6);
}

static void
test_jvp (void)
{
  g_autoptr(EpdEmpirical) model = random_model (4);
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(GError) error = NULL;
  EpdDenoiser *d = EPD_DENOISER (model);
  enum { B = 3 };
  double s[B] = { 0.3, 1.0, 5.0 }, ds[B] = { 0.2, -0.5, 1.0 };
  double x[B * DIM], dx[B * DIM], out[B * DIM], dout[B * DIM], plain[B * DIM];
  double xp[B * DIM], xm[B * DIM], sp[B], sm[B], fp[B * DIM], fm[B * DIM];
  const double h = 1e-5;

  epd_random_normal_fill (rand, x, B * DIM);
  epd_random_normal_fill (rand, dx, B * DIM);
  g_assert_true (epd_denoiser_has_exact_jvp (d));
  g_assert_true (epd_denoiser_denoise_jvp (d, x, s, dx, ds, B, out, dout, &error));
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (d, x, s, B, plain, &error));
  for (guint i = 0; i < B * DIM; i++)
    {
      g_assert_cmpfloat_with_epsilon (out[i], plain[i], 1e-14);
      xp[i] = x[i] + h * dx[i];
      xm[i] = x[i] - h * dx[i];
    }
  for (guint r = 0; r < B; r++)
    {
      sp[r] = s[r] + h * ds[r];
      sm[r] = s[r] - h * ds[r];
    }
  g_assert_true (epd_denoiser_denoise (d, xp, sp, B, fp, &error));
  g_assert_true (epd_denoiser_denoise (d, xm, sm, B, fm, &error));
  for (guint r = 0; r < B; r++)
    {
      double fd[DIM], diff, scale;

      for (guint j = 0; j < DIM; j++)
        fd[j] = (fp[r * DIM + j] - fm[r * DIM + j]) / (2 * h);
      diff = max_abs_diff (dout + r * DIM, fd, DIM, &scale);
      g_test_message ("sigma %g: max |JVP - FD| = %.3g (scale %.3g)", s[r], diff, scale);
      g_assert_cmpfloat (scale, >, 1e-3);
      g_assert_cmpfloat (diff, <=, 1e-6 * scale);
    }
}

/* The JVP directly in long double: dl_i = -(x - y_i).dx / s^2 + |x - y_i|^2 ds / s^3,
 * dD = sum_i p_i (dl_i - sum_j p_j dl_j) y_i. */
static void
naive_jvp (const float *y, const double *x, double s, const double *dx, double ds, double *dout)
{
  long double l[N_DATA], dl[N_DATA], max = -INFINITY, sum = 0.0L, mean = 0.0L, acc[DIM] = { 0 };

  for (guint i = 0; i < N_DATA; i++)
    {
      long double d2 = 0.0L, ed = 0.0L;

      for (guint j = 0; j < DIM; j++)
        {
          long double e = (long double) x[j] - y[i * DIM + j];

          d2 += e * e;
          ed += e * dx[j];
        }
      l[i] = -d2 / (2.0L * s * s);
      dl[i] = -ed / ((long double) s * s) + d2 * ds / ((long double) s * s * s);
      max = MAX (max, l[i]);
    }
  for (guint i = 0; i < N_DATA; i++)
    {
      l[i] = expl (l[i] - max);
      sum += l[i];
    }
  for (guint i = 0; i < N_DATA; i++)
    mean += l[i] / sum * dl[i];
  for (guint i = 0; i < N_DATA; i++)
    for (guint j = 0; j < DIM; j++)
      acc[j] += l[i] / sum * (dl[i] - mean) * y[i * DIM + j];
  for (guint j = 0; j < DIM; j++)
    dout[j] = (double) acc[j];
}

/* From sharp (one image dominates, huge logits) to smooth: the JVP, centred
 * at the running maximum's image, agrees with the direct sum. x lies between
 * the two closest images so that the derivative is not zero even at small
 * sigma. */
static void
test_jvp_sharp (void)
{
  g_autoptr(EpdEmpirical) model = random_model (13);
  const float *y = epd_empirical_get_data (model);
  g_autoptr(GRand) rand = g_rand_new_with_seed (14);
  static const double sigmas[] = { 0.002, 0.01, 0.05, 0.3, 5.0 };
  enum { B = G_N_ELEMENTS (sigmas) };
  double x[B * DIM], dx[B * DIM], s[B], ds[B], out[B * DIM], dout[B * DIM];
  g_autoptr(GError) error = NULL;
  guint a = 0, b = 1;
  double best = INFINITY;

  /* the closest pair of images: nothing lies nearer their midpoint */
  for (guint i = 0; i < N_DATA; i++)
    for (guint k = i + 1; k < N_DATA; k++)
      {
        double d2 = 0.0;

        for (guint j = 0; j < DIM; j++)
          d2 += ((double) y[i * DIM + j] - y[k * DIM + j]) * ((double) y[i * DIM + j] - y[k * DIM + j]);
        if (d2 < best)
          {
            best = d2;
            a = i;
            b = k;
          }
      }
  for (guint r = 0; r < B; r++)
    {
      s[r] = sigmas[r];
      ds[r] = 0.7 * sigmas[r];
      for (guint j = 0; j < DIM; j++)
        {
          /* halfway between images a and b, nudged off the tie */
          x[r * DIM + j] = 0.5 * (y[a * DIM + j] + y[b * DIM + j]) + 1e-3 * s[r] * epd_random_normal (rand);
          dx[r * DIM + j] = epd_random_normal (rand);
        }
    }
  g_assert_true (epd_denoiser_denoise_jvp (EPD_DENOISER (model), x, s, dx, ds, B, out, dout, &error));
  g_assert_no_error (error);
  for (guint r = 0; r < B; r++)
    {
      double ref[DIM], diff, scale;

      naive_jvp (y, x + r * DIM, s[r], dx + r * DIM, ds[r], ref);
      diff = max_abs_diff (dout + r * DIM, ref, DIM, &scale);
      g_test_message ("sigma %g: max |JVP - direct| = %.3g (scale %.3g)", s[r], diff, scale);
      g_assert_cmpfloat (scale, >, 1e-3);
      g_assert_cmpfloat (diff, <=, 1e-9 * scale);
    }
}

static void
test_bad_input (void)
{
  g_autoptr(EpdEmpirical) model = random_model (6);
  g_autoptr(GError) error = NULL;
  double x[2 * DIM] = { 0 }, s[2] = { 1.0, 0.0 }, out[2 * DIM];

  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (model), x, s, 2, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "sigma[1] is 0"));
  g_clear_error (&error);
  s[1] = 1.0;
  x[DIM + 3] = NAN;
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (model), x, s, 2, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "x[19]"));
}

/* ---- determinism ---------------------------------------------------------- */

/* n images of side x side: d = side^2 need not be a multiple of 16. */
static EpdEmpirical *
determinism_model (guint n, guint side)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) ds = NULL;
  guint dim = side * side;
  g_autofree float *pixels = g_new (float, n * dim);

  for (guint i = 0; i < n * dim; i++)
    pixels[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  ds = epd_dataset_new_from_data ("random", pixels, NULL, n, side, 1, &error);
  g_assert_no_error (error);
  return epd_empirical_new (ds);
}

/* Denoises rows [r0, r0 + rows) of x (and their JVP along dx) as one call. */
static void
denoise_rows (EpdDenoiser *model, const double *x, const double *s, const double *dx,
              const double *ds, guint dim, gsize r0, gsize rows, double *out, double *dout)
{
  g_autoptr(GError) error = NULL;
  gsize o = r0 * dim;

  g_assert_true (epd_denoiser_denoise_jvp (model, x + o, s + r0, dx + o, ds + r0, rows,
                                           out + o, dout + o, &error));
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (model, x + o, s + r0, rows, out + o, &error));
  g_assert_no_error (error);
}

/* A row's result is bit-identical whatever the batch around it: the same
 * call twice, and the batch cut into calls of each split, issued back to
 * front. Returns the denoised batch. */
static double *
check_splits (EpdEmpirical *model, gsize batch, const gsize *splits, guint n_splits)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  EpdDenoiser *d = EPD_DENOISER (model);
  guint dim = epd_empirical_get_dim (model);
  gsize n = batch * dim;
  g_autofree double *x = g_new (double, n), *dx = g_new (double, n);
  g_autofree double *ref = g_new (double, n), *dref = g_new (double, n);
  g_autofree double *out = g_new (double, n), *dout = g_new (double, n);
  g_autofree double *s = g_new (double, batch), *ds = g_new (double, batch);

  for (gsize i = 0; i < n; i++)
    {
      x[i] = 2.0 * epd_random_normal (rand);
      dx[i] = epd_random_normal (rand);
    }
  for (gsize r = 0; r < batch; r++)
    {
      /* from sharp (one image dominates) to smooth */
      s[r] = 0.05 + 0.25 * (r % 37);
      ds[r] = 0.1;
    }
  denoise_rows (d, x, s, dx, ds, dim, 0, batch, ref, dref);
  for (guint k = 0; k <= n_splits; k++)
    {
      gsize split = k < n_splits ? splits[k] : batch;
      gsize last = (batch - 1) / split * split;

      for (gsize r0 = last + split; r0 > 0; )
        {
          r0 -= split;
          denoise_rows (d, x, s, dx, ds, dim, r0, MIN (split, batch - r0), out, dout);
        }
      g_test_message ("%u images of %u: %" G_GSIZE_FORMAT " rows in calls of %" G_GSIZE_FORMAT,
                      (guint) epd_empirical_get_n (model), dim, batch, split);
      g_assert_cmpmem (out, n * sizeof (double), ref, n * sizeof (double));
      g_assert_cmpmem (dout, n * sizeof (double), dref, n * sizeof (double));
    }
  return g_steal_pointer (&ref);
}

/* Small enough for OpenBLAS's small-matrix kernels: rows in groups of 16. */
static void
test_determinism_small (void)
{
  g_autoptr(EpdEmpirical) model = determinism_model (N_DATA, SIDE);
  static const gsize splits[] = { 1, 5, 16, 17 };

  g_free (check_splits (model, 37, splits, G_N_ELEMENTS (splits)));
}

/* d = 225 (padded to 240), 900 images in two blocks (the last one padded),
 * run on threads: groups of up to 256 rows, so 300 rows take two groups.
 * OpenBLAS's own thread count does not matter either. */
static void
test_determinism_large (void)
{
  g_autoptr(EpdEmpirical) model = determinism_model (900, 15);
  static const gsize splits[] = { 1, 5, 16, 17 }, big_splits[] = { 37, 256 };

  g_autofree double *two = NULL, *one = NULL;

  g_free (check_splits (model, 37, splits, G_N_ELEMENTS (splits)));
  openblas_set_num_threads (2);
  two = check_splits (model, 300, big_splits, G_N_ELEMENTS (big_splits));
  openblas_set_num_threads (1);
  one = check_splits (model, 300, big_splits, 1);
  g_assert_cmpmem (one, 300 * 225 * sizeof (double), two, 300 * 225 * sizeof (double));
}

/* ---- specs ---------------------------------------------------------------- */

typedef struct
{
  char *dir;
} Fixture;

/* 12 images of 4 x 4 with labels 0..3, three of each, and a PNG folder. */
static const guint8 spec_labels[12] = { 0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3 };

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *png_dir = NULL;

  f->dir = g_dir_make_tmp ("epd-test-empirical-XXXXXX", &error);
  g_assert_no_error (error);
  test_write_fashion_dir (f->dir, spec_labels, 12, 4);
  png_dir = g_build_filename (f->dir, "pngs", NULL);
  g_assert_cmpint (g_mkdir (png_dir, 0700), ==, 0);
  for (guint k = 0; k < 3; k++)
    {
      g_autofree char *name = g_strdup_printf ("%u.png", k);
      g_autofree char *path = g_build_filename (png_dir, name, NULL);

      test_write_png_solid (path, 10 + k, 12, k / 2.0, 0.5, 1.0);
    }
  g_setenv ("EPD_FASHION_MNIST_DIR", f->dir, TRUE);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_assert_cmpint (g_remove (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unsetenv ("EPD_FASHION_MNIST_DIR");
  remove_tree (f->dir);
  g_free (f->dir);
}

static EpdEmpirical *
open_ok (const char *spec, gsize n, guint side, guint channels)
{
  g_autoptr(GError) error = NULL;
  EpdEmpirical *model = epd_empirical_open_spec (spec, &error);
  guint got_side = 0, got_channels = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (epd_empirical_get_n (model), ==, n);
  g_assert_true (epd_denoiser_get_image_shape (EPD_DENOISER (model), &got_side, &got_channels));
  g_assert_cmpuint (got_side, ==, side);
  g_assert_cmpuint (got_channels, ==, channels);
  g_assert_cmpuint (epd_denoiser_get_dim (EPD_DENOISER (model)), ==, side * side * channels);
  return model;
}

static void
test_spec_fashion (Fixture *f, gconstpointer data)
{
  g_autoptr(EpdEmpirical) all = open_ok ("fashion-mnist", 12, 4, 1);
  g_autoptr(EpdEmpirical) first = open_ok ("fashion-mnist:5", 5, 4, 1);
  g_autoptr(EpdEmpirical) per_class = open_ok ("fashion-mnist:2:per-class", 8, 4, 1);
  g_autoptr(EpdEmpirical) test = open_ok ("fashion-mnist-test:3", 3, 4, 1);
  EpdDataset *ds = epd_empirical_get_dataset (per_class);
  static const guint8 picked[8] = { 0, 1, 2, 3, 3, 2, 1, 0 };

  g_assert_cmpstr (epd_denoiser_describe (EPD_DENOISER (first)), ==,
                   "dataset:fashion-mnist:5 (CPU, OpenBLAS float64)");
  g_assert_cmpmem (epd_dataset_get_labels (ds), 8, picked, 8);
  g_assert_cmpstr (epd_dataset_get_name (epd_empirical_get_dataset (test)), ==, "fashion-mnist:t10k");
  g_assert_true (epd_empirical_get_data (all) == epd_dataset_get_pixels (epd_empirical_get_dataset (all)));
}

static void
test_spec_png (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->dir, "pngs", NULL);
  g_autofree char *sized = g_strconcat (dir, ":8", NULL);
  g_autofree char *rgb = g_strconcat (dir, ":6:rgb", NULL);
  g_autofree char *rgb_default = g_strconcat (dir, ":rgb", NULL);
  g_autoptr(EpdEmpirical) a = open_ok (dir, 3, 28, 1);
  g_autoptr(EpdEmpirical) b = open_ok (sized, 3, 8, 1);
  g_autoptr(EpdEmpirical) c = open_ok (rgb, 3, 6, 3);
  g_autoptr(EpdEmpirical) d = open_ok (rgb_default, 3, 28, 3);
  const float *px = epd_empirical_get_data (c);

  /* image 2 is (1, 0.5, 1): red +1, green about 0 */
  g_assert_cmpfloat (px[2 * 108 + 0], ==, 1.0f);
  g_assert_cmpfloat_with_epsilon (px[2 * 108 + 1], 0.0, 1.0 / 127.5);
}

static void
assert_spec_fails (const char *spec, const char *words)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (epd_empirical_open_spec (spec, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == EPD_ERROR);
  g_test_message ("%s -> %s", spec, error->message);
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_spec_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->dir, "pngs", NULL);
  g_autofree char *bad_side = g_strconcat (dir, ":0", NULL);

  assert_spec_fails ("", "needs a name");
  assert_spec_fails ("fashion-mnist:0", "'0' is not an image count");
  assert_spec_fails ("fashion-mnist:ten", "'ten' is not an image count");
  assert_spec_fails ("fashion-mnist:", "'' is not an image count");
  assert_spec_fails ("fashion-mnist:5:each", "expected fashion-mnist");
  assert_spec_fails ("fashion-mnist:13", "first 13 images of 12");
  assert_spec_fails ("fashion-mnist:4:per-class", "fewer than the 4 per class");
  assert_spec_fails ("/no/such/folder", "neither fashion-mnist nor a folder");
  assert_spec_fails (bad_side, "is not in 1..4096");
  g_setenv ("EPD_FASHION_MNIST_DIR", dir, TRUE);
  assert_spec_fails ("fashion-mnist", "train-labels-idx1-ubyte.gz: cannot open");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/empirical/parity", test_parity);
  g_test_add_func ("/empirical/sharp-mixture", test_sharp_mixture);
  g_test_add_func ("/empirical/jvp", test_jvp);
  g_test_add_func ("/empirical/jvp-sharp", test_jvp_sharp);
  g_test_add_func ("/empirical/bad-input", test_bad_input);
  g_test_add_func ("/empirical/determinism/small", test_determinism_small);
  g_test_add_func ("/empirical/determinism/large", test_determinism_large);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/empirical/spec/fashion", test_spec_fashion);
  ADD ("/empirical/spec/png", test_spec_png);
  ADD ("/empirical/spec/errors", test_spec_errors);
#undef ADD
  return g_test_run ();
}
