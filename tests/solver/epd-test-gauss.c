/* SPDX-License-Identifier: MIT */
/* epd-test-gauss.c: the exact single-Gaussian denoiser of the solver tests. */
#include "epd-test-gauss.h"

#include <math.h>

struct _EpdTestGauss
{
  GObject  parent_instance;
  guint    dim;
  double  *mu;
  double   s0;
  guint64  rows;
  guint    calls;
  GCancellable *cancel;
  guint    cancel_at;
};

static void epd_test_gauss_iface_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdTestGauss, epd_test_gauss, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, epd_test_gauss_iface_init))

static guint
gauss_get_dim (EpdDenoiser *d)
{
  return EPD_TEST_GAUSS (d)->dim;
}

static gboolean
gauss_denoise (EpdDenoiser  *d,
               const double *x,
               const double *sigma,
               gsize         batch,
               double       *out,
               GError      **error)
{
  EpdTestGauss *self = EPD_TEST_GAUSS (d);
  double v = self->s0 * self->s0;

  for (gsize b = 0; b < batch; b++)
    {
      double a = v / (v + sigma[b] * sigma[b]);

      for (guint j = 0; j < self->dim; j++)
        out[b * self->dim + j] = self->mu[j] + a * (x[b * self->dim + j] - self->mu[j]);
    }
  self->rows += batch;
  self->calls++;
  if (self->cancel != NULL && self->calls == self->cancel_at)
    g_cancellable_cancel (self->cancel);
  return TRUE;
}

static void
epd_test_gauss_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = gauss_get_dim;
  iface->denoise = gauss_denoise;
}

static void
epd_test_gauss_finalize (GObject *object)
{
  g_free (EPD_TEST_GAUSS (object)->mu);
  g_clear_object (&EPD_TEST_GAUSS (object)->cancel);
  G_OBJECT_CLASS (epd_test_gauss_parent_class)->finalize (object);
}

static void
epd_test_gauss_class_init (EpdTestGaussClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_test_gauss_finalize;
}

static void
epd_test_gauss_init (EpdTestGauss *self)
{
}

EpdDenoiser *
epd_test_gauss_new (guint         dim,
                    const double *mu,
                    double        s0)
{
  EpdTestGauss *self = g_object_new (EPD_TYPE_TEST_GAUSS, NULL);

  self->dim = dim;
  self->mu = g_memdup2 (mu, dim * sizeof (double));
  self->s0 = s0;
  return EPD_DENOISER (self);
}

guint64
epd_test_gauss_rows (EpdTestGauss *self)
{
  return self->rows;
}

void
epd_test_gauss_cancel_after (EpdTestGauss *self,
                             GCancellable *cancellable,
                             guint         calls)
{
  g_set_object (&self->cancel, cancellable);
  self->cancel_at = calls;
}

guint
epd_test_gauss_calls (EpdTestGauss *self)
{
  return self->calls;
}

void
epd_test_gauss_exact (EpdTestGauss *self,
                      const double *x_T,
                      gsize         n,
                      double        T,
                      double        t,
                      double       *out)
{
  double v = self->s0 * self->s0;
  double f = sqrt ((v + t * t) / (v + T * T));

  for (gsize i = 0; i < n; i++)
    {
      double m = self->mu[i % self->dim];

      out[i] = m + f * (x_T[i] - m);
    }
}
