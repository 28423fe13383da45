/* SPDX-License-Identifier: MIT */
/* epd-gmm.c: exact Gaussian-mixture denoiser, JVP, log-density, model files. */
#include "epd-gmm.h"

#include "epd-json.h"

#include <math.h>
#include <string.h>

struct _EpdGmm
{
  GObject  parent_instance;

  guint    n_components;
  guint    dim;
  double  *weights;      /* [K], renormalised to sum to 1 */
  double  *log_weights;  /* [K] */
  double  *means;        /* [K][dim] */
  double  *stds;         /* [K] */
  double  *vars;         /* [K], std^2 */
  char    *name;
  char    *description;
};

static void epd_gmm_denoiser_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdGmm, epd_gmm, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, epd_gmm_denoiser_init))

static void
epd_gmm_finalize (GObject *object)
{
  EpdGmm *self = EPD_GMM (object);

  g_free (self->weights);
  g_free (self->log_weights);
  g_free (self->means);
  g_free (self->stds);
  g_free (self->vars);
  g_free (self->name);
  g_free (self->description);
  G_OBJECT_CLASS (epd_gmm_parent_class)->finalize (object);
}

static void
epd_gmm_class_init (EpdGmmClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_gmm_finalize;
}

static void
epd_gmm_init (EpdGmm *self)
{
}

/* ---- the exact posterior ------------------------------------------------ */

static double
squared_distance (const double *a,
                  const double *b,
                  guint         dim)
{
  double acc = 0.0;

  for (guint j = 0; j < dim; j++)
    {
      double d = a[j] - b[j];
      acc += d * d;
    }
  return acc;
}

/* Fills resp[k] with the responsibilities p_k(x, s) under N(x; mu_k, (std_k^2 + s^2) I)
 * and returns log p_s(x), both through a log-sum-exp so that far-away rows
 * and high dimensions neither underflow nor overflow. */
static double
row_responsibilities (EpdGmm       *self,
                      const double *x,
                      double        s2,
                      double       *resp)
{
  double max = -INFINITY;
  double sum = 0.0;

  for (guint k = 0; k < self->n_components; k++)
    {
      double v = self->vars[k] + s2;
      double d2 = squared_distance (x, self->means + (gsize) k * self->dim, self->dim);

      resp[k] = self->log_weights[k] - 0.5 * self->dim * log (2.0 * G_PI * v) - 0.5 * d2 / v;
      max = MAX (max, resp[k]);
    }
  for (guint k = 0; k < self->n_components; k++)
    {
      resp[k] = exp (resp[k] - max);
      sum += resp[k];
    }
  for (guint k = 0; k < self->n_components; k++)
    resp[k] /= sum;
  return max + log (sum);
}

static void
row_denoise (EpdGmm       *self,
             const double *x,
             double        s,
             double       *resp,
             double       *out)
{
  /* Noise-free input is its own posterior mean; the sum below would only
   * round it. */
  if (s == 0.0)
    {
      memcpy (out, x, self->dim * sizeof (double));
      return;
    }
  row_responsibilities (self, x, s * s, resp);
  for (guint j = 0; j < self->dim; j++)
    out[j] = 0.0;
  for (guint k = 0; k < self->n_components; k++)
    {
      const double *mu = self->means + (gsize) k * self->dim;
      double a = self->vars[k] / (self->vars[k] + s * s);

      for (guint j = 0; j < self->dim; j++)
        out[j] += resp[k] * (mu[j] + a * (x[j] - mu[j]));
    }
}

/* Forward-mode derivative of one row. With v_k = std_k^2 + s^2, dv = 2 s ds,
 * l_k = log w_k - dim/2 log v_k - |x - mu_k|^2 / (2 v_k) (+ const):
 *   dl_k = -(x - mu_k).dx / v_k + (|x - mu_k|^2 / (2 v_k^2) - dim / (2 v_k)) dv,
 *   dp_k = p_k (dl_k - sum_j p_j dl_j),  da_k = -a_k dv / v_k,
 *   dD = sum_k dp_k m_k + p_k (a_k dx + da_k (x - mu_k)),  m_k = mu_k + a_k (x - mu_k). */
