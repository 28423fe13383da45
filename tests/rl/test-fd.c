/* SPDX-License-Identifier: MIT
 * test-fd.c: the Jacobi eigen-decomposition, the Frechet distance against its closed form
 * for commuting covariances, and nearest-neighbour distances against brute force. */
#include <math.h>

#include "epd-fd.h"
#include "epd-linalg.h"
#include "epd-random.h"

#define N 24

static void
random_symmetric (GRand     *rand,
                  double    *a,
                  guint      n)
{
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j <= i; j++)
      a[i * n + j] = a[j * n + i] = epd_random_normal (rand);
}

/* A random orthogonal matrix: the eigenvectors of a random symmetric one. */
static void
random_orthogonal (GRand     *rand,
                   double    *q,
                   guint      n)
{
  g_autofree double *a = g_new (double, n * n);
  g_autofree double *evals = g_new (double, n);

  random_symmetric (rand, a, n);
  epd_sym_eigen (a, n, evals, q);
}

static void
test_eigen (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  double a[N * N], vecs[N * N], evals[N];
  double scale = 0.0;

  random_symmetric (rand, a, N);
  epd_sym_eigen (a, N, evals, vecs);
  for (guint i = 0; i < N; i++)
    scale = MAX (scale, fabs (evals[i]));
  /* A v_k = lambda_k v_k and V^T V = I. */
  for (guint k = 0; k < N; k++)
    for (guint i = 0; i < N; i++)
      {
        double av = 0.0, dot = 0.0;

        for (guint j = 0; j < N; j++)
          {
            av += a[i * N + j] * vecs[j * N + k];
            dot += vecs[j * N + i] * vecs[j * N + k];
          }
        g_assert_cmpfloat (fabs (av - evals[k] * vecs[i * N + k]), <, 1e-12 * scale);
        g_assert_cmpfloat (fabs (dot - (i == k ? 1.0 : 0.0)), <, 1e-12);
      }
}

static void
test_sqrt (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (8);
  double b[N * N], a[N * N], root[N * N];

  random_symmetric (rand, b, N);
  /* a = b b^T + I is positive definite. */
  for (guint i = 0; i < N; i++)
    for (guint j = 0; j < N; j++)
      {
        double s = i == j ? 1.0 : 0.0;

        for (guint k = 0; k < N; k++)
          s += b[i * N + k] * b[j * N + k];
        a[i * N + j] = s;
      }
  epd_sym_sqrt (a, N, root);
  for (guint i = 0; i < N; i++)
    for (guint j = 0; j < N; j++)
      {
        double s = 0.0;

        for (guint k = 0; k < N; k++)
          s += root[i * N + k] * root[k * N + j];
        g_assert_cmpfloat (fabs (s - a[i * N + j]), <, 1e-10 * a[i * N + i]);
      }
}

/* Covariances Q diag(da) Q^T and Q diag(db) Q^T commute, so
 * FD = |mu_a - mu_b|^2 + sum_i (sqrt(da_i) - sqrt(db_i))^2. */
static void
test_frechet_closed_form (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);
  double q[N * N], da[N], db[N], expected = 0.0;
  EpdFeatureStats a = { N, 100, g_new (double, N), g_new (double, N * N) };
  EpdFeatureStats b = { N, 100, g_new (double, N), g_new (double, N * N) };

  random_orthogonal (rand, q, N);
  for (guint i = 0; i < N; i++)
    {
      da[i] = exp (epd_random_normal (rand));
      db[i] = exp (epd_random_normal (rand));
      a.mean[i] = epd_random_normal (rand);
      b.mean[i] = epd_random_normal (rand);
      expected += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
      expected += (sqrt (da[i]) - sqrt (db[i])) * (sqrt (da[i]) - sqrt (db[i]));
    }
  for (guint i = 0; i < N; i++)
    for (guint j = 0; j < N; j++)
      {
        double sa = 0.0, sb = 0.0;

        for (guint k = 0; k < N; k++)
          {
            sa += q[i * N + k] * da[k] * q[j * N + k];
            sb += q[i * N + k] * db[k] * q[j * N + k];
          }
        a.cov[i * N + j] = sa;
        b.cov[i * N + j] = sb;
      }
  g_assert_cmpfloat (fabs (epd_frechet_distance (&a, &b) - expected), <, 1e-9 * expected);
  g_assert_cmpfloat (fabs (epd_frechet_distance (&b, &a) - expected), <, 1e-9 * expected);
  g_assert_cmpfloat (epd_frechet_distance (&a, &a), <, 1e-9);
  g_free (a.mean); g_free (a.cov); g_free (b.mean); g_free (b.cov);
}

static void
test_stats (void)
{
  /* Three rows of two features: mean (2, 1), unbiased covariance by hand. */
  const double rows[] = { 1, 0, 2, 1, 3, 2 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EpdFeatureStats) s = epd_feature_stats_new (rows, 3, 2, &error);
  g_autoptr (EpdFeatureStats) bad = NULL;
  const double nan_rows[] = { 1, NAN, 2, 1 };

  g_assert_no_error (error);
  g_assert_cmpfloat (s->mean[0], ==, 2.0);
  g_assert_cmpfloat (s->mean[1], ==, 1.0);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat (fabs (s->cov[k] - 1.0), <, 1e-15);
  bad = epd_feature_stats_new (rows, 1, 2, &error);
  g_assert_null (bad);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  bad = epd_feature_stats_new (nan_rows, 2, 2, &error);
  g_assert_null (bad);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
}

static void
test_nearest (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (10);
  enum { DIM = 37, NREF = 5000, NX = 300 };
  g_autofree float *ref = g_new (float, NREF * DIM);
  g_autofree double *x = g_new (double, NX * DIM);
  g_autofree double *got = g_new (double, NX);

  for (guint i = 0; i < NREF * DIM; i++)
    ref[i] = (float) epd_random_normal (rand);
  for (guint i = 0; i < NX; i++)
    for (guint j = 0; j < DIM; j++)
      /* Every third row is a copy of a reference row: its distance must be ~0. */
      x[i * DIM + j] = i % 3 == 0 ? ref[(i * 7) * DIM + j] : epd_random_normal (rand);
  epd_nearest_distances (ref, NREF, x, NX, DIM, got);
  for (guint i = 0; i < NX; i++)
    {
      double best = INFINITY;

      for (guint r = 0; r < NREF; r++)
        {
          double d2 = 0.0;

          for (guint j = 0; j < DIM; j++)
            d2 += (x[i * DIM + j] - ref[r * DIM + j]) * (x[i * DIM + j] - ref[r * DIM + j]);
          best = MIN (best, d2);
        }
      /* float32 dot products of 37 terms: absolute error well under 1e-2 here. */
      g_assert_cmpfloat (fabs (got[i] - sqrt (best)), <, i % 3 == 0 ? 2e-2 : 1e-3 * sqrt (best) + 1e-2);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd/eigen", test_eigen);
  g_test_add_func ("/fd/sqrt", test_sqrt);
  g_test_add_func ("/fd/frechet-closed-form", test_frechet_closed_form);
  g_test_add_func ("/fd/stats", test_stats);
  g_test_add_func ("/fd/nearest", test_nearest);
  return g_test_run ();
}
