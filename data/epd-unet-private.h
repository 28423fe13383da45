/* SPDX-License-Identifier: MIT
 * epd-unet-private.h: building and running UNet plans inside data/. */
#pragma once

#include "epd-safetensors.h"
#include "epd-unet-config.h"
#include "epd-unet-plan.h"

G_BEGIN_DECLS

/* Compiles config over the checkpoint's tensors: every tensor the config
 * needs must be there with its shape, and every tensor must be used. */
EpdUnetPlan *epd_unet_plan_compile (const EpdUnetConfig *config,
                                    EpdSafetensors      *tensors,
                                    GError             **error);

/* The CPU executor: activation slots for one batch size, reused between
 * runs; not thread-safe (the caller locks). */
typedef struct _EpdUnetCpu EpdUnetCpu;

EpdUnetCpu  *epd_unet_cpu_new  (EpdUnetPlan *plan);
void         epd_unet_cpu_free (EpdUnetCpu  *self);
/* input [batch][C][H][W], timesteps [batch] -> output [batch][C][H][W].
 * Fails only when the workspace cannot be allocated (EPD_ERROR_NUMERIC). */
gboolean     epd_unet_cpu_run  (EpdUnetCpu  *self,
                                gsize        batch,
                                const float *input,
                                const float *timesteps,
                                float       *output,
                                GError     **error);

/* The threads the executor's loops use (OpenBLAS's count, 1 to 16). */
guint        epd_unet_cpu_threads (void);
/* Between begin and end, the calling thread runs the executor's loops itself:
 * for a caller that already splits a batch over threads of its own. */
void         epd_unet_cpu_serial_begin (void);
void         epd_unet_cpu_serial_end   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdUnetCpu, epd_unet_cpu_free)

G_END_DECLS
