/* SPDX-License-Identifier: MIT */
/* epd-diversity.h: how varied a batch of final samples is.
 * Mixtures: mode coverage (entropy of the nearest-component histogram,
 * normalised to [0,1] by log(number of components)). Image models: entropy of the
 * classifier's class histogram, normalised by log(10).
 *
 * Coverage cannot see collapse under a deterministic ODE: the noise fixes the mode,
 * and reward hacking contracts the samples *within* it. The spread measures that:
 *   mixtures  mean over samples of |x - mu_k| / std_k, k the most-responsible component;
 *   images    (the empirical denoiser) mean pairwise L2 distance of the batch;
 * as a ratio to the same statistic of exact samples of the model's data
 * (epd_gmm_sample, or the training images): 1 is the data's spread, < 1 collapse. */
#pragma once

#include "epd.h"
#include "epd-classifier.h"

G_BEGIN_DECLS

gboolean epd_diversity_measure (EpdDenoiser  *model,
                                const double *x_final,
                                gsize         batch,
                                double       *diversity,
                                GError      **error);

/* Samples in the exact reference batch of the spread (mixtures; images use at most
 * EPD_SPREAD_REFERENCE_IMAGES training rows, pairs being quadratic). */
#define EPD_SPREAD_REFERENCE_N 4096
#define EPD_SPREAD_REFERENCE_IMAGES 512

/* The spread statistic of a batch (NaN for a batch of images smaller than 2);
 * EPD_ERROR_UNSUPPORTED for models other than a mixture or the empirical denoiser. */
gboolean epd_diversity_spread_statistic (EpdDenoiser  *model,
                                         const double *x,
                                         gsize         batch,
                                         double       *value,
                                         GError      **error);
/* The statistic of exact samples of the model's data from a fixed seed. */
gboolean epd_diversity_spread_reference (EpdDenoiser  *model,
                                         double       *value,
                                         GError      **error);
/* statistic (x) / reference: the spread ratio. */
gboolean epd_diversity_spread           (EpdDenoiser  *model,
                                         const double *x,
                                         gsize         batch,
                                         double        reference,
                                         double       *ratio,
                                         GError      **error);

/* Shannon entropy of a histogram divided by log(n_bins): 0 when every count sits in one
 * bin (or there are none), 1 when the counts are uniform. */
double   epd_diversity_entropy         (const guint  *counts,
                                        guint         n_bins);
/* Number of bins with at least one count (modes or classes covered). */
guint    epd_diversity_coverage        (const guint  *counts,
                                        guint         n_bins);
/* counts[n_bins] (g_free) of the most-responsible mixture component of each sample. */
gboolean epd_diversity_mixture_histogram (EpdDenoiser  *model,
                                          const double *x_final,
                                          gsize         batch,
                                          guint       **counts,
                                          guint        *n_bins,
                                          GError      **error);
/* counts[n_bins] (g_free) of the classifier's most probable class of each sample. */
gboolean epd_diversity_class_histogram (EpdClassifier *classifier,
                                        const double  *x_final,
                                        gsize          batch,
                                        guint        **counts,
                                        guint         *n_bins);

G_END_DECLS
