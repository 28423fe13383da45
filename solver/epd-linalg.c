/* SPDX-License-Identifier: MIT
 * epd-linalg.c: cyclic Jacobi eigen-decomposition of symmetric matrices. */
#include "epd-linalg.h"

#include <math.h>
#include <string.h>

#define JACOBI_MAX_SWEEPS 64

static double
off_diagonal_norm2 (const double *a,
                    guint         n)
{
  double s = 0.0;

  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      s += a[i * n + j] * a[i * n + j];
  return s;
}

/* One rotation in the (p, q) plane that zeroes a[p][q]; applied to a and to v. */
static void
rotate (double *a,
        double *v,
        guint   n,
        guint   p,
        guint   q)
{
  double apq = a[p * n + q], theta, t, c, s;

  if (apq == 0.0)
    return;
  theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
  t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta + 1.0));
  c = 1.0 / sqrt (t * t + 1.0);
  s = t * c;
  for (guint k = 0; k < n; k++)
    {
      double akp = a[k * n + p], akq = a[k * n + q];

      a[k * n + p] = c * akp - s * akq;
      a[k * n + q] = s * akp + c * akq;
    }
  for (guint k = 0; k < n; k++)
    {
      double apk = a[p * n + k], aqk = a[q * n + k];

      a[p * n + k] = c * apk - s * aqk;
      a[q * n + k] = s * apk + c * aqk;
    }
  for (guint k = 0; k < n; k++)
    {
      double vkp = v[k * n + p], vkq = v[k * n + q];

      v[k * n + p] = c * vkp - s * vkq;
      v[k * n + q] = s * vkp + c * vkq;
    }
}

void
epd_sym_eigen (const double *a,
               guint         n,
               double       *evals,
               double       *vecs)
{
  g_autofree double *w = g_memdup2 (a, (gsize) n * n * sizeof (double));
  double scale = 0.0;

  memset (vecs, 0, (gsize) n * n * sizeof (double));
  for (guint i = 0; i < n; i++)
    {
      vecs[i * n + i] = 1.0;
      scale += a[i * n + i] * a[i * n + i];
    }
  scale += 2.0 * off_diagonal_norm2 (a, n);
  for (guint sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++)
    {
      /* Converged once the off-diagonal mass is rounding noise of the whole matrix. */
      if (off_diagonal_norm2 (w, n) <= 1e-30 * scale)
        break;
      for (guint p = 0; p < n; p++)
        for (guint q = p + 1; q < n; q++)
          rotate (w, vecs, n, p, q);
    }
  for (guint i = 0; i < n; i++)
    evals[i] = w[i * n + i];
}

void
epd_sym_sqrt (const double *a,
              guint         n,
              double       *out)
{
  g_autofree double *evals = g_new (double, n);
  g_autofree double *vecs = g_new (double, (gsize) n * n);

  epd_sym_eigen (a, n, evals, vecs);
  for (guint k = 0; k < n; k++)
    evals[k] = sqrt (MAX (evals[k], 0.0));
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      {
        double s = 0.0;

        for (guint k = 0; k < n; k++)
          s += vecs[i * n + k] * evals[k] * vecs[j * n + k];
        out[i * n + j] = s;
      }
}
