/* SPDX-License-Identifier: MIT
 * epd-fd.h: the Frechet distance between two sets of images in the feature space of the
 * project's Fashion-MNIST classifier (its penultimate layer), and a memorisation check.
 * It plays the role FID plays in the papers, but it is not Inception FID: the features
 * are 128 ReLU units of a small MLP trained on Fashion-MNIST. */
#pragma once

#include "epd-classifier.h"

G_BEGIN_DECLS

typedef struct
{
  guint   dim;
  gsize   n;
  double *mean;  /* [dim] */
  double *cov;   /* [dim][dim], with the unbiased 1/(n-1) normalisation */
} EpdFeatureStats;

/* Mean and covariance of n >= 2 feature rows [n][dim]. */
EpdFeatureStats *epd_feature_stats_new  (const double          *features,
                                         gsize                  n,
                                         guint                  dim,
                                         GError               **error);
/* The classifier's penultimate features of n image rows, then their statistics. */
EpdFeatureStats *epd_feature_stats_of_images (const EpdClassifier *classifier,
                                              const double        *x,
                                              gsize                n,
                                              GError             **error);
void             epd_feature_stats_free (EpdFeatureStats       *self);

/* |mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a^1/2 C_b C_a^1/2)^1/2). */
double           epd_frechet_distance   (const EpdFeatureStats *a,
                                         const EpdFeatureStats *b);

/* For each of the n rows x [n][dim], the Euclidean distance to its nearest row of
 * ref [n_ref][dim] (float32, as datasets hold them), through OpenBLAS in blocks. */
void             epd_nearest_distances  (const float           *ref,
                                         gsize                  n_ref,
                                         const double          *x,
                                         gsize                  n,
                                         guint                  dim,
                                         double                *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdFeatureStats, epd_feature_stats_free)

G_END_DECLS