static void
row_denoise_jvp (EpdGmm       *self,
                 const double *x,
                 double        s,
                 const double *dx,
                 double        ds,
                 double       *resp,
                 double       *dl,
                 double       *out,
                 double       *dout)
{
  double s2 = s * s;
  double dv = 2.0 * s * ds;
  double dl_mean = 0.0;

  row_responsibilities (self, x, s2, resp);
  for (guint k = 0; k < self->n_components; k++)
    {
      const double *mu = self->means + (gsize) k * self->dim;
      double v = self->vars[k] + s2;
      double d2 = 0.0, xd = 0.0;

      for (guint j = 0; j < self->dim; j++)
        {
          double e = x[j] - mu[j];
          d2 += e * e;
          xd += dx ? e * dx[j] : 0.0;
        }
      dl[k] = -xd / v + (0.5 * d2 / (v * v) - 0.5 * self->dim / v) * dv;
      dl_mean += resp[k] * dl[k];
    }

  for (guint j = 0; j < self->dim; j++)
    out[j] = dout[j] = 0.0;
  for (guint k = 0; k < self->n_components; k++)
    {
      const double *mu = self->means + (gsize) k * self->dim;
      double v = self->vars[k] + s2;
      double a = self->vars[k] / v;
      double da = -a * dv / v;
      double dp = resp[k] * (dl[k] - dl_mean);

      for (guint j = 0; j < self->dim; j++)
        {
          double e = x[j] - mu[j];
          double m = mu[j] + a * e;

          out[j] += resp[k] * m;
          dout[j] += dp * m + resp[k] * (a * (dx ? dx[j] : 0.0) + da * e);
        }
    }
}

static gboolean
check_sigmas (const double *sigma,
              gsize         batch,
              GError      **error)
{
  for (gsize b = 0; b < batch; b++)
    if (!isfinite (sigma[b]) || sigma[b] < 0.0)
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                     "gmm: sigma[%" G_GSIZE_FORMAT "] = %g is not a finite noise level >= 0",
                     b, sigma[b]);
        return FALSE;
      }
  return TRUE;
}

static gboolean
epd_gmm_denoise (EpdDenoiser  *denoiser,
                 const double *x,
                 const double *sigma,
                 gsize         batch,
                 double       *out,
                 GError      **error)
{
  EpdGmm *self = EPD_GMM (denoiser);
  g_autofree double *resp = g_new (double, self->n_components);

  if (!check_sigmas (sigma, batch, error))
    return FALSE;
  for (gsize b = 0; b < batch; b++)
    row_denoise (self, x + b * self->dim, sigma[b], resp, out + b * self->dim);
  return TRUE;
}

static gboolean
epd_gmm_denoise_jvp (EpdDenoiser  *denoiser,
                     const double *x,
                     const double *sigma,
                     const double *dx,
                     const double *dsigma,
                     gsize         batch,
                     double       *out,
                     double       *dout,
                     GError      **error)
{
  EpdGmm *self = EPD_GMM (denoiser);
  g_autofree double *resp = g_new (double, 2 * (gsize) self->n_components);
  g_autofree double *row = g_new (double, self->dim);

  if (!check_sigmas (sigma, batch, error))
    return FALSE;
  for (gsize b = 0; b < batch; b++)
    {
      gsize o = b * self->dim;

      row_denoise_jvp (self, x + o, sigma[b], dx ? dx + o : NULL, dsigma ? dsigma[b] : 0.0,
                       resp, resp + self->n_components, out ? out + o : row, dout + o);
    }
  return TRUE;
}

static guint
epd_gmm_get_dim_vfunc (EpdDenoiser *denoiser)
{
  return EPD_GMM (denoiser)->dim;
}

