/* SPDX-License-Identifier: MIT */
/* epd-empirical.c: the empirical-dataset optimal denoiser, float64 through OpenBLAS. */
#include "epd-empirical.h"
#include "epd-numeric.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Every GEMM runs on exactly CHUNK_ROWS rows (the last chunk padded with
 * zero rows), so a row's arithmetic never depends on the batch size or on
 * where the batch was split (see the header). 16 is a multiple of OpenBLAS's
 * register tiles; the [rows][N] logit buffer stays small (2 x 16 x 60000
 * doubles = 15 MB for the JVP). */
#define CHUNK_ROWS 16
#define DEFAULT_PNG_SIDE 28

struct _EpdEmpirical
{
  GObject     parent_instance;

  EpdDataset *dataset;
  char       *label;
  gsize       n;
  guint       dim;
  double     *y;          /* [n][dim], the dataset widened to double */
  double     *half_norm2; /* [n], |y_i|^2 / 2 */
};

static void epd_empirical_denoiser_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdEmpirical, epd_empirical, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER,
                                                      epd_empirical_denoiser_init))

static void
epd_empirical_finalize (GObject *object)
{
  EpdEmpirical *self = EPD_EMPIRICAL (object);

  g_clear_pointer (&self->dataset, epd_dataset_unref);
  g_free (self->label);
  g_free (self->y);
  g_free (self->half_norm2);
  G_OBJECT_CLASS (epd_empirical_parent_class)->finalize (object);
}

static void
epd_empirical_class_init (EpdEmpiricalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_empirical_finalize;
}

static void
epd_empirical_init (EpdEmpirical *self)
{
}

static void
set_label (EpdEmpirical *self,
           const char   *spec)
{
  g_free (self->label);
  self->label = g_strdup_printf ("dataset:%s (CPU, OpenBLAS float64)", spec);
}

EpdEmpirical *
epd_empirical_new (EpdDataset *dataset)
{
  EpdEmpirical *self;
  const float *pixels;
  g_autofree char *spec = NULL;

  g_return_val_if_fail (dataset != NULL, NULL);
  self = g_object_new (EPD_TYPE_EMPIRICAL, NULL);
  self->dataset = epd_dataset_ref (dataset);
  self->n = epd_dataset_get_n (dataset);
  self->dim = epd_dataset_get_dim (dataset);
  pixels = epd_dataset_get_pixels (dataset);
  self->y = g_new (double, self->n * self->dim);
  self->half_norm2 = g_new (double, self->n);
  for (gsize i = 0; i < self->n; i++)
    {
      double norm2 = 0.0;

      for (guint j = 0; j < self->dim; j++)
        {
          double v = pixels[i * self->dim + j];

          self->y[i * self->dim + j] = v;
          norm2 += v * v;
        }
      self->half_norm2[i] = 0.5 * norm2;
    }
  spec = g_strdup_printf ("%s:%" G_GSIZE_FORMAT, epd_dataset_get_name (dataset), self->n);
  set_label (self, spec);
  return self;
}

/* ---- the denoiser ------------------------------------------------------- */

static gboolean
check_finite (const double *v,
              gsize         count,
              const char   *what,
              GError      **error)
{
  gssize bad = epd_first_non_finite (v, count);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "empirical denoiser: %s[%" G_GSIZE_FORMAT "] is %g, not finite", what, i, v[i]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_rows (const double *x,
            const double *sigma,
            gsize         batch,
            guint         dim,
            GError      **error)
{
  for (gsize r = 0; r < batch; r++)
    if (!(sigma[r] > 0.0) || !isfinite (sigma[r]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "empirical denoiser: sigma[%" G_GSIZE_FORMAT "] is %g, not a positive number",
                     r, sigma[r]);
        return FALSE;
      }
  return check_finite (x, batch * dim, "x", error);
}

static gboolean
check_tangent (const double *dx,
               const double *dsigma,
               gsize         batch,
               guint         dim,
               GError      **error)
{
  return check_finite (dsigma, batch, "dsigma", error) &&
         check_finite (dx, batch * dim, "dx", error);
}

/* g[rows][n] = a[rows][dim] . y^T */
static void
dot_with_data (EpdEmpirical *self,
               const double *a,
               gsize         rows,
               double       *g)
{
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, (int) self->n, (int) self->dim,
               1.0, a, (int) self->dim, self->y, (int) self->dim, 0.0, g, (int) self->n);
}

