/* SPDX-License-Identifier: MIT */
/* epd-vk-denoiser.h: an EpdDenoiser computed by Vulkan compute.
 *
 * Wraps a CPU model (an EpdGmm or an EpdEmpirical): its parameters go to the
 * device once, in float32; each denoise() call converts the batch to float32,
 * runs one submission (one dispatch chain, whatever the batch: the K parallel
 * points of an EPD step arrive as one call of K*B rows) and converts back.
 *
 * The JVP and get_image_shape() are forwarded to the CPU model (the exact
 * float64 derivative; finite differences in float32 would be noise).
 *
 * Limits and failures: a batch larger than one storage buffer holds
 * (maxStorageBufferRange) goes as several submissions. A call the device
 * fails (out of memory, any error but a lost device) runs on the CPU model
 * instead and the next call tries the device again; after
 * VK_ERROR_DEVICE_LOST every call runs on the CPU model, and describe() says
 * so. Either way a g_message() tells the user once. denoise() honours the
 * thread's current GCancellable (g_cancellable_push_current(), as
 * epd_solve() does) while it waits for the device: cancelled, it fails with
 * G_IO_ERROR_CANCELLED, which is not a device failure.
 *
 * Threads: denoise() may be called from any thread; calls are serialised by
 * the denoiser's lock. describe(), get_dim(), get_image_shape(), JVPs and the
 * getters below may be called from any thread at any time, also during a
 * denoise() that falls back: describe() returns one of two strings made at
 * creation, both valid for the denoiser's lifetime. */
#pragma once

#include "epd-vk-context.h"

G_BEGIN_DECLS

#define EPD_TYPE_VK_DENOISER (epd_vk_denoiser_get_type ())
G_DECLARE_FINAL_TYPE (EpdVkDenoiser, epd_vk_denoiser, EPD, VK_DENOISER, GObject)

/* Fails with EPD_ERROR_UNSUPPORTED for a model with no kernel, or
 * EPD_ERROR_DEVICE when the device cannot hold it. */
EpdVkDenoiser *epd_vk_denoiser_new         (EpdVkContext  *context,
                                            EpdDenoiser   *cpu_model,
                                            GError       **error);
EpdVkContext  *epd_vk_denoiser_get_context (EpdVkDenoiser *self);
EpdDenoiser   *epd_vk_denoiser_get_cpu     (EpdVkDenoiser *self);
/* TRUE after a device failure moved the work to the CPU model. */
gboolean       epd_vk_denoiser_fell_back   (EpdVkDenoiser *self);
/* Submissions made so far (each denoise() call makes one). */
guint64        epd_vk_denoiser_get_n_submits (EpdVkDenoiser *self);

G_END_DECLS
