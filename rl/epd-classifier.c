/* SPDX-License-Identifier: MIT */
/* epd-classifier.c: an MLP classifier trained with minibatch Adam (float32, OpenBLAS). */
#include "epd-classifier.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "epd-dataset.h"
#include "epd-file.h"


#define CLASSIFIER_MAGIC "EPDCLF01"
#define HEADER_SIZE 32
#define PREDICT_CHUNK 256

struct _EpdClassifier
{
  guint   n_inputs;
  guint   hidden;
  guint   n_classes;
  double  test_accuracy;
  gsize   n_params;
  float  *params;    /* w1 [hidden][n_inputs], b1 [hidden], w2 [n_classes][hidden], b2 [n_classes] */
};

/* Views into one flat parameter (or gradient) vector. */
typedef struct
{
  float *w1, *b1, *w2, *b2;
} Layers;

/* Scratch buffers of one forward/backward pass over up to `rows` rows. */
typedef struct
{
  gsize  rows;
  float *x;       /* [rows][n_inputs] */
  float *h;       /* [rows][hidden] after ReLU */
  float *p;       /* [rows][n_classes] probabilities, then the logit gradient */
  float *dh;      /* [rows][hidden] */
} Scratch;

static Layers
layers_of (const EpdClassifier *self,
           float               *base)
{
  Layers l;

  l.w1 = base;
  l.b1 = l.w1 + (gsize) self->hidden * self->n_inputs;
  l.w2 = l.b1 + self->hidden;
  l.b2 = l.w2 + (gsize) self->n_classes * self->hidden;
  return l;
}

static gsize
n_params_of (guint n_inputs,
             guint hidden,
             guint n_classes)
{
  return (gsize) hidden * n_inputs + hidden + (gsize) n_classes * hidden + n_classes;
}

void
epd_classifier_settings_init (EpdClassifierSettings *settings)
{
  settings->hidden = 128;
  settings->epochs = 6;
  settings->batch_size = 128;
  settings->learning_rate = 1e-3;
  settings->n_train = 0;
  settings->seed = 1;
}

static EpdClassifier *
classifier_alloc (guint n_inputs,
                  guint hidden,
                  guint n_classes)
{
  EpdClassifier *self = g_new0 (EpdClassifier, 1);

  self->n_inputs = n_inputs;
  self->hidden = hidden;
  self->n_classes = n_classes;
  self->test_accuracy = NAN;
  self->n_params = n_params_of (n_inputs, hidden, n_classes);
  self->params = g_new0 (float, self->n_params);
  return self;
}

EpdClassifier *
epd_classifier_new (guint   n_inputs,
                    guint   hidden,
                    guint   n_classes,
                    guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  EpdClassifier *self;
  Layers l;

  g_return_val_if_fail (n_inputs > 0 && hidden > 0 && n_classes > 1, NULL);
  self = classifier_alloc (n_inputs, hidden, n_classes);
  l = layers_of (self, self->params);
  /* He initialisation for the ReLU layer, Glorot-like for the output; biases zero. */
  for (gsize i = 0; i < (gsize) hidden * n_inputs; i++)
    l.w1[i] = (float) (epd_random_normal (rand) * sqrt (2.0 / n_inputs));
  for (gsize i = 0; i < (gsize) n_classes * hidden; i++)
    l.w2[i] = (float) (epd_random_normal (rand) * sqrt (1.0 / hidden));
  return self;
}

void
epd_classifier_free (EpdClassifier *self)
{
  if (self == NULL)
    return;
  g_free (self->params);
  g_free (self);
}

guint
epd_classifier_n_inputs (const EpdClassifier *self)
{
  return self->n_inputs;
}

guint
epd_classifier_n_classes (const EpdClassifier *self)
{
  return self->n_classes;
}

double
epd_classifier_get_test_accuracy (const EpdClassifier *self)
{
  return self->test_accuracy;
}

void
epd_classifier_set_test_accuracy (EpdClassifier *self,
                                  double         accuracy)
{
  self->test_accuracy = accuracy;
}

static void
scratch_init (Scratch             *s,
              const EpdClassifier *self,
              gsize                rows)
{
  s->rows = rows;
  s->x = g_new (float, rows * self->n_inputs);
  s->h = g_new (float, rows * self->hidden);
  s->p = g_new (float, rows * self->n_classes);
  s->dh = g_new (float, rows * self->hidden);
}