static const char *
epd_gmm_describe (EpdDenoiser *denoiser)
{
  return EPD_GMM (denoiser)->description;
}

static void
epd_gmm_denoiser_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = epd_gmm_get_dim_vfunc;
  iface->describe = epd_gmm_describe;
  iface->denoise = epd_gmm_denoise;
  iface->denoise_jvp = epd_gmm_denoise_jvp;
}

/* ---- densities, assignment, sampling ------------------------------------ */

void
epd_gmm_log_density (EpdGmm       *self,
                     const double *x,
                     const double *sigma,
                     gsize         batch,
                     double       *out)
{
  g_autofree double *resp = NULL;

  g_return_if_fail (EPD_IS_GMM (self));
  resp = g_new (double, self->n_components);
  for (gsize b = 0; b < batch; b++)
    {
      double s = sigma ? sigma[b] : 0.0;
      out[b] = row_responsibilities (self, x + b * self->dim, s * s, resp);
    }
}

void
epd_gmm_assign (EpdGmm       *self,
                const double *x,
                const double *sigma,
                gsize         batch,
                guint        *out)
{
  g_autofree double *resp = NULL;

  g_return_if_fail (EPD_IS_GMM (self));
  resp = g_new (double, self->n_components);
  for (gsize b = 0; b < batch; b++)
    {
      double s = sigma ? sigma[b] : 0.0;
      guint best = 0;

      row_responsibilities (self, x + b * self->dim, s * s, resp);
      for (guint k = 1; k < self->n_components; k++)
        if (resp[k] > resp[best])
          best = k;
      out[b] = best;
    }
}

static guint
draw_component (EpdGmm *self,
                GRand  *rand)
{
  double u = g_rand_double (rand);
  double acc = 0.0;

  for (guint k = 0; k < self->n_components; k++)
    {
      acc += self->weights[k];
      if (u < acc)
        return k;
    }
  /* Rounding left acc a hair below 1: take the last component with weight. */
  for (guint k = self->n_components; k-- > 0;)
    if (self->weights[k] > 0.0)
      return k;
  return 0;
}

void
epd_gmm_sample (EpdGmm *self,
                GRand  *rand,
                gsize   n,
                double *out)
{
  g_return_if_fail (EPD_IS_GMM (self));
  for (gsize i = 0; i < n; i++)
    {
      guint k = draw_component (self, rand);
      double *row = out + i * self->dim;

      epd_random_normal_fill (rand, row, self->dim);
      for (guint j = 0; j < self->dim; j++)
        row[j] = self->means[(gsize) k * self->dim + j] + self->stds[k] * row[j];
    }
}

/* ---- construction ------------------------------------------------------- */

static gboolean
validate_parameters (guint          n_components,
                     guint          dim,
                     const double  *weights,
                     const double  *means,
                     const double  *stds,
                     const char    *source,
                     GError       **error)
{
  double sum = 0.0;

  if (n_components == 0 || dim == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: a mixture needs at least one component and one dimension (got %u components, dimension %u)",
                   source, n_components, dim);
      return FALSE;
    }
  for (guint k = 0; k < n_components; k++)
    {
      if (!isfinite (weights[k]) || weights[k] < 0.0)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "%s: weights[%u] = %g must be finite and >= 0", source, k, weights[k]);
          return FALSE;
        }
      if (!isfinite (stds[k]) || stds[k] <= 0.0)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "%s: stds[%u] = %g must be finite and > 0", source, k, stds[k]);
          return FALSE;
        }
      for (guint j = 0; j < dim; j++)
        if (!isfinite (means[(gsize) k * dim + j]))
          {
            g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                         "%s: means[%u][%u] = %g is not finite", source, k, j,
                         means[(gsize) k * dim + j]);
            return FALSE;
          }
      sum += weights[k];
    }
  if (sum == 0.0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "%s: all weights are 0; at least one must be positive", source);
      return FALSE;
    }
  if (fabs (sum - 1.0) > 1e-6)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "%s: weights sum to %.9g, not 1 (tolerance 1e-6); they are not normalised "
                   "silently: divide each weight by %.9g if that is the mixture you mean",
                   source, sum, sum);
      return FALSE;
    }
  return TRUE;
}

