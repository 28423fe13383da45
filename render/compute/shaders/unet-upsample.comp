/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* UPSAMPLE, nearest x2: out[c][y][x] = in[c][y / 2][x / 2]. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_UNET_UPSAMPLE
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

void
main ()
{
  uint wo = 2u * pc.w, per = 4u * pc.h * pc.w;
  uint stride = gl_NumWorkGroups.x * 256u;

  for (uint i = gl_GlobalInvocationID.x; i < pc.n * pc.c * per; i += stride)
    {
      uint plane = i / per, j = i % per;
      uint y = j / wo, x = j % wo;

      arena[pc.out_off + i] = arena[pc.in_off + (plane * pc.h + y / 2u) * pc.w + x / 2u];
    }
}
