/* SPDX-License-Identifier: MIT */
/* epd-plot-pca.c: two principal components by deflated power iteration. */
#include "epd-plot-pca.h"
#include "epd-numeric.h"

#include <math.h>
#include <string.h>

#define PCA_ITERATIONS 200

void
epd_pca_free (EpdPca *self)
{
  if (self == NULL)
    return;
  g_free (self->mean);
  g_free (self->axis[0]);
  g_free (self->axis[1]);
  g_free (self);
}

static double
dot (const double *a,
     const double *b,
     guint         n)
{
  double s = 0;

  for (guint i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double
normalise (double *v,
           guint   n)
{
  double norm = sqrt (dot (v, v, n));

  if (norm > 0)
    for (guint i = 0; i < n; i++)
      v[i] /= norm;
  return norm;
}

/* out = C v with C the covariance of the centred rows, minus the found axis. */
static void
covariance_apply (const double *rows,
                  gsize         n,
                  guint         dim,
                  const double *mean,
                  const double *v,
                  double       *out)
{
  memset (out, 0, dim * sizeof (double));
  for (gsize i = 0; i < n; i++)
    {
      const double *row = rows + i * dim;
      double s = 0;

      for (guint j = 0; j < dim; j++)
        s += (row[j] - mean[j]) * v[j];
      for (guint j = 0; j < dim; j++)
        out[j] += s * (row[j] - mean[j]);
    }
  for (guint j = 0; j < dim; j++)
    out[j] /= n;
}

static void
orthogonalise (double       *v,
               const double *against,
               guint         dim)
{
  double s;

  if (against == NULL)
    return;
  s = dot (v, against, dim);
  for (guint j = 0; j < dim; j++)
    v[j] -= s * against[j];
}

/* The leading eigenvector of the covariance restricted to against's complement. */
static double *
power_iteration (const double *rows,
                 gsize         n,
                 guint         dim,
                 const double *mean,
                 const double *against,
                 double       *variance)
{
  double *v = g_new (double, dim);
  g_autofree double *w = g_new (double, dim);

  /* A fixed, generic start vector keeps the result deterministic. */
  for (guint j = 0; j < dim; j++)
    v[j] = 1.0 + 0.37 * sin (1.0 + j);
  orthogonalise (v, against, dim);
  normalise (v, dim);
  *variance = 0;
  for (guint it = 0; it < PCA_ITERATIONS; it++)
    {
      double previous = *variance;

      covariance_apply (rows, n, dim, mean, v, w);
      orthogonalise (w, against, dim);
      *variance = normalise (w, dim);
      if (*variance == 0)
        break;
      memcpy (v, w, dim * sizeof (double));
      /* Stop once the eigenvalue estimate no longer moves in the 14th digit. */
      if (fabs (*variance - previous) <= 1e-14 * *variance)
        break;
    }
  if (*variance == 0)
    {
      /* Degenerate data: any unit vector orthogonal to the first will do. */
      memset (v, 0, dim * sizeof (double));
      v[against != NULL && fabs (against[0]) > 0.9 && dim > 1 ? 1 : 0] = 1;
      orthogonalise (v, against, dim);
      normalise (v, dim);
    }
  return v;
}

EpdPca *
epd_pca_fit (const double *rows,
             gsize         n,
             guint         dim,
             GError      **error)
{
  g_autoptr(EpdPca) self = NULL;

  if (n < 2 || dim < 2)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "a projection needs at least 2 rows of dimension 2 (got %" G_GSIZE_FORMAT " of %u)",
                   n, dim);
      return NULL;
    }
  gssize bad = epd_first_non_finite (rows, n * dim);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "row %" G_GSIZE_FORMAT " of the projected states is not finite", i / dim);
      return NULL;
    }
  self = g_new0 (EpdPca, 1);
  self->dim = dim;
  self->mean = g_new0 (double, dim);
  for (gsize i = 0; i < n; i++)
    for (guint j = 0; j < dim; j++)
      self->mean[j] += rows[i * dim + j] / n;
  self->axis[0] = power_iteration (rows, n, dim, self->mean, NULL, &self->variance[0]);
  self->axis[1] = power_iteration (rows, n, dim, self->mean, self->axis[0], &self->variance[1]);
  return g_steal_pointer (&self);
}

static void
copy_scaled (double       *to,
             const double *from,
             gsize         n,
             double        t,
             gboolean      normalise)
{
  double c = normalise ? 1 / sqrt (1 + t * t) : 1;

  for (gsize i = 0; i < n; i++)
    to[i] = c * from[i];
}

EpdPca *
epd_pca_fit_trace (const EpdTrace *trace,
                   gboolean        normalise,
                   GError        **error)
{
  guint n_steps = epd_trace_n_steps (trace);
  gsize per = trace->batch * trace->dim;
  g_autofree double *rows = g_new (double, per * (n_steps + 1));
  double t_end = n_steps > 0 ? epd_trace_get_step (trace, n_steps - 1)->t_next : 0;

  normalise = normalise && !trace->flow_time;
  for (guint s = 0; s < n_steps; s++)
    copy_scaled (rows + s * per, epd_trace_get_step (trace, s)->x, per,
                 epd_trace_get_step (trace, s)->t_cur, normalise);
  copy_scaled (rows + n_steps * per, trace->x_final, per, t_end, normalise);
  return epd_pca_fit (rows, trace->batch * (n_steps + 1), trace->dim, error);
}

void
epd_pca_project (const EpdPca *self,
                 const double *row,
                 double       *u,
                 double       *v)
{
  double a = 0, b = 0;

  for (guint j = 0; j < self->dim; j++)
    {
      double c = row[j] - self->mean[j];
      a += c * self->axis[0][j];
      b += c * self->axis[1][j];
    }
  *u = a;
  *v = b;
}