/* Parameters already validated. */
static EpdGmm *
gmm_build (guint          n_components,
           guint          dim,
           const double  *weights,
           const double  *means,
           const double  *stds,
           const char    *name)
{
  EpdGmm *self = g_object_new (EPD_TYPE_GMM, NULL);
  double sum = 0.0;

  self->n_components = n_components;
  self->dim = dim;
  self->weights = g_memdup2 (weights, n_components * sizeof (double));
  self->means = g_memdup2 (means, (gsize) n_components * dim * sizeof (double));
  self->stds = g_memdup2 (stds, n_components * sizeof (double));
  self->log_weights = g_new (double, n_components);
  self->vars = g_new (double, n_components);
  for (guint k = 0; k < n_components; k++)
    sum += weights[k];
  /* Renormalise only what is visibly off, so that saving and loading again
   * gives back the same bits. */
  if (fabs (sum - 1.0) <= 1e-12)
    sum = 1.0;
  for (guint k = 0; k < n_components; k++)
    {
      self->weights[k] /= sum;
      self->log_weights[k] = log (self->weights[k]);
      self->vars[k] = stds[k] * stds[k];
    }
  self->name = g_strdup (name);
  self->description = g_strdup_printf ("gmm:%s (CPU float64)", name);
  return self;
}

EpdGmm *
epd_gmm_new (guint          n_components,
             guint          dim,
             const double  *weights,
             const double  *means,
             const double  *stds,
             const char    *name,
             GError       **error)
{
  if (name == NULL)
    name = "custom";
  if (!validate_parameters (n_components, dim, weights, means, stds, name, error))
    return NULL;
  return gmm_build (n_components, dim, weights, means, stds, name);
}

guint
epd_gmm_get_n_components (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), 0);
  return self->n_components;
}

guint
epd_gmm_get_dim (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), 0);
  return self->dim;
}

const double *
epd_gmm_get_weights (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), NULL);
  return self->weights;
}

const double *
epd_gmm_get_means (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), NULL);
  return self->means;
}

const double *
epd_gmm_get_stds (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), NULL);
  return self->stds;
}

const char *
epd_gmm_get_name (EpdGmm *self)
{
  g_return_val_if_fail (EPD_IS_GMM (self), NULL);
  return self->name;
}

/* ---- JSON model files --------------------------------------------------- */

static gboolean
json_number (JsonNode    *node,
             double      *out)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (node);
  return TRUE;
}

static JsonArray *
member_array (JsonObject  *object,
              const char  *field,
              const char  *source,
              GError     **error)
{
  JsonNode *node = json_object_get_member (object, field);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: field '%s' %s", source, field,
                   node == NULL ? "is missing" : "must be an array");
      return NULL;
    }
  return json_node_get_array (node);
}

/* Reads a flat array of numbers, expecting length n. */
static gboolean
read_numbers (JsonArray   *array,
              guint        n,
              double      *out,
              const char  *source,
              const char  *field,
              GError     **error)
{
  if (json_array_get_length (array) != n)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: field '%s' has %u entries, expected %u (one per component)",
                   source, field, json_array_get_length (array), n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!json_number (json_array_get_element (array, i), &out[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                     "%s: %s[%u] is not a number", source, field, i);
        return FALSE;
      }
  return TRUE;
}