static void
scratch_clear (Scratch *s)
{
  g_free (s->x);
  g_free (s->h);
  g_free (s->p);
  g_free (s->dh);
}

static void
softmax_rows (float *p,
              gsize  rows,
              guint  n_classes)
{
  for (gsize i = 0; i < rows; i++)
    {
      float *row = p + i * n_classes;
      double max = row[0], sum = 0.0;

      for (guint c = 1; c < n_classes; c++)
        max = MAX (max, row[c]);
      for (guint c = 0; c < n_classes; c++)
        sum += exp (row[c] - max);
      for (guint c = 0; c < n_classes; c++)
        row[c] = (float) (exp (row[c] - max) / sum);
    }
}

/* s->x [m] rows -> s->h (ReLU activations) and s->p (probabilities). */
static void
forward (const EpdClassifier *self,
         Scratch             *s,
         gsize                m)
{
  Layers l = layers_of (self, self->params);
  int in = self->n_inputs, hid = self->hidden, cls = self->n_classes;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, hid, in,
               1.0f, s->x, in, l.w1, in, 0.0f, s->h, hid);
  for (gsize i = 0; i < m; i++)
    for (int j = 0; j < hid; j++)
      {
        float v = s->h[i * hid + j] + l.b1[j];
        s->h[i * hid + j] = v > 0.0f ? v : 0.0f;
      }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, cls, hid,
               1.0f, s->h, hid, l.w2, hid, 0.0f, s->p, cls);
  for (gsize i = 0; i < m; i++)
    for (int c = 0; c < cls; c++)
      s->p[i * cls + c] += l.b2[c];
  softmax_rows (s->p, m, self->n_classes);
}

static void
column_sums (const float *a,
             gsize        rows,
             guint        cols,
             float       *out)
{
  memset (out, 0, cols * sizeof (float));
  for (gsize i = 0; i < rows; i++)
    for (guint j = 0; j < cols; j++)
      out[j] += a[i * cols + j];
}

/* Mean cross-entropy gradient of the batch in s into grad; returns the mean loss. */
static double
backward (const EpdClassifier *self,
          Scratch             *s,
          const guint8        *labels,
          gsize                m,
          float               *grad)
{
  Layers l = layers_of (self, self->params);
  Layers g = layers_of (self, grad);
  int in = self->n_inputs, hid = self->hidden, cls = self->n_classes;
  double loss = 0.0;

  for (gsize i = 0; i < m; i++)
    {
      float *row = s->p + i * cls;

      loss -= log (MAX (row[labels[i]], 1e-30f));
      row[labels[i]] -= 1.0f;
      for (int c = 0; c < cls; c++)
        row[c] /= (float) m;
    }
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, cls, hid, (int) m,
               1.0f, s->p, cls, s->h, hid, 0.0f, g.w2, hid);
  column_sums (s->p, m, cls, g.b2);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) m, hid, cls,
               1.0f, s->p, cls, l.w2, hid, 0.0f, s->dh, hid);
  for (gsize i = 0; i < m * (gsize) hid; i++)
    if (s->h[i] <= 0.0f)
      s->dh[i] = 0.0f;
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, hid, in, (int) m,
               1.0f, s->dh, hid, s->x, in, 0.0f, g.w1, in);
  column_sums (s->dh, m, hid, g.b1);
  return loss / m;
}

typedef struct
{
  double  *m;
  double  *v;
  guint64  t;
} Adam;

static gboolean
check_training_data (const EpdClassifier         *self,
                     const float                 *inputs,
                     const guint8                *labels,
                     gsize                        n,
                     const EpdClassifierSettings *settings,
                     GError                     **error)
{
  if (n == 0 || settings->batch_size == 0 || settings->epochs == 0 ||
      !(settings->learning_rate > 0.0) || settings->hidden != self->hidden)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "classifier training: need images, batch size, epochs, a positive learning "
                   "rate and hidden = %u (got n %" G_GSIZE_FORMAT ", batch %u, epochs %u, lr %g, hidden %u)",
                   self->hidden, n, settings->batch_size, settings->epochs,
                   settings->learning_rate, settings->hidden);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    if (labels[i] >= self->n_classes)
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                     "classifier training: label %u of image %" G_GSIZE_FORMAT " is not below %u",
                     labels[i], i, self->n_classes);
        return FALSE;
      }
  for (gsize i = 0; i < n * self->n_inputs; i++)
    if (!isfinite (inputs[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "classifier training: image %" G_GSIZE_FORMAT " has a non-finite value",
                     i / self->n_inputs);
        return FALSE;
      }
  return TRUE;
}

