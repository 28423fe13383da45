/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* The shape-preserving ops, one float per invocation per round:
 * SILU, ADD (alpha (a + b)), AFFINE (alpha v + beta), and the time
 * embedding's per-channel CHANNEL_BIAS (v + e[c]) and SCALE_SHIFT
 * (v (1 + e[c]) + e[C + c]), e read from in1's vector of vec_c floats
 * per sample starting at offset; the last two optionally followed by SiLU. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_UNET_ELT
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

float
silu (float v)
{
  return v / (1.0 + exp (-v));
}

void
main ()
{
  uint stride = gl_NumWorkGroups.x * 256u;

  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride)
    {
      float v = arena[pc.in0_off + i];
      uint n = i / (pc.c * pc.p), ch = (i / pc.p) % pc.c;
      uint e = pc.in1_off + n * pc.vec_c + pc.offset + ch;

      if (pc.mode == EPD_UNET_ELT_SILU)
        v = silu (v);
      else if (pc.mode == EPD_UNET_ELT_ADD)
        v = pc.alpha * (v + arena[pc.in1_off + i]);
      else if (pc.mode == EPD_UNET_ELT_AFFINE)
        v = pc.alpha * v + pc.beta;
      else if (pc.mode == EPD_UNET_ELT_CHANNEL_BIAS)
        v = v + arena[e];
      else
        v = v * (1.0 + arena[e]) + arena[e + pc.c];
      if (pc.silu != 0u)
        v = silu (v);
      arena[pc.out_off + i] = v;
    }
}
