/* SPDX-License-Identifier: MIT
 * epd-unet-config.h: diffusers' UNet2DModel config.json and scheduler_config.json.
 *
 * Only what pixel-space checkpoints use is accepted (see epd_unet_config_parse);
 * anything else is refused with EPD_ERROR_UNSUPPORTED naming the key and its
 * value, so a model is never run with semantics it does not have. */
#pragma once

#include <json-glib/json-glib.h>

#include "epd.h"

G_BEGIN_DECLS

#define EPD_UNET_MAX_BLOCKS 8
#define EPD_UNET_MAX_SIDE   1024

typedef struct {
  guint    in_channels;           /* 1 or 3, = out_channels */
  guint    out_channels;
  guint    sample_size;           /* square images */
  gboolean center_input_sample;
  guint    time_embed_dim;        /* time_embedding_dim, or 4 x block_out_channels[0] */
  double   freq_shift;
  gboolean flip_sin_to_cos;
  guint    n_blocks;
  guint    block_out_channels[EPD_UNET_MAX_BLOCKS];
  gboolean down_attention[EPD_UNET_MAX_BLOCKS];   /* AttnDownBlock2D */
  gboolean up_attention[EPD_UNET_MAX_BLOCKS];     /* AttnUpBlock2D */
  guint    layers_per_block;
  double   mid_block_scale_factor;
  guint    downsample_padding;
  guint    attention_head_dim;    /* 0: null, one head of all channels */
  guint    norm_num_groups;
  guint    attn_norm_num_groups;  /* 0: null (the mid-block rule applies) */
  double   norm_eps;
  gboolean scale_shift;           /* resnet_time_scale_shift "scale_shift" */
  gboolean add_attention;         /* the mid block's attention */
} EpdUnetConfig;

typedef enum {
  EPD_UNET_BETAS_LINEAR,
  EPD_UNET_BETAS_SCALED_LINEAR,
  EPD_UNET_BETAS_SQUAREDCOS_CAP_V2,
} EpdUnetBetaSchedule;

typedef struct {
  guint               num_train_timesteps;
  double              beta_start;
  double              beta_end;
  EpdUnetBetaSchedule beta_schedule;
  int                 prediction_type;   /* an EpdUnetPrediction (epd-unet.h) */
} EpdUnetScheduler;

/* Parses config.json text (the fuzzers' entry). source names it in messages. */
gboolean epd_unet_config_parse      (const char        *data,
                                     gsize              length,
                                     const char        *source,
                                     EpdUnetConfig     *config,
                                     GError           **error);
/* Parses scheduler_config.json text; data NULL gives DDPMScheduler's defaults. */
gboolean epd_unet_scheduler_parse   (const char        *data,
                                     gsize              length,
                                     const char        *source,
                                     EpdUnetScheduler  *scheduler,
                                     GError           **error);
/* alphas_cumprod of the scheduler, in float64: [num_train_timesteps]. g_free() it. */
double  *epd_unet_scheduler_alphas_cumprod (const EpdUnetScheduler *scheduler);

G_END_DECLS
