/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* GROUP_NORM (+ SiLU): one group per (sample, group) reduces the mean, then
 * the biased variance around it (two passes, as the CPU path), in shared
 * memory, and writes y = (v - mean) / sqrt(var + eps) weight[c] + bias[c]. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_UNET_NORM
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

shared float red[256];

float
group_sum (float v)
{
  uint lid = gl_LocalInvocationID.x;
  float total;

  red[lid] = v;
  barrier ();
  for (uint s = 128u; s > 0u; s >>= 1)
    {
      if (lid < s)
        red[lid] += red[lid + s];
      barrier ();
    }
  total = red[0];
  barrier ();
  return total;
}

void
main ()
{
  uint lid = gl_LocalInvocationID.x;
  uint cg = pc.c / pc.groups, m = cg * pc.p;

  for (uint job = gl_WorkGroupID.x; job < pc.n * pc.groups; job += gl_NumWorkGroups.x)
    {
      uint n = job / pc.groups, g = job % pc.groups;
      uint base = (n * pc.c + g * cg) * pc.p;
      float sum = 0.0, sq = 0.0, mean, rstd;

      for (uint j = lid; j < m; j += 256u)
        sum += arena[pc.in_off + base + j];
      mean = group_sum (sum) / float (m);
      for (uint j = lid; j < m; j += 256u)
        {
          float d = arena[pc.in_off + base + j] - mean;

          sq += d * d;
        }
      rstd = 1.0 / sqrt (group_sum (sq) / float (m) + pc.eps);
      for (uint j = lid; j < m; j += 256u)
        {
          uint ch = g * cg + j / pc.p;
          float y = (arena[pc.in_off + base + j] - mean) * rstd * wt[pc.weight_off + ch] + wt[pc.bias_off + ch];

          arena[pc.out_off + base + j] = pc.silu != 0u ? y / (1.0 + exp (-y)) : y;
        }
    }
}