static void
shuffle (GRand *rand,
         guint *order,
         gsize  n)
{
  for (gsize i = n - 1; i > 0; i--)
    {
      gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) (i + 1));
      guint tmp = order[i];

      order[i] = order[j];
      order[j] = tmp;
    }
}

/* One pass over the data in the order given; returns the mean loss, or NAN when cancelled. */
static double
train_epoch (EpdClassifier               *self,
             const float                 *inputs,
             const guint8                *labels,
             const guint                 *order,
             gsize                        n,
             const EpdClassifierSettings *settings,
             Scratch                     *s,
             Adam                        *adam,
             float                       *grad,
             GCancellable                *cancellable)
{
  g_autofree guint8 *batch_labels = g_new (guint8, s->rows);
  double loss = 0.0;

  for (gsize start = 0; start < n; start += s->rows)
    {
      gsize m = MIN (s->rows, n - start);

      if (g_cancellable_is_cancelled (cancellable))
        return NAN;
      for (gsize i = 0; i < m; i++)
        {
          memcpy (s->x + i * self->n_inputs, inputs + (gsize) order[start + i] * self->n_inputs,
                  self->n_inputs * sizeof (float));
          batch_labels[i] = labels[order[start + i]];
        }
      forward (self, s, m);
      loss += backward (self, s, batch_labels, m, grad) * m;
      adam->t++;
      epd_adam_step_float (&EPD_ADAM_DEFAULTS, adam->t, settings->learning_rate, self->params, grad,
                           adam->m, adam->v, self->n_params);
    }
  return loss / n;
}

gboolean
epd_classifier_train (EpdClassifier               *self,
                      const float                 *inputs,
                      const guint8                *labels,
                      gsize                        n,
                      const EpdClassifierSettings *settings,
                      EpdClassifierProgress        progress,
                      gpointer                     user_data,
                      GCancellable                *cancellable,
                      GError                     **error)
{
  g_autoptr(GRand) rand = NULL;
  g_autofree guint *order = NULL;
  g_autofree float *grad = NULL;
  g_autofree double *adam_m = NULL;
  g_autofree double *adam_v = NULL;
  Adam adam;
  Scratch s;
  gboolean ok = TRUE;

  if (!check_training_data (self, inputs, labels, n, settings, error))
    return FALSE;
  rand = g_rand_new_with_seed (settings->seed ^ 0x5eedu);
  order = g_new (guint, n);
  for (gsize i = 0; i < n; i++)
    order[i] = (guint) i;
  grad = g_new0 (float, self->n_params);
  adam_m = g_new0 (double, self->n_params);
  adam_v = g_new0 (double, self->n_params);
  adam = (Adam) { adam_m, adam_v, 0 };
  scratch_init (&s, self, MIN (settings->batch_size, n));
  for (guint epoch = 0; epoch < settings->epochs && ok; epoch++)
    {
      double loss;

      shuffle (rand, order, n);
      loss = train_epoch (self, inputs, labels, order, n, settings, &s, &adam, grad, cancellable);
      if (isnan (loss))
        ok = !g_cancellable_set_error_if_cancelled (cancellable, error);
      else if (progress != NULL)
        progress (epoch + 1, settings->epochs, loss, user_data);
    }
  scratch_clear (&s);
  return ok;
}

/* Runs the network over n rows in chunks; copies the hidden activations
 * (hidden == TRUE, [n][hidden]) or the probabilities ([n][n_classes]) to out. */
static void
forward_rows (const EpdClassifier *self,
              const double        *x,
              gsize                n,
              gboolean             hidden,
              double              *out)
{
  guint cols = hidden ? self->hidden : self->n_classes;
  Scratch s;

  if (n == 0)
    return;
  scratch_init (&s, self, MIN (n, PREDICT_CHUNK));
  for (gsize start = 0; start < n; start += s.rows)
    {
      gsize m = MIN (s.rows, n - start);
      const float *src = hidden ? s.h : s.p;

      for (gsize i = 0; i < m * self->n_inputs; i++)
        s.x[i] = (float) x[start * self->n_inputs + i];
      forward (self, &s, m);
      for (gsize i = 0; i < m * cols; i++)
        out[start * cols + i] = src[i];
    }
  scratch_clear (&s);
}

