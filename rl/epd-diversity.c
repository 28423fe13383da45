/* SPDX-License-Identifier: MIT */
/* epd-diversity.c: normalised histogram entropy of modes (mixtures) or classes (images),
 * and the within-mode (mixtures) or pixel-space (images) spread. */
#include "epd-diversity.h"

#include <math.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-classifier.h"

double
epd_diversity_entropy (const guint *counts,
                       guint        n_bins)
{
  double total = 0.0, entropy = 0.0;

  if (n_bins < 2)
    return 0.0;
  for (guint i = 0; i < n_bins; i++)
    total += counts[i];
  if (total == 0.0)
    return 0.0;
  for (guint i = 0; i < n_bins; i++)
    if (counts[i] > 0)
      {
        double p = counts[i] / total;
        entropy -= p * log (p);
      }
  return entropy / log (n_bins);
}

guint
epd_diversity_coverage (const guint *counts,
                        guint        n_bins)
{
  guint covered = 0;

  for (guint i = 0; i < n_bins; i++)
    covered += counts[i] > 0;
  return covered;
}

gboolean
epd_diversity_mixture_histogram (EpdDenoiser  *model,
                                 const double *x_final,
                                 gsize         batch,
                                 guint       **counts,
                                 guint        *n_bins,
                                 GError      **error)
{
  EpdGmm *gmm;
  g_autofree guint *assign = NULL;

  if (!EPD_IS_GMM (model))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "mode coverage needs a Gaussian-mixture model on the CPU path, not %s",
                   epd_denoiser_describe (model));
      return FALSE;
    }
  gmm = EPD_GMM (model);
  *n_bins = epd_gmm_get_n_components (gmm);
  *counts = g_new0 (guint, *n_bins);
  assign = g_new (guint, MAX (batch, 1));
  epd_gmm_assign (gmm, x_final, NULL, batch, assign);
  for (gsize b = 0; b < batch; b++)
    (*counts)[assign[b]]++;
  return TRUE;
}

gboolean
epd_diversity_class_histogram (EpdClassifier *classifier,
                               const double  *x_final,
                               gsize          batch,
                               guint        **counts,
                               guint         *n_bins)
{
  guint n_classes = epd_classifier_n_classes (classifier);
  g_autofree double *probs = g_new (double, MAX (batch, 1) * n_classes);

  *n_bins = n_classes;
  *counts = g_new0 (guint, n_classes);
  epd_classifier_predict (classifier, x_final, batch, probs);
  for (gsize b = 0; b < batch; b++)
    {
      guint best = 0;

      for (guint c = 1; c < n_classes; c++)
        if (probs[b * n_classes + c] > probs[b * n_classes + best])
          best = c;
      (*counts)[best]++;
    }
  return TRUE;
}

static gboolean
image_histogram (EpdDenoiser  *model,
                 const double *x_final,
                 gsize         batch,
                 guint       **counts,
                 guint        *n_bins,
                 GError      **error)
{
  g_autoptr(EpdClassifier) classifier = NULL;
  guint side = 0, channels = 0;

  if (!epd_denoiser_get_image_shape (model, &side, &channels) || side != 28 || channels != 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "diversity needs a Gaussian mixture or 28x28 grey images, not %s",
                   epd_denoiser_describe (model));
      return FALSE;
    }
  classifier = epd_classifier_get_default (NULL, error);
  if (classifier == NULL)
    return FALSE;
  return epd_diversity_class_histogram (classifier, x_final, batch, counts, n_bins);
}

gboolean
epd_diversity_measure (EpdDenoiser  *model,
                       const double *x_final,
                       gsize         batch,
                       double       *diversity,
                       GError      **error)
{
  g_autofree guint *counts = NULL;
  guint n_bins = 0;
  gboolean ok;

  if (EPD_IS_GMM (model))
    ok = epd_diversity_mixture_histogram (model, x_final, batch, &counts, &n_bins, error);
  else
    ok = image_histogram (model, x_final, batch, &counts, &n_bins, error);
  if (!ok)
    return FALSE;
  *diversity = epd_diversity_entropy (counts, n_bins);
  return TRUE;
}