/* out[rows][dim] = w[rows][n] . y */
static void
weighted_sum (EpdEmpirical *self,
              const double *w,
              gsize         rows,
              double       *out)
{
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, (int) self->dim, (int) self->n,
               1.0, w, (int) self->n, self->y, (int) self->dim, 0.0, out, (int) self->dim);
}

/* In place: the row of x.y_i becomes the logits l_i = (x.y_i - |y_i|^2/2) / s^2
 * (keeping them, for the JVP) and p the softmax. */
static void
softmax_row (EpdEmpirical *self,
             double       *logits,
             double        sigma,
             double       *p)
{
  double inv_s2 = 1.0 / (sigma * sigma);
  double max = -INFINITY, sum = 0.0;

  for (gsize i = 0; i < self->n; i++)
    {
      logits[i] = (logits[i] - self->half_norm2[i]) * inv_s2;
      max = MAX (max, logits[i]);
    }
  for (gsize i = 0; i < self->n; i++)
    sum += p[i] = exp (logits[i] - max);
  for (gsize i = 0; i < self->n; i++)
    p[i] /= sum;
}

/* Copies rows of src into a CHUNK_ROWS-row block, the rest zero. */
static void
fill_chunk (const double *src,
            gsize         rows,
            guint         dim,
            double       *chunk)
{
  memcpy (chunk, src, rows * dim * sizeof (double));
  memset (chunk + rows * dim, 0, (CHUNK_ROWS - rows) * dim * sizeof (double));
}

/* a holds CHUNK_ROWS rows, the first rows real; out gets CHUNK_ROWS rows. */
static void
denoise_chunk (EpdEmpirical *self,
               const double *a,
               const double *sigma,
               gsize         rows,
               double       *g,
               double       *out)
{
  dot_with_data (self, a, CHUNK_ROWS, g);
  /* The probabilities may overwrite the logits: nothing else needs them. */
  for (gsize r = 0; r < rows; r++)
    softmax_row (self, g + r * self->n, sigma[r], g + r * self->n);
  memset (g + rows * self->n, 0, (CHUNK_ROWS - rows) * self->n * sizeof (double));
  weighted_sum (self, g, CHUNK_ROWS, out);
}

static gboolean
epd_empirical_denoise (EpdDenoiser  *denoiser,
                       const double *x,
                       const double *sigma,
                       gsize         batch,
                       double       *out,
                       GError      **error)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);
  gsize d = self->dim;
  g_autofree double *a = NULL, *g = NULL, *o = NULL;

  if (!check_rows (x, sigma, batch, d, error))
    return FALSE;
  a = g_new (double, CHUNK_ROWS * d);
  g = g_new (double, CHUNK_ROWS * self->n);
  o = g_new (double, CHUNK_ROWS * d);
  for (gsize r0 = 0; r0 < batch; r0 += CHUNK_ROWS)
    {
      gsize rows = MIN (CHUNK_ROWS, batch - r0);

      fill_chunk (x + r0 * d, rows, d, a);
      denoise_chunk (self, a, sigma + r0, rows, g, o);
      memcpy (out + r0 * d, o, rows * d * sizeof (double));
    }
  return TRUE;
}

/* q_i = p_i (dl_i - sum_j p_j dl_j), dl_i = (dx.y_i) / s^2 - 2 l_i ds / s
 * (the row constants of dl cancel in the centring). dxy holds dx.y_i on entry. */