void
epd_classifier_predict (const EpdClassifier *self,
                        const double        *x,
                        gsize                n,
                        double              *probs)
{
  forward_rows (self, x, n, FALSE, probs);
}

void
epd_classifier_features (const EpdClassifier *self,
                         const double        *x,
                         gsize                n,
                         double              *features)
{
  forward_rows (self, x, n, TRUE, features);
}

guint
epd_classifier_n_hidden (const EpdClassifier *self)
{
  return self->hidden;
}

static guint
argmax (const float *row,
        guint        n)
{
  guint best = 0;

  for (guint c = 1; c < n; c++)
    if (row[c] > row[best])
      best = c;
  return best;
}

double
epd_classifier_accuracy (const EpdClassifier *self,
                         const float         *inputs,
                         const guint8        *labels,
                         gsize                n)
{
  Scratch s;
  gsize correct = 0;

  if (n == 0)
    return NAN;
  scratch_init (&s, self, MIN (n, PREDICT_CHUNK));
  for (gsize start = 0; start < n; start += s.rows)
    {
      gsize m = MIN (s.rows, n - start);

      memcpy (s.x, inputs + start * self->n_inputs, m * self->n_inputs * sizeof (float));
      forward (self, &s, m);
      for (gsize i = 0; i < m; i++)
        correct += argmax (s.p + i * self->n_classes, self->n_classes) == labels[start + i];
    }
  scratch_clear (&s);
  return (double) correct / n;
}

gboolean
epd_classifier_save (const EpdClassifier *self,
                     const char          *path,
                     GError             **error)
{
  gsize size = HEADER_SIZE + self->n_params * sizeof (float);
  g_autofree guint8 *bytes = g_malloc0 (size);
  guint32 header[4] = { GUINT32_TO_LE (self->n_inputs), GUINT32_TO_LE (self->hidden),
                        GUINT32_TO_LE (self->n_classes), 0 };
  guint64 accuracy_bits;

  memcpy (bytes, CLASSIFIER_MAGIC, 8);
  memcpy (bytes + 8, header, sizeof header);
  memcpy (&accuracy_bits, &self->test_accuracy, sizeof accuracy_bits);
  accuracy_bits = GUINT64_TO_LE (accuracy_bits);
  memcpy (bytes + 24, &accuracy_bits, sizeof accuracy_bits);
  for (gsize i = 0; i < self->n_params; i++)
    {
      guint32 bits;

      memcpy (&bits, &self->params[i], sizeof bits);
      bits = GUINT32_TO_LE (bits);
      memcpy (bytes + HEADER_SIZE + i * sizeof bits, &bits, sizeof bits);
    }
  if (!epd_file_write_atomic (path, (const char *) bytes, (gssize) size, error))
    return FALSE;
  return TRUE;
}

static gboolean
parse_header (const guint8 *bytes,
              gsize         len,
              const char   *path,
              guint32       dims[3],
              double       *accuracy,
              GError      **error)
{
  guint64 accuracy_bits;

  if (len < HEADER_SIZE || memcmp (bytes, CLASSIFIER_MAGIC, 8) != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s is not an EPD classifier file (bad magic or shorter than its header)", path);
      return FALSE;
    }
  for (guint i = 0; i < 3; i++)
    {
      memcpy (&dims[i], bytes + 8 + 4 * i, 4);
      dims[i] = GUINT32_FROM_LE (dims[i]);
    }
  memcpy (&accuracy_bits, bytes + 24, sizeof accuracy_bits);
  accuracy_bits = GUINT64_FROM_LE (accuracy_bits);
  memcpy (accuracy, &accuracy_bits, sizeof *accuracy);
  if (dims[0] == 0 || dims[1] == 0 || dims[2] < 2 || dims[0] > 1u << 20 || dims[1] > 1u << 16 ||
      dims[2] > 1u << 16)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: implausible classifier shape %u-%u-%u", path, dims[0], dims[1], dims[2]);
      return FALSE;
    }
  return TRUE;
}

