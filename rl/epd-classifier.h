/* SPDX-License-Identifier: MIT */
/* epd-classifier.h: a small Fashion-MNIST classifier the project trains itself.
 * An MLP n_inputs -> hidden (ReLU) -> n_classes (softmax), trained with minibatch Adam on
 * float32 with OpenBLAS. Inputs are image rows in [-1, 1], the models' convention.
 * It is the stand-in for a learned preference model: the `classifier` reward is its
 * top class probability, and image diversity is the entropy of its class histogram. */
#pragma once

#include <gio/gio.h>

#include "epd.h"

G_BEGIN_DECLS

typedef struct _EpdClassifier EpdClassifier;

typedef void (*EpdClassifierProgress) (guint    epoch,
                                       guint    n_epochs,
                                       double   mean_loss,
                                       gpointer user_data);

typedef struct
{
  guint   hidden;         /* hidden units (default 128) */
  guint   epochs;         /* passes over the training set (default 6) */
  guint   batch_size;     /* minibatch (default 128) */
  double  learning_rate;  /* Adam step (default 1e-3) */
  guint   n_train;        /* training images used, 0 = all */
  guint32 seed;           /* initialisation and shuffling (default 1) */
} EpdClassifierSettings;

void            epd_classifier_settings_init (EpdClassifierSettings *settings);

/* A freshly initialised (untrained) network; weights drawn from seed. */
EpdClassifier  *epd_classifier_new        (guint                        n_inputs,
                                           guint                        hidden,
                                           guint                        n_classes,
                                           guint32                      seed);
void            epd_classifier_free       (EpdClassifier               *self);
guint           epd_classifier_n_inputs   (const EpdClassifier         *self);
guint           epd_classifier_n_classes  (const EpdClassifier         *self);
/* The test accuracy recorded when the weights were saved, or NAN if never measured. */
double          epd_classifier_get_test_accuracy (const EpdClassifier  *self);
void            epd_classifier_set_test_accuracy (EpdClassifier        *self,
                                                  double                accuracy);

/* inputs: [n][n_inputs] float32 in [-1, 1]; labels: [n] below n_classes.
 * Deterministic for settings->seed. progress (may be NULL) is called after each epoch. */
gboolean        epd_classifier_train      (EpdClassifier               *self,
                                           const float                 *inputs,
                                           const guint8                *labels,
                                           gsize                        n,
                                           const EpdClassifierSettings *settings,
                                           EpdClassifierProgress        progress,
                                           gpointer                     user_data,
                                           GCancellable                *cancellable,
                                           GError                     **error);
/* probs: [n][n_classes], each row a softmax. x: [n][n_inputs] doubles in [-1, 1]. */
void            epd_classifier_predict    (const EpdClassifier         *self,
                                           const double                *x,
                                           gsize                        n,
                                           double                      *probs);
/* features: [n][hidden], the ReLU activations of the hidden layer (the penultimate
 * layer), the feature space of the Frechet distance. */
void            epd_classifier_features   (const EpdClassifier         *self,
                                           const double                *x,
                                           gsize                        n,
                                           double                      *features);
guint           epd_classifier_n_hidden   (const EpdClassifier         *self);
/* Fraction of rows whose most probable class is the label. */
double          epd_classifier_accuracy   (const EpdClassifier         *self,
                                           const float                 *inputs,
                                           const guint8                *labels,
                                           gsize                        n);

/* Compact binary file: "EPDCLF01", u32 n_inputs, hidden, n_classes, u32 0, f64 test accuracy,
 * then the float32 weights (little-endian). Saved atomically. */
gboolean        epd_classifier_save       (const EpdClassifier         *self,
                                           const char                  *path,
                                           GError                     **error);
EpdClassifier  *epd_classifier_load       (const char                  *path,
                                           GError                     **error);

/* The Fashion-MNIST classifier for settings: loaded from the cache
 * (g_get_user_cache_dir()/epd-studio/, the file named after the settings) or, on first
 * use, trained on the training split, scored on the test split and cached. */
char           *epd_classifier_cache_path (const EpdClassifierSettings *settings);
EpdClassifier  *epd_classifier_train_fashion_mnist (const EpdClassifierSettings *settings,
                                                    EpdClassifierProgress        progress,
                                                    gpointer                     user_data,
                                                    GCancellable                *cancellable,
                                                    GError                     **error);
EpdClassifier  *epd_classifier_get_default (GCancellable               *cancellable,
                                            GError                    **error);
/* The same for other settings (e.g. another seed: a second, independent classifier). */
EpdClassifier  *epd_classifier_get_cached  (const EpdClassifierSettings *settings,
                                            GCancellable               *cancellable,
                                            GError                    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdClassifier, epd_classifier_free)

G_END_DECLS
