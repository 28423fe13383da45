/* SPDX-License-Identifier: MIT
 * epd-sample-quality.h: how good a set of generated Fashion-MNIST images is, measured
 * with the project's classifier: the Frechet distance to the test set in its feature
 * space (not Inception FID: see epd-fd.h), its confidence, the class histogram, the
 * spread within each class, and the distance of each image to its nearest training
 * image (memorisation). Images arrive in chunks, so a caller can sample 10,000 images
 * without holding them all. */
#pragma once

#include "epd-fd.h"
#include "epd-dataset.h"

G_BEGIN_DECLS

typedef struct
{
  gsize   n;               /* images seen */
  double  fd;              /* Frechet distance to the reference statistics */
  double  confidence;      /* mean top-class probability */
  guint   n_classes;
  guint  *counts;          /* [n_classes] most probable class of each image */
  double  class_entropy;   /* entropy of counts over log(n_classes): 1 = balanced */
  double  within_class;    /* mean over classes of the mean pairwise L2 distance of its kept
                            * images (classes with at least 2), NaN when no class has 2 */
  gsize   n_kept;          /* images the within-class figure used */
  double  nearest_mean;    /* distance to the nearest training image: mean, median, min; */
  double  nearest_median;  /* NaN without a training set */
  double  nearest_min;
} EpdQualityReport;

typedef struct _EpdSampleQuality EpdSampleQuality;

/* classifier and train (may be NULL: no memorisation figures) are borrowed and must
 * outlive the object. The first n_keep images are kept for the within-class spread. */
EpdSampleQuality *epd_sample_quality_new    (const EpdClassifier *classifier,
                                             EpdDataset          *train,
                                             gsize                n_keep);
void              epd_sample_quality_free   (EpdSampleQuality    *self);
/* n images [n][dim] in [-1, 1] (dim = the classifier's inputs); fails on a non-finite
 * pixel or when memory runs out. */
gboolean          epd_sample_quality_add    (EpdSampleQuality    *self,
                                             const double        *x,
                                             gsize                n,
                                             GError             **error);
/* The same for float rows (a dataset's images), converted in blocks. */
gboolean          epd_sample_quality_add_floats (EpdSampleQuality *self,
                                                 const float      *x,
                                                 gsize             n,
                                                 GError          **error);
/* The figures of every image added so far, FD against reference. */
gboolean          epd_sample_quality_report (EpdSampleQuality      *self,
                                             const EpdFeatureStats *reference,
                                             EpdQualityReport      *report,
                                             GError               **error);
void              epd_quality_report_clear  (EpdQualityReport    *report);

/* Feature statistics of the first n rows of a dataset (n = 0: all of them). */
EpdFeatureStats  *epd_feature_stats_of_dataset (const EpdClassifier *classifier,
                                                EpdDataset          *dataset,
                                                gsize                n,
                                                GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdSampleQuality, epd_sample_quality_free)

G_END_DECLS
