/* SPDX-License-Identifier: MIT */
/* epd-vk-unet.h: a UNet plan (epd-unet-plan.h) run by Vulkan compute.
 *
 * The weights go to the device once. The activation slots and the attention
 * scratch of one *pass* live in one arena buffer, allocated for the largest
 * batch seen and reused; a pass is as many samples as the arena holds within
 * the device's largest storage buffer (and 1 GiB). A run records every pass
 * of the whole network into one command buffer (barriers between dependent
 * steps) and submits it once, whatever the batch.
 *
 * The time embedding (TIME_EMBED) is computed on the host in float64, as
 * the CPU path does, and copied in where the plan computes it: a float32
 * sin(t f) of arguments near 1000 would lose ~1e-4 of its phase (and
 * Vulkan only bounds sin's error to 2^-11 on [-pi, pi]).
 *
 * Not thread-safe: the caller serialises runs (EpdVkDenoiser holds a lock). */
#pragma once

#include "epd-vk-context.h"
#include "epd-unet.h"

G_BEGIN_DECLS

typedef struct _EpdVkUnet EpdVkUnet;

/* Fails with EPD_ERROR_UNSUPPORTED for an op the kernels do not cover, and
 * EPD_ERROR_DEVICE when the weights or one sample's activations do not fit
 * one storage buffer of the device, or a Vulkan call fails. */
EpdVkUnet   *epd_vk_unet_new          (EpdVkContext *context,
                                       EpdUnetPlan  *plan,
                                       GError      **error);
void         epd_vk_unet_free         (EpdVkUnet    *self);
/* input [batch][C][H][W] (the plan's input value), timesteps [batch] ->
 * output [batch][out_channels][H][W]: one submission, its wait checking
 * cancellable (may be NULL; G_IO_ERROR_CANCELLED, see epd_vk_context_submit()). */
gboolean     epd_vk_unet_run          (EpdVkUnet    *self,
                                       gsize         batch,
                                       const float  *input,
                                       const float  *timesteps,
                                       float        *output,
                                       GCancellable *cancellable,
                                       GError      **error);
/* The rows an EpdUnet refuses (as its CPU path does): x not finite. */
gboolean     epd_vk_unet_check_rows   (const double *x,
                                       gsize         n_x,
                                       GError      **error);
/* D(x, sigma) of an EpdUnet through this executor: its wrapper around one
 * run (rows already checked, sigma > 0). */
gboolean     epd_vk_unet_denoise      (EpdVkUnet    *self,
                                       EpdUnet      *model,
                                       const double *x,
                                       const double *sigma,
                                       gsize         batch,
                                       double       *out,
                                       GCancellable *cancellable,
                                       GError      **error);
/* Frees the arena and staging buffers (after a failure: the next run
 * allocates them again). */
void         epd_vk_unet_release      (EpdVkUnet    *self);
guint64      epd_vk_unet_get_n_submits (EpdVkUnet   *self);
/* Samples per pass of the current arena (0 before the first run). */
gsize        epd_vk_unet_get_pass_samples (EpdVkUnet *self);
/* Caps the samples per pass (0: only the arena's limits), so that tests
 * can split small batches into passes. Takes effect at the next run. */
void         epd_vk_unet_set_max_pass_samples (EpdVkUnet *self,
                                               gsize      samples);
/* Caps the workgroups of every dispatch per dimension (0: the device's
 * maxComputeWorkGroupCount), so that tests exercise the shaders' loops over
 * the tiles a grid at the device's limit would not cover. */
void         epd_vk_unet_set_max_groups (EpdVkUnet  *self,
                                         guint32     groups);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdVkUnet, epd_vk_unet_free)

G_END_DECLS
