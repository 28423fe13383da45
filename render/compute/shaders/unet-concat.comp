/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* CONCAT on channels: out [c0 + c1][p] = in0's channels, then in1's. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_UNET_CONCAT
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

void
main ()
{
  uint a = pc.c0 * pc.p, b = pc.c1 * pc.p, per = a + b;
  uint stride = gl_NumWorkGroups.x * 256u;

  for (uint i = gl_GlobalInvocationID.x; i < pc.n * per; i += stride)
    {
      uint n = i / per, j = i % per;

      arena[pc.out_off + i] = j < a ? arena[pc.in0_off + n * a + j] : arena[pc.in1_off + n * b + (j - a)];
    }
}
