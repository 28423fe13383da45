/* SPDX-License-Identifier: MIT
 * epd-sample-quality.c: FD, confidence, class histogram, within-class spread and
 * nearest-training-image distances of images that arrive in chunks. */
#include "epd-sample-quality.h"

#include <math.h>
#include <string.h>

#include "epd-diversity.h"

/* Rows converted from float at a time by epd_sample_quality_add_floats. */
#define FLOAT_BLOCK 512

struct _EpdSampleQuality
{
  const EpdClassifier *classifier;
  EpdDataset          *train;
  guint                dim;
  guint                hidden;
  guint                n_classes;
  gsize                n;
  gsize                capacity;
  double              *features;     /* [capacity][hidden] */
  double              *nearest;      /* [capacity] */
  guint               *counts;       /* [n_classes] */
  double               confidence_sum;
  gsize                n_keep;
  gsize                n_kept;
  double              *kept;         /* [n_keep][dim] */
  guint               *kept_class;   /* [n_keep] */
};

EpdSampleQuality *
epd_sample_quality_new (const EpdClassifier *classifier,
                        EpdDataset          *train,
                        gsize                n_keep)
{
  EpdSampleQuality *self = g_new0 (EpdSampleQuality, 1);

  self->classifier = classifier;
  self->train = train;
  self->dim = epd_classifier_n_inputs (classifier);
  self->hidden = epd_classifier_n_hidden (classifier);
  self->n_classes = epd_classifier_n_classes (classifier);
  self->counts = g_new0 (guint, self->n_classes);
  self->n_keep = n_keep;
  return self;
}

void
epd_sample_quality_free (EpdSampleQuality *self)
{
  if (self == NULL)
    return;
  g_free (self->features);
  g_free (self->nearest);
  g_free (self->counts);
  g_free (self->kept);
  g_free (self->kept_class);
  g_free (self);
}

static gboolean
out_of_memory (gsize    n,
               GError **error)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "not enough memory for the figures of %" G_GSIZE_FORMAT " images", n);
  return FALSE;
}

/* Room for n more images in the per-image arrays (doubling, never aborting). */
static gboolean
reserve (EpdSampleQuality *self,
         gsize             n,
         GError          **error)
{
  gsize want = self->n + n, cap = MAX (self->capacity, 256);
  double *features, *nearest;

  if (want <= self->capacity)
    return TRUE;
  while (cap < want)
    cap *= 2;
  features = g_try_realloc_n (self->features, cap, self->hidden * sizeof (double));
  if (features == NULL)
    return out_of_memory (want, error);
  self->features = features;
  nearest = g_try_realloc_n (self->nearest, cap, sizeof (double));
  if (nearest == NULL)
    return out_of_memory (want, error);
  self->nearest = nearest;
  self->capacity = cap;
  return TRUE;
}

static guint
argmax (const double *p,
        guint         n)
{
  guint best = 0;

  for (guint k = 1; k < n; k++)
    if (p[k] > p[best])
      best = k;
  return best;
}

/* Keeps the first n_keep images with their class, for the within-class spread. */
static gboolean
keep_rows (EpdSampleQuality *self,
           const double     *x,
           const guint      *klass,
           gsize             n,
           GError          **error)
{
  gsize take = MIN (n, self->n_keep - self->n_kept);

  if (take == 0)
    return TRUE;
  if (self->kept == NULL)
    {
      self->kept = g_try_malloc_n (self->n_keep, self->dim * sizeof (double));
      self->kept_class = g_try_malloc_n (self->n_keep, sizeof (guint));
      if (self->kept == NULL || self->kept_class == NULL)
        return out_of_memory (self->n_keep, error);
    }
  memcpy (self->kept + self->n_kept * self->dim, x, take * self->dim * sizeof (double));
  memcpy (self->kept_class + self->n_kept, klass, take * sizeof (guint));
  self->n_kept += take;
  return TRUE;
}

gboolean
epd_sample_quality_add (EpdSampleQuality *self,
                        const double     *x,
                        gsize             n,
                        GError          **error)
{
  g_autofree double *probs = NULL;
  g_autofree guint *klass = NULL;

  for (gsize i = 0; i < n * self->dim; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "image %" G_GSIZE_FORMAT " has a non-finite pixel",
                     self->n + i / self->dim);
        return FALSE;
      }
  probs = g_try_malloc_n (MAX (n, 1), self->n_classes * sizeof (double));
  klass = g_try_malloc_n (MAX (n, 1), sizeof (guint));
  if (probs == NULL || klass == NULL || !reserve (self, n, error))
    return (probs == NULL || klass == NULL) ? out_of_memory (n, error) : FALSE;
  epd_classifier_features (self->classifier, x, n, self->features + self->n * self->hidden);
  epd_classifier_predict (self->classifier, x, n, probs);
  for (gsize i = 0; i < n; i++)
    {
      klass[i] = argmax (probs + i * self->n_classes, self->n_classes);
      self->counts[klass[i]]++;
      self->confidence_sum += probs[i * self->n_classes + klass[i]];
    }
  if (self->train != NULL)
    epd_nearest_distances (epd_dataset_get_pixels (self->train), epd_dataset_get_n (self->train),
                           x, n, self->dim, self->nearest + self->n);
  self->n += n;
  return keep_rows (self, x, klass, n, error);
}

