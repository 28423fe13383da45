/* SPDX-License-Identifier: MIT */
/* epd-denoiser.h: the batched denoiser interface D(x[B][d], sigma[B]) -> x0[B][d]. */
#pragma once

#include <gio/gio.h>

#include "epd-types.h"

G_BEGIN_DECLS

#define EPD_TYPE_DENOISER (epd_denoiser_get_type ())
G_DECLARE_INTERFACE (EpdDenoiser, epd_denoiser, EPD, DENOISER, GObject)

/* Threads: every implementation lets denoise() and denoise_jvp() be called
 * from any thread (an implementation may serialise calls internally), and
 * get_dim(), describe() and get_image_shape() from any thread at any time,
 * also during a denoise() on another thread. Every string describe() returns
 * stays valid for the denoiser's lifetime (a later call may return another). */
struct _EpdDenoiserInterface
{
  GTypeInterface parent_iface;

  guint        (*get_dim)     (EpdDenoiser *self);
  /* Short human text such as "gmm:ring8, CPU float64"; says which device runs it. */
  const char  *(*describe)    (EpdDenoiser *self);
  /* x is [batch][dim] row-major, sigma is [batch]: one sigma per row. */
  gboolean     (*denoise)     (EpdDenoiser  *self,
                               const double *x,
                               const double *sigma,
                               gsize         batch,
                               double       *out,
                               GError      **error);
  /* Optional forward-mode derivative: out = D(x, s), dout = d/de D(x + e dx, s + e dsigma) at e = 0.
   * Models without it get central finite differences from epd_denoiser_denoise_jvp(). */
  gboolean     (*denoise_jvp) (EpdDenoiser  *self,
                               const double *x,
                               const double *sigma,
                               const double *dx,
                               const double *dsigma,
                               gsize         batch,
                               double       *out,
                               double       *dout,
                               GError      **error);
  /* Optional: the relative step h / max(sigma, 1e-3) of the central finite differences
   * that stand in for denoise_jvp. Default 1e-6, right for float64 models; a float32
   * network needs a larger step, or rounding noise swamps the difference. */
  double       (*fd_step)     (EpdDenoiser *self);
  /* Optional: TRUE for image models, with x rows laid out [side][side][channels]
   * in [-1, 1]. */
  gboolean     (*get_image_shape) (EpdDenoiser *self,
                                   guint       *side,
                                   guint       *channels);
  /* Optional: the noise levels the model was trained on (a discrete
   * diffusion model's table ends); default schedules then span them. */
  gboolean     (*get_sigma_range) (EpdDenoiser *self,
                                   double      *sigma_min,
                                   double      *sigma_max);
};

guint        epd_denoiser_get_dim     (EpdDenoiser  *self);
const char  *epd_denoiser_describe    (EpdDenoiser  *self);
gboolean     epd_denoiser_denoise     (EpdDenoiser  *self,
                                       const double *x,
                                       const double *sigma,
                                       gsize         batch,
                                       double       *out,
                                       GError      **error);
gboolean     epd_denoiser_get_image_shape (EpdDenoiser *self,
                                           guint       *side,
                                           guint       *channels);
/* FALSE for models without a trained range (closed-form models denoise at any sigma). */
gboolean     epd_denoiser_get_sigma_range (EpdDenoiser *self,
                                           double      *sigma_min,
                                           double      *sigma_max);
gboolean     epd_denoiser_has_exact_jvp (EpdDenoiser *self);
gboolean     epd_denoiser_denoise_jvp (EpdDenoiser  *self,
                                       const double *x,
                                       const double *sigma,
                                       const double *dx,
                                       const double *dsigma,
                                       gsize         batch,
                                       double       *out,
                                       double       *dout,
                                       GError      **error);

G_END_DECLS
