/* SPDX-License-Identifier: MIT
 * epd-fd.c: Frechet distance in classifier feature space; nearest-neighbour distances. */
#include "epd-fd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "epd-linalg.h"

/* Rows of x per block of the nearest-neighbour search: bounds the scratch to
 * NEAREST_BLOCK * NEAREST_REF_BLOCK floats. */
#define NEAREST_BLOCK     256
#define NEAREST_REF_BLOCK 4096

EpdFeatureStats *
epd_feature_stats_new (const double *features,
                       gsize         n,
                       guint         dim,
                       GError      **error)
{
  EpdFeatureStats *self;
  g_autofree double *centred = NULL;

  if (n < 2 || dim == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "feature statistics need at least 2 rows (got %" G_GSIZE_FORMAT ")", n);
      return NULL;
    }
  for (gsize i = 0; i < n * dim; i++)
    if (!isfinite (features[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "feature row %" G_GSIZE_FORMAT " is not finite", i / dim);
        return NULL;
      }
  self = g_new0 (EpdFeatureStats, 1);
  self->dim = dim;
  self->n = n;
  self->mean = g_new0 (double, dim);
  self->cov = g_new0 (double, (gsize) dim * dim);
  for (gsize i = 0; i < n; i++)
    for (guint j = 0; j < dim; j++)
      self->mean[j] += features[i * dim + j];
  for (guint j = 0; j < dim; j++)
    self->mean[j] /= (double) n;
  centred = g_new (double, n * dim);
  for (gsize i = 0; i < n; i++)
    for (guint j = 0; j < dim; j++)
      centred[i * dim + j] = features[i * dim + j] - self->mean[j];
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) dim, (int) dim, (int) n,
               1.0 / (double) (n - 1), centred, (int) dim, centred, (int) dim,
               0.0, self->cov, (int) dim);
  return self;
}

EpdFeatureStats *
epd_feature_stats_of_images (const EpdClassifier *classifier,
                             const double        *x,
                             gsize                n,
                             GError             **error)
{
  guint dim = epd_classifier_n_hidden (classifier);
  g_autofree double *features = g_try_new (double, n * dim);

  if (features == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "not enough memory for the features of %" G_GSIZE_FORMAT " images", n);
      return NULL;
    }
  epd_classifier_features (classifier, x, n, features);
  return epd_feature_stats_new (features, n, dim, error);
}

void
epd_feature_stats_free (EpdFeatureStats *self)
{
  if (self == NULL)
    return;
  g_free (self->mean);
  g_free (self->cov);
  g_free (self);
}

double
epd_frechet_distance (const EpdFeatureStats *a,
                      const EpdFeatureStats *b)
{
  guint d = a->dim;
  g_autofree double *root = g_new (double, (gsize) d * d);
  g_autofree double *tmp = g_new (double, (gsize) d * d);
  g_autofree double *mid = g_new (double, (gsize) d * d);
  g_autofree double *evals = g_new (double, d);
  g_autofree double *vecs = g_new (double, (gsize) d * d);
  double dist = 0.0, trace_root = 0.0;

  g_return_val_if_fail (a->dim == b->dim, NAN);
  for (guint j = 0; j < d; j++)
    {
      double dm = a->mean[j] - b->mean[j];

      dist += dm * dm + a->cov[j * d + j] + b->cov[j * d + j];
    }
  /* tr((C_a C_b)^1/2) through the symmetric C_a^1/2 C_b C_a^1/2, which has the same
   * eigenvalues and stays symmetric, so Jacobi applies. */
  epd_sym_sqrt (a->cov, d, root);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) d, (int) d, (int) d,
               1.0, root, (int) d, b->cov, (int) d, 0.0, tmp, (int) d);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) d, (int) d, (int) d,
               1.0, tmp, (int) d, root, (int) d, 0.0, mid, (int) d);
  for (guint i = 0; i < d; i++)
    for (guint j = i + 1; j < d; j++)
      mid[i * d + j] = mid[j * d + i] = 0.5 * (mid[i * d + j] + mid[j * d + i]);
  epd_sym_eigen (mid, d, evals, vecs);
  for (guint k = 0; k < d; k++)
    trace_root += sqrt (MAX (evals[k], 0.0));
  return MAX (dist - 2.0 * trace_root, 0.0);
}

static void
nearest_block (const float *ref,
               gsize        n_ref,
               const float *xs,
               const float *x_norm,
               gsize        m,
               guint        dim,
               float       *dots,
               double      *best)
{
  for (gsize r0 = 0; r0 < n_ref; r0 += NEAREST_REF_BLOCK)
    {
      gsize rm = MIN (NEAREST_REF_BLOCK, n_ref - r0);

      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) rm, (int) dim,
                   1.0f, xs, (int) dim, ref + r0 * dim, (int) dim, 0.0f, dots, (int) rm);
      for (gsize r = 0; r < rm; r++)
        {
          const float *y = ref + (r0 + r) * dim;
          double y_norm = 0.0;

          for (guint j = 0; j < dim; j++)
            y_norm += (double) y[j] * y[j];
          for (gsize i = 0; i < m; i++)
            {
              double d2 = x_norm[i] + y_norm - 2.0 * dots[i * rm + r];

              best[i] = MIN (best[i], d2);
            }
        }
    }
}

void
epd_nearest_distances (const float  *ref,
                       gsize         n_ref,
                       const double *x,
                       gsize         n,
                       guint         dim,
                       double       *out)
{
  g_autofree float *xs = g_new (float, (gsize) NEAREST_BLOCK * dim);
  g_autofree float *x_norm = g_new (float, NEAREST_BLOCK);
  g_autofree float *dots = g_new (float, (gsize) NEAREST_BLOCK * NEAREST_REF_BLOCK);

  for (gsize start = 0; start < n; start += NEAREST_BLOCK)
    {
      gsize m = MIN (NEAREST_BLOCK, n - start);

      for (gsize i = 0; i < m; i++)
        {
          double s = 0.0;

          for (guint j = 0; j < dim; j++)
            {
              xs[i * dim + j] = (float) x[(start + i) * dim + j];
              s += x[(start + i) * dim + j] * x[(start + i) * dim + j];
            }
          x_norm[i] = (float) s;
          out[start + i] = INFINITY;
        }
      nearest_block (ref, n_ref, xs, x_norm, m, dim, dots, out + start);
      /* The expanded form can dip below zero by rounding for near-duplicates. */
      for (gsize i = 0; i < m; i++)
        out[start + i] = sqrt (MAX (out[start + i], 0.0));
    }
}
