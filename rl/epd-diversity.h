/* epd-diversity.h: how varied a batch of final samples is (helper E2).
 * Mixtures: mode coverage (entropy of the nearest-component histogram,
 * normalised to [0,1] by log(number of components)). Image models: entropy of the
 * classifier's class histogram, normalised by log(10). */
#pragma once

#include "solver/epd.h"
#include "epd-classifier.h"

G_BEGIN_DECLS

gboolean epd_diversity_measure (EpdDenoiser  *model,
                                const double *x_final,
                                gsize         batch,
                                double       *diversity,
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