static double *
read_means (JsonArray   *rows,
            guint       *dim,
            const char  *source,
            GError     **error)
{
  guint n = json_array_get_length (rows);
  g_autofree double *means = NULL;

  for (guint k = 0; k < n; k++)
    {
      JsonNode *node = json_array_get_element (rows, k);
      JsonArray *row;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                       "%s: means[%u] must be an array of numbers", source, k);
          return NULL;
        }
      row = json_node_get_array (node);
      if (k == 0)
        {
          *dim = json_array_get_length (row);
          if (*dim == 0)
            {
              g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                           "%s: means[0] is empty: the dimension must be >= 1", source);
              return NULL;
            }
          means = g_new (double, (gsize) n * *dim);
        }
      if (json_array_get_length (row) != *dim)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                       "%s: means[%u] has %u values, expected %u (the length of means[0])",
                       source, k, json_array_get_length (row), *dim);
          return NULL;
        }
      for (guint j = 0; j < *dim; j++)
        if (!json_number (json_array_get_element (row, j), &means[(gsize) k * *dim + j]))
          {
            g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                         "%s: means[%u][%u] is not a number", source, k, j);
            return NULL;
          }
    }
  return g_steal_pointer (&means);
}

EpdGmm *
epd_gmm_from_json (JsonNode    *root,
                   const char  *source,
                   const char  *name,
                   GError     **error)
{
  JsonObject *object;
  JsonArray *weights_a, *means_a, *stds_a;
  g_autofree double *weights = NULL, *stds = NULL, *means = NULL;
  guint n, dim = 0;

  if (source == NULL)
    source = "model";
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: a mixture model must be a JSON object with weights, means and stds", source);
      return NULL;
    }
  object = json_node_get_object (root);
  if (!(weights_a = member_array (object, "weights", source, error)) ||
      !(means_a = member_array (object, "means", source, error)) ||
      !(stds_a = member_array (object, "stds", source, error)))
    return NULL;

  n = json_array_get_length (weights_a);
  if (n == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: field 'weights' is empty: a mixture needs at least one component", source);
      return NULL;
    }
  if (json_array_get_length (means_a) != n)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: field 'means' has %u rows, expected %u (one per weight)",
                   source, json_array_get_length (means_a), n);
      return NULL;
    }
  weights = g_new (double, n);
  stds = g_new (double, n);
  if (!read_numbers (weights_a, n, weights, source, "weights", error) ||
      !read_numbers (stds_a, n, stds, source, "stds", error) ||
      !(means = read_means (means_a, &dim, source, error)))
    return NULL;
  if (!validate_parameters (n, dim, weights, means, stds, source, error))
    return NULL;
  return gmm_build (n, dim, weights, means, stds, name ? name : source);
}

EpdGmm *
epd_gmm_load (const char  *path,
              GError     **error)
{
  g_autoptr(JsonNode) root = epd_json_load (path, error);
  g_autofree char *base = g_path_get_basename (path);

  if (root == NULL)
    return NULL;
  return epd_gmm_from_json (root, path, base, error);
}

static JsonArray *
numbers_to_array (const double *values,
                  gsize         n)
{
  JsonArray *array = json_array_sized_new (n);

  for (gsize i = 0; i < n; i++)
    json_array_add_double_element (array, values[i]);
  return array;
}

JsonNode *
epd_gmm_to_json (EpdGmm *self)
{
  JsonObject *object = json_object_new ();
  JsonArray *means = json_array_sized_new (self->n_components);
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  for (guint k = 0; k < self->n_components; k++)
    json_array_add_array_element (means, numbers_to_array (self->means + (gsize) k * self->dim, self->dim));
  json_object_set_array_member (object, "weights", numbers_to_array (self->weights, self->n_components));
  json_object_set_array_member (object, "means", means);
  json_object_set_array_member (object, "stds", numbers_to_array (self->stds, self->n_components));
  json_node_take_object (root, object);
  return root;
}

gboolean
epd_gmm_save (EpdGmm      *self,
              const char  *path,
              GError     **error)
{
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (EPD_IS_GMM (self), FALSE);
  root = epd_gmm_to_json (self);
  return epd_json_save (root, path, error);
}