static void
jvp_weights_row (EpdEmpirical *self,
                 const double *logits,
                 const double *p,
                 double        sigma,
                 double        dsigma,
                 double       *dxy)
{
  double inv_s2 = 1.0 / (sigma * sigma), ds_s = 2.0 * dsigma / sigma;
  double mean = 0.0;

  for (gsize i = 0; i < self->n; i++)
    {
      dxy[i] = dxy[i] * inv_s2 - logits[i] * ds_s;
      mean += p[i] * dxy[i];
    }
  for (gsize i = 0; i < self->n; i++)
    dxy[i] = p[i] * (dxy[i] - mean);
}

/* a = [x; dx] (two blocks of CHUNK_ROWS rows, the first rows of each real),
 * g = a . y^T, then [p; q] . y = [out; dout]. */
static void
jvp_chunk (EpdEmpirical *self,
           const double *sigma,
           const double *dsigma,
           gsize         rows,
           const double *a,
           double       *g,
           double       *p,
           double       *od)
{
  gsize n = self->n;

  dot_with_data (self, a, 2 * CHUNK_ROWS, g);
  for (gsize r = 0; r < rows; r++)
    {
      softmax_row (self, g + r * n, sigma[r], p + r * n);
      jvp_weights_row (self, g + r * n, p + r * n, sigma[r], dsigma[r], g + (CHUNK_ROWS + r) * n);
    }
  memcpy (g, p, rows * n * sizeof (double));
  memset (g + rows * n, 0, (CHUNK_ROWS - rows) * n * sizeof (double));
  memset (g + (CHUNK_ROWS + rows) * n, 0, (CHUNK_ROWS - rows) * n * sizeof (double));
  weighted_sum (self, g, 2 * CHUNK_ROWS, od);
}

static gboolean
epd_empirical_denoise_jvp (EpdDenoiser  *denoiser,
                           const double *x,
                           const double *sigma,
                           const double *dx,
                           const double *dsigma,
                           gsize         batch,
                           double       *out,
                           double       *dout,
                           GError      **error)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);
  gsize d = self->dim, n = self->n;
  g_autofree double *a = NULL, *g = NULL, *p = NULL, *od = NULL;

  if (!check_rows (x, sigma, batch, d, error) || !check_tangent (dx, dsigma, batch, d, error))
    return FALSE;
  a = g_new (double, 2 * CHUNK_ROWS * d);
  g = g_new (double, 2 * CHUNK_ROWS * n);
  p = g_new (double, CHUNK_ROWS * n);
  od = g_new (double, 2 * CHUNK_ROWS * d);
  for (gsize r0 = 0; r0 < batch; r0 += CHUNK_ROWS)
    {
      gsize rows = MIN (CHUNK_ROWS, batch - r0);

      fill_chunk (x + r0 * d, rows, d, a);
      fill_chunk (dx + r0 * d, rows, d, a + CHUNK_ROWS * d);
      jvp_chunk (self, sigma + r0, dsigma + r0, rows, a, g, p, od);
      memcpy (out + r0 * d, od, rows * d * sizeof (double));
      memcpy (dout + r0 * d, od + CHUNK_ROWS * d, rows * d * sizeof (double));
    }
  return TRUE;
}

static guint
epd_empirical_get_dim_iface (EpdDenoiser *denoiser)
{
  return EPD_EMPIRICAL (denoiser)->dim;
}

static const char *
epd_empirical_describe (EpdDenoiser *denoiser)
{
  return EPD_EMPIRICAL (denoiser)->label;
}

static gboolean
epd_empirical_get_image_shape (EpdDenoiser *denoiser,
                               guint       *side,
                               guint       *channels)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);

  if (side != NULL)
    *side = epd_dataset_get_side (self->dataset);
  if (channels != NULL)
    *channels = epd_dataset_get_channels (self->dataset);
  return TRUE;
}

static void
epd_empirical_denoiser_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = epd_empirical_get_dim_iface;
  iface->describe = epd_empirical_describe;
  iface->denoise = epd_empirical_denoise;
  iface->denoise_jvp = epd_empirical_denoise_jvp;
  iface->get_image_shape = epd_empirical_get_image_shape;
}

/* ---- getters ------------------------------------------------------------ */

