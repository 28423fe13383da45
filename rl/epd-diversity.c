/* epd-diversity.c: normalised histogram entropy of modes (mixtures) or classes (images). */
#include "epd-diversity.h"

#include <math.h>

#include "data/epd-gmm.h"
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
