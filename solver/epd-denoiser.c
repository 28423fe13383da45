/* SPDX-License-Identifier: MIT */
/* epd-denoiser.c: the denoiser interface and its finite-difference JVP fallback. */
#include "epd-denoiser.h"

#include <math.h>

G_DEFINE_QUARK (epd-error-quark, epd_error)
G_DEFINE_INTERFACE (EpdDenoiser, epd_denoiser, G_TYPE_OBJECT)

static void
epd_denoiser_default_init (EpdDenoiserInterface *iface)
{
}

guint
epd_denoiser_get_dim (EpdDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_DENOISER (self), 0);
  return EPD_DENOISER_GET_IFACE (self)->get_dim (self);
}

const char *
epd_denoiser_describe (EpdDenoiser *self)
{
  EpdDenoiserInterface *iface;

  g_return_val_if_fail (EPD_IS_DENOISER (self), NULL);
  iface = EPD_DENOISER_GET_IFACE (self);
  return iface->describe ? iface->describe (self) : G_OBJECT_TYPE_NAME (self);
}

gboolean
epd_denoiser_denoise (EpdDenoiser  *self,
                      const double *x,
                      const double *sigma,
                      gsize         batch,
                      double       *out,
                      GError      **error)
{
  g_return_val_if_fail (EPD_IS_DENOISER (self), FALSE);
  if (batch == 0)
    return TRUE;
  return EPD_DENOISER_GET_IFACE (self)->denoise (self, x, sigma, batch, out, error);
}

gboolean
epd_denoiser_get_image_shape (EpdDenoiser *self,
                              guint       *side,
                              guint       *channels)
{
  EpdDenoiserInterface *iface;

  g_return_val_if_fail (EPD_IS_DENOISER (self), FALSE);
  iface = EPD_DENOISER_GET_IFACE (self);
  return iface->get_image_shape != NULL && iface->get_image_shape (self, side, channels);
}

gboolean
epd_denoiser_get_sigma_range (EpdDenoiser *self,
                              double      *sigma_min,
                              double      *sigma_max)
{
  EpdDenoiserInterface *iface;

  g_return_val_if_fail (EPD_IS_DENOISER (self), FALSE);
  iface = EPD_DENOISER_GET_IFACE (self);
  return iface->get_sigma_range != NULL && iface->get_sigma_range (self, sigma_min, sigma_max);
}

gboolean
epd_denoiser_has_exact_jvp (EpdDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_DENOISER (self), FALSE);
  return EPD_DENOISER_GET_IFACE (self)->denoise_jvp != NULL;
}

/* Central differences with a step relative to the input's scale; both sides
 * go out as one batch of 2B rows. */
static gboolean
denoise_jvp_fd (EpdDenoiser  *self,
                const double *x,
                const double *sigma,
                const double *dx,
                const double *dsigma,
                gsize         batch,
                double       *out,
                double       *dout,
                GError      **error)
{
  guint dim = epd_denoiser_get_dim (self);
  gsize n = batch * dim;
  g_autofree double *xs = g_new (double, 2 * n);
  g_autofree double *ss = g_new (double, 2 * batch);
  g_autofree double *ys = g_new (double, 2 * n);
  g_autofree double *h = g_new (double, batch);
  EpdDenoiserInterface *iface = EPD_DENOISER_GET_IFACE (self);
  double step = iface->fd_step != NULL ? iface->fd_step (self) : 1e-6;

  for (gsize b = 0; b < batch; b++)
    {
      h[b] = step * MAX (sigma[b], 1e-3);
      ss[b] = sigma[b] + h[b] * (dsigma ? dsigma[b] : 0.0);
      ss[batch + b] = sigma[b] - h[b] * (dsigma ? dsigma[b] : 0.0);
      for (guint j = 0; j < dim; j++)
        {
          double v = dx ? dx[b * dim + j] : 0.0;
          xs[b * dim + j] = x[b * dim + j] + h[b] * v;
          xs[n + b * dim + j] = x[b * dim + j] - h[b] * v;
        }
    }
  if (!epd_denoiser_denoise (self, xs, ss, 2 * batch, ys, error))
    return FALSE;
  if (out != NULL && !epd_denoiser_denoise (self, x, sigma, batch, out, error))
    return FALSE;
  for (gsize b = 0; b < batch; b++)
    for (guint j = 0; j < dim; j++)
      dout[b * dim + j] = (ys[b * dim + j] - ys[n + b * dim + j]) / (2.0 * h[b]);
  return TRUE;
}

gboolean
epd_denoiser_denoise_jvp (EpdDenoiser  *self,
                          const double *x,
                          const double *sigma,
                          const double *dx,
                          const double *dsigma,
                          gsize         batch,
                          double       *out,
                          double       *dout,
                          GError      **error)
{
  EpdDenoiserInterface *iface;

  g_return_val_if_fail (EPD_IS_DENOISER (self), FALSE);
  if (batch == 0)
    return TRUE;
  iface = EPD_DENOISER_GET_IFACE (self);
  if (iface->denoise_jvp != NULL)
    return iface->denoise_jvp (self, x, sigma, dx, dsigma, batch, out, dout, error);
  return denoise_jvp_fd (self, x, sigma, dx, dsigma, batch, out, dout, error);
}
