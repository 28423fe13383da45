/* SPDX-License-Identifier: MIT */
/* epd-model.h: model specs -> CPU denoisers.
 *   gmm:FILE.json            a Gaussian mixture file
 *   gmm:PRESET               a built-in 2-D mixture (see epd_gmm_preset_names())
 *   dataset:fashion-mnist[:N] the empirical optimal denoiser over N training images
 *   dataset:DIR              the same over a folder of PNG images
 *   unet:DIR                 a diffusers UNet2DModel folder (epd-unet.h)
 *   unet:NAME                a shipped one, data/models/NAME (unet:fashion-mnist);
 *                            $EPD_MODELS_DIR replaces data/models */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

#define EPD_DEFAULT_MODEL "gmm:ring8"

EpdDenoiser *epd_model_from_spec (const char *spec,
                                  GError    **error);

G_END_DECLS