gboolean
epd_sample_quality_add_floats (EpdSampleQuality *self,
                               const float      *x,
                               gsize             n,
                               GError          **error)
{
  g_autofree double *block = g_try_malloc_n (FLOAT_BLOCK, self->dim * sizeof (double));

  if (block == NULL)
    return out_of_memory (FLOAT_BLOCK, error);
  for (gsize start = 0; start < n; start += FLOAT_BLOCK)
    {
      gsize m = MIN (FLOAT_BLOCK, n - start);

      for (gsize i = 0; i < m * self->dim; i++)
        block[i] = x[start * self->dim + i];
      if (!epd_sample_quality_add (self, block, m, error))
        return FALSE;
    }
  return TRUE;
}

static double
distance (const double *a,
          const double *b,
          guint         dim)
{
  double s = 0.0;

  for (guint j = 0; j < dim; j++)
    s += (a[j] - b[j]) * (a[j] - b[j]);
  return sqrt (s);
}

/* Mean over classes of the mean pairwise distance of the kept images of that class. */
static double
within_class_spread (const EpdSampleQuality *self)
{
  double total = 0.0;
  guint classes = 0;

  for (guint c = 0; c < self->n_classes; c++)
    {
      double sum = 0.0;
      gsize pairs = 0;

      for (gsize i = 0; i < self->n_kept; i++)
        for (gsize j = i + 1; j < self->n_kept && self->kept_class[i] == c; j++)
          if (self->kept_class[j] == c)
            {
              sum += distance (self->kept + i * self->dim, self->kept + j * self->dim, self->dim);
              pairs++;
            }
      if (pairs > 0)
        {
          total += sum / (double) pairs;
          classes++;
        }
    }
  return classes > 0 ? total / classes : NAN;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
nearest_figures (const EpdSampleQuality *self,
                 EpdQualityReport       *r)
{
  g_autofree double *sorted = NULL;
  double sum = 0.0;

  r->nearest_mean = r->nearest_median = r->nearest_min = NAN;
  if (self->train == NULL || self->n == 0)
    return;
  sorted = g_memdup2 (self->nearest, self->n * sizeof (double));
  qsort (sorted, self->n, sizeof (double), compare_doubles);
  for (gsize i = 0; i < self->n; i++)
    sum += sorted[i];
  r->nearest_mean = sum / (double) self->n;
  r->nearest_median = 0.5 * (sorted[(self->n - 1) / 2] + sorted[self->n / 2]);
  r->nearest_min = sorted[0];
}

gboolean
epd_sample_quality_report (EpdSampleQuality      *self,
                           const EpdFeatureStats *reference,
                           EpdQualityReport      *r,
                           GError               **error)
{
  g_autoptr(EpdFeatureStats) stats = NULL;

  memset (r, 0, sizeof *r);
  stats = epd_feature_stats_new (self->features, self->n, self->hidden, error);
  if (stats == NULL)
    return FALSE;
  if (reference->dim != self->hidden)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "the reference statistics have %u features, the classifier %u", reference->dim,
                   self->hidden);
      return FALSE;
    }
  r->n = self->n;
  r->fd = epd_frechet_distance (stats, reference);
  r->confidence = self->confidence_sum / (double) self->n;
  r->n_classes = self->n_classes;
  r->counts = g_memdup2 (self->counts, self->n_classes * sizeof (guint));
  r->class_entropy = epd_diversity_entropy (self->counts, self->n_classes);
  r->within_class = within_class_spread (self);
  r->n_kept = self->n_kept;
  nearest_figures (self, r);
  return TRUE;
}

void
epd_quality_report_clear (EpdQualityReport *report)
{
  g_clear_pointer (&report->counts, g_free);
}

EpdFeatureStats *
epd_feature_stats_of_dataset (const EpdClassifier *classifier,
                              EpdDataset          *dataset,
                              gsize                n,
                              GError             **error)
{
  g_autoptr(EpdSampleQuality) q = epd_sample_quality_new (classifier, NULL, 0);
  gsize available = epd_dataset_get_n (dataset);

  if (epd_dataset_get_dim (dataset) != epd_classifier_n_inputs (classifier))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s has %u pixels per image, the classifier takes %u",
                   epd_dataset_get_name (dataset), epd_dataset_get_dim (dataset),
                   epd_classifier_n_inputs (classifier));
      return NULL;
    }
  if (n == 0 || n > available)
    n = available;
  if (!epd_sample_quality_add_floats (q, epd_dataset_get_pixels (dataset), n, error))
    return NULL;
  return epd_feature_stats_new (q->features, q->n, q->hidden, error);
}