EpdClassifier *
epd_classifier_load (const char *path,
                     GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(EpdClassifier) self = NULL;
  const guint8 *bytes;
  guint32 dims[3];
  double accuracy;
  gsize len;

  if (!epd_file_read_capped (path, EPD_FILE_MAX_ARRAY, &contents, &len, &local_error))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot read classifier %s: %s",
                   path, local_error->message);
      return NULL;
    }
  bytes = (const guint8 *) contents;
  if (!parse_header (bytes, len, path, dims, &accuracy, error))
    return NULL;
  if (len != HEADER_SIZE + n_params_of (dims[0], dims[1], dims[2]) * sizeof (float))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT " for a %u-%u-%u "
                   "classifier (truncated?)", path, len,
                   HEADER_SIZE + n_params_of (dims[0], dims[1], dims[2]) * sizeof (float),
                   dims[0], dims[1], dims[2]);
      return NULL;
    }
  self = classifier_alloc (dims[0], dims[1], dims[2]);
  self->test_accuracy = accuracy;
  for (gsize i = 0; i < self->n_params; i++)
    {
      guint32 bits;

      memcpy (&bits, bytes + HEADER_SIZE + i * sizeof bits, sizeof bits);
      bits = GUINT32_FROM_LE (bits);
      memcpy (&self->params[i], &bits, sizeof bits);
      if (!isfinite (self->params[i]))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "%s: weight %" G_GSIZE_FORMAT " is not finite", path, i);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

char *
epd_classifier_cache_path (const EpdClassifierSettings *settings)
{
  /* The data folder is part of the key: another copy of the data set is another model. */
  guint data_key = g_str_hash (epd_dataset_fashion_mnist_dir ());
  g_autofree char *name = g_strdup_printf ("fashion-mnist-mlp-h%u-e%u-b%u-lr%g-n%u-s%u-%08x.clf",
                                           settings->hidden, settings->epochs,
                                           settings->batch_size, settings->learning_rate,
                                           settings->n_train, settings->seed, data_key);

  return g_build_filename (g_get_user_cache_dir (), "epd-studio", name, NULL);
}

static double
fashion_mnist_test_accuracy (const EpdClassifier *self,
                             GError             **error)
{
  g_autoptr(EpdDataset) test = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, error);

  if (test == NULL)
    return NAN;
  return epd_classifier_accuracy (self, epd_dataset_get_pixels (test),
                                  epd_dataset_get_labels (test), epd_dataset_get_n (test));
}

EpdClassifier *
epd_classifier_train_fashion_mnist (const EpdClassifierSettings *settings,
                                    EpdClassifierProgress        progress,
                                    gpointer                     user_data,
                                    GCancellable                *cancellable,
                                    GError                     **error)
{
  EpdDatasetSubset subset = { settings->n_train, 0 };
  g_autoptr(EpdDataset) train = NULL;
  g_autoptr(EpdClassifier) self = NULL;
  double accuracy;

  train = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, &subset, error);
  if (train == NULL)
    return NULL;
  self = epd_classifier_new (epd_dataset_get_dim (train), settings->hidden, 10, settings->seed);
  if (!epd_classifier_train (self, epd_dataset_get_pixels (train), epd_dataset_get_labels (train),
                             epd_dataset_get_n (train), settings, progress, user_data,
                             cancellable, error))
    return NULL;
  accuracy = fashion_mnist_test_accuracy (self, error);
  if (isnan (accuracy))
    return NULL;
  self->test_accuracy = accuracy;
  return g_steal_pointer (&self);
}

EpdClassifier *
epd_classifier_get_cached (const EpdClassifierSettings *settings,
                           GCancellable                *cancellable,
                           GError                     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(EpdClassifier) self = NULL;

  path = epd_classifier_cache_path (settings);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return epd_classifier_load (path, error);
  g_message ("training the Fashion-MNIST classifier once; it is cached in %s", path);
  self = epd_classifier_train_fashion_mnist (settings, NULL, NULL, cancellable, error);
  if (self == NULL)
    return NULL;
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot create the cache folder %s: %s",
                   dir, g_strerror (errno));
      return NULL;
    }
  if (!epd_classifier_save (self, path, error))
    return NULL;
  return g_steal_pointer (&self);
}

EpdClassifier *
epd_classifier_get_default (GCancellable *cancellable,
                            GError      **error)
{
  EpdClassifierSettings settings;

  epd_classifier_settings_init (&settings);
  return epd_classifier_get_cached (&settings, cancellable, error);
}
