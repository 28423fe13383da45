/* SPDX-License-Identifier: MIT
 * epd-unet.h: a diffusers UNet2DModel folder as a denoiser D(x, sigma).
 *
 * A folder holds config.json (UNet2DModel), diffusion_pytorch_model.safetensors
 * and scheduler_config.json, beside them or in ../scheduler/ (the diffusers
 * pipeline layout); without one, DDPMScheduler's defaults (1000 steps, linear
 * betas 1e-4 .. 0.02, epsilon prediction).
 *
 * The sigma wrapper (k-diffusion's discrete DDPM wrappers): from the
 * scheduler's alphas_cumprod abar_i, sigma_i = sqrt((1 - abar_i) / abar_i),
 * i = 0 .. T-1, increasing. For a row with noise level s:
 *   t    = the fractional timestep: linear interpolation of i in log sigma
 *          between the two table points around s (exact at table points;
 *          s outside [sigma_0, sigma_{T-1}] is clamped to the ends)
 *   c_in = 1 / sqrt(1 + s^2),  net = UNet(c_in x, t)
 *   D    = x - s net                                   (epsilon)
 *        = x / (1 + s^2) - s / sqrt(1 + s^2) net       (v_prediction)
 *        = net                                         (sample)
 * The model's sigma range is [sigma_0, sigma_{T-1}].
 *
 * Rows: image rows are laid out as EpdDenoiser says, [side][side][channels];
 * the network sees NCHW, converted at the boundary. The network runs in
 * float32 (epd-unet-plan.h), the wrapper in float64.
 * Thread safety: denoise() may be called from several threads (the CPU
 * workspace is guarded by a lock). */
#pragma once

#include "epd.h"
#include "epd-unet-plan.h"

G_BEGIN_DECLS

typedef enum {
  EPD_UNET_PREDICT_EPSILON,
  EPD_UNET_PREDICT_V,
  EPD_UNET_PREDICT_SAMPLE,
} EpdUnetPrediction;

#define EPD_TYPE_UNET (epd_unet_get_type ())
G_DECLARE_FINAL_TYPE (EpdUnet, epd_unet, EPD, UNET, GObject)

/* Loads a diffusers folder. Errors name the file, the config key or tensor. */
EpdUnet     *epd_unet_load            (const char   *dir,
                                       GError      **error);
/* The compiled network (borrowed). */
EpdUnetPlan *epd_unet_get_plan        (EpdUnet      *self);
/* The sigma table, T values increasing (borrowed). */
const double *epd_unet_get_sigmas     (EpdUnet      *self,
                                       guint        *n);
EpdUnetPrediction epd_unet_get_prediction (EpdUnet  *self);
void         epd_unet_get_sigma_range (EpdUnet      *self,
                                       double       *sigma_min,
                                       double       *sigma_max);
/* The fractional diffusers timestep of a noise level (see above). */
double       epd_unet_sigma_to_timestep (EpdUnet    *self,
                                         double      sigma);

/* The wrapper around any backend, shared by the CPU and Vulkan paths.
 * prepare: x [batch][dim] (EpdDenoiser rows) and sigma [batch] -> the
 * plan's input value [batch][C][H][W] (c_in x) and timestep [batch].
 * finish: the plan's output [batch][C][H][W] -> D [batch][dim]. */
void         epd_unet_prepare_batch   (EpdUnet      *self,
                                       const double *x,
                                       const double *sigma,
                                       gsize         batch,
                                       float        *net_in,
                                       float        *timesteps);
void         epd_unet_finish_batch    (EpdUnet      *self,
                                       const double *x,
                                       const double *sigma,
                                       gsize         batch,
                                       const float  *net_out,
                                       double       *out);

/* One GEMM shape of the CPU executor: count float32 products of an m x k
 * by a k x n matrix. */
typedef struct {
  gsize m, n, k, count;
} EpdUnetGemm;

/* The GEMMs the CPU executor runs for one call of batch samples, in its
 * order: every convolution in its column chunks (several small images side
 * by side), the linear layers, attention's two products per head and sample.
 * For timing a reference on the same shapes (epd bench). */
GArray      *epd_unet_cpu_gemms       (const EpdUnetPlan *plan,
                                       gsize              batch);

G_END_DECLS