EpdDataset *
epd_empirical_get_dataset (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), NULL);
  return self->dataset;
}

gsize
epd_empirical_get_n (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), 0);
  return self->n;
}

guint
epd_empirical_get_dim (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), 0);
  return self->dim;
}

const float *
epd_empirical_get_data (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), NULL);
  return epd_dataset_get_pixels (self->dataset);
}

/* ---- specs -------------------------------------------------------------- */

static gboolean
parse_count (const char *text,
             const char *spec,
             guint64    *out,
             GError    **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT32, out, &local_error))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: '%s' is not an image count: %s", spec, text, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* fields: what follows "fashion-mnist" or "fashion-mnist-test", split at ':'. */
static EpdDataset *
open_fashion (const char  *spec,
              char       **fields,
              EpdDatasetSplit split,
              GError     **error)
{
  guint n_fields = g_strv_length (fields);
  EpdDatasetSubset subset = { 0 };
  guint64 count = 0;

  if (n_fields > 2 || (n_fields == 2 && g_strcmp0 (fields[1], "per-class") != 0))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: expected fashion-mnist[-test][:N[:per-class]]", spec);
      return NULL;
    }
  if (n_fields >= 1 && !parse_count (fields[0], spec, &count, error))
    return NULL;
  if (n_fields == 2)
    subset.per_class = (guint) count;
  else
    subset.first_n = count;
  return epd_dataset_load_fashion_mnist (split, &subset, error);
}

/* DIR[:SIDE][:grey|:rgb], parsed from the right so DIR may hold ':'. */
static EpdDataset *
open_png_dir (const char *spec,
              GError    **error)
{
  g_autofree char *dir = g_strdup (spec);
  guint channels = 1;
  guint64 side = DEFAULT_PNG_SIDE;
  char *colon = strrchr (dir, ':');

  if (colon != NULL && (g_str_equal (colon + 1, "rgb") || g_str_equal (colon + 1, "grey")))
    {
      channels = g_str_equal (colon + 1, "rgb") ? 3 : 1;
      *colon = '\0';
      colon = strrchr (dir, ':');
    }
  if (colon != NULL && colon[1] != '\0' && strspn (colon + 1, "0123456789") == strlen (colon + 1))
    {
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 4096, &side, NULL))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "dataset:%s: image side '%s' is not in 1..4096", spec, colon + 1);
          return NULL;
        }
      *colon = '\0';
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: '%s' is neither fashion-mnist nor a folder of PNG images", spec, dir);
      return NULL;
    }
  return epd_dataset_load_png_dir (dir, (guint) side, channels, error);
}

static EpdDataset *
open_dataset (const char *rest,
              GError    **error)
{
  static const struct { const char *name; EpdDatasetSplit split; } fashion[] = {
    { "fashion-mnist-test", EPD_DATASET_SPLIT_TEST },
    { "fashion-mnist", EPD_DATASET_SPLIT_TRAIN },
  };

  for (guint k = 0; k < G_N_ELEMENTS (fashion); k++)
    {
      gsize len = strlen (fashion[k].name);

      if (strncmp (rest, fashion[k].name, len) == 0 && (rest[len] == '\0' || rest[len] == ':'))
        {
          /* ":100:per-class" splits into "", "100", "per-class". */
          g_auto(GStrv) fields = g_strsplit (rest + len, ":", -1);

          return open_fashion (rest, rest[len] == ':' ? fields + 1 : fields,
                               fashion[k].split, error);
        }
    }
  return open_png_dir (rest, error);
}

EpdEmpirical *
epd_empirical_open_spec (const char *rest,
                         GError    **error)
{
  g_autoptr(EpdDataset) dataset = NULL;
  EpdEmpirical *self;

  g_return_val_if_fail (rest != NULL, NULL);
  if (*rest == '\0')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset: needs a name: fashion-mnist[:N] or a folder of PNG images");
      return NULL;
    }
  if ((dataset = open_dataset (rest, error)) == NULL)
    return NULL;
  self = epd_empirical_new (dataset);
  set_label (self, rest);
  return self;
}
