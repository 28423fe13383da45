/* SPDX-License-Identifier: MIT */
/* epd-flowmatch.h: the flow-matching view of a VE denoiser. */
#pragma once

#include "epd-denoiser.h"

G_BEGIN_DECLS

/* Flow-matching times above this are evaluated at it: t = 1 is sigma = inf,
 * so D_fm(x, 1) is taken as D_fm(x, 1 - 2^-33), i.e. sigma = 2^33 - 1
 * (~8.6e9). For a model with finite data moments the difference is O(1/sigma). */
#define EPD_FLOW_T_CAP (1.0 - 0x1p-33)

#define EPD_TYPE_FLOW_DENOISER (epd_flow_denoiser_get_type ())
G_DECLARE_FINAL_TYPE (EpdFlowDenoiser, epd_flow_denoiser, EPD, FLOW_DENOISER, GObject)

/* D_fm(x, t) = D_ve(x / (1 - t), t / (1 - t)) with x = (1-t) x0 + t n:
 * the sigma argument of the returned denoiser is the flow time t. */
EpdDenoiser *epd_flow_denoiser_new (EpdDenoiser *ve);

G_END_DECLS