/* ---- spread ---- */

/* Fixed, so that every table and run is measured against the same reference batch. */
#define SPREAD_REFERENCE_SEED 0x53505244u

static double
mixture_spread (EpdGmm       *gmm,
                const double *x,
                gsize         batch)
{
  guint dim = epd_gmm_get_dim (gmm);
  const double *means = epd_gmm_get_means (gmm), *stds = epd_gmm_get_stds (gmm);
  g_autofree guint *assign = g_new (guint, MAX (batch, 1));
  double total = 0.0;

  epd_gmm_assign (gmm, x, NULL, batch, assign);
  for (gsize b = 0; b < batch; b++)
    {
      const double *mu = means + (gsize) assign[b] * dim;
      double d2 = 0.0;

      for (guint i = 0; i < dim; i++)
        d2 += (x[b * dim + i] - mu[i]) * (x[b * dim + i] - mu[i]);
      total += sqrt (d2) / stds[assign[b]];
    }
  return batch > 0 ? total / batch : NAN;
}

static double
pairwise_spread (const double *x,
                 gsize         batch,
                 guint         dim)
{
  double total = 0.0;

  if (batch < 2)
    return NAN;
  for (gsize a = 0; a < batch; a++)
    for (gsize b = a + 1; b < batch; b++)
      {
        double d2 = 0.0;

        for (guint i = 0; i < dim; i++)
          d2 += (x[a * dim + i] - x[b * dim + i]) * (x[a * dim + i] - x[b * dim + i]);
        total += sqrt (d2);
      }
  return total / (batch * (batch - 1) / 2.0);
}

static gboolean
spread_unsupported (EpdDenoiser *model,
                    GError     **error)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "the spread needs a Gaussian mixture or the empirical denoiser on the CPU, not %s",
               epd_denoiser_describe (model));
  return FALSE;
}

gboolean
epd_diversity_spread_statistic (EpdDenoiser  *model,
                                const double *x,
                                gsize         batch,
                                double       *value,
                                GError      **error)
{
  if (EPD_IS_GMM (model))
    *value = mixture_spread (EPD_GMM (model), x, batch);
  else if (EPD_IS_EMPIRICAL (model))
    *value = pairwise_spread (x, batch, epd_denoiser_get_dim (model));
  else
    return spread_unsupported (model, error);
  return TRUE;
}

gboolean
epd_diversity_spread_reference (EpdDenoiser *model,
                                double      *value,
                                GError     **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SPREAD_REFERENCE_SEED);
  guint dim = epd_denoiser_get_dim (model);
  g_autofree double *x = NULL;
  gsize n;

  if (EPD_IS_GMM (model))
    {
      n = EPD_SPREAD_REFERENCE_N;
      x = g_new (double, n * dim);
      epd_gmm_sample (EPD_GMM (model), rand, n, x);
    }
  else if (EPD_IS_EMPIRICAL (model))
    {
      EpdEmpirical *emp = EPD_EMPIRICAL (model);
      const float *data = epd_empirical_get_data (emp);
      gsize rows = epd_empirical_get_n (emp);

      /* The empirical model's data are its training images: draw rows of them. */
      n = MIN (rows, EPD_SPREAD_REFERENCE_IMAGES);
      x = g_new (double, MAX (n, 1) * dim);
      for (gsize b = 0; b < n; b++)
        {
          gsize row = rows > n ? (gsize) g_rand_int_range (rand, 0, (gint32) MIN (rows, G_MAXINT32)) : b;

          for (guint i = 0; i < dim; i++)
            x[b * dim + i] = data[row * dim + i];
        }
    }
  else
    return spread_unsupported (model, error);
  return epd_diversity_spread_statistic (model, x, n, value, error);
}

gboolean
epd_diversity_spread (EpdDenoiser  *model,
                      const double *x,
                      gsize         batch,
                      double        reference,
                      double       *ratio,
                      GError      **error)
{
  double value;

  if (!epd_diversity_spread_statistic (model, x, batch, &value, error))
    return FALSE;
  *ratio = value / reference;
  return TRUE;
}
