/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* Softmax of each row in place (the attention's scores over the keys):
 * a = exp(s - max s) / sum exp(s - max s), one group per row, its maximum
 * and sum reduced in shared memory. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_UNET_SOFTMAX
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

shared float red[256];

void
main ()
{
  uint lid = gl_LocalInvocationID.x;

  for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x)
    {
      uint base = pc.off + row * pc.len;
      float mx = -3.4028235e38, sum = 0.0, inv;

      for (uint j = lid; j < pc.len; j += 256u)
        mx = max (mx, arena[base + j]);
      red[lid] = mx;
      barrier ();
      for (uint s = 128u; s > 0u; s >>= 1)
        {
          if (lid < s)
            red[lid] = max (red[lid], red[lid + s]);
          barrier ();
        }
      mx = red[0];
      barrier ();
      for (uint j = lid; j < pc.len; j += 256u)
        {
          float e = exp (arena[base + j] - mx);

          arena[base + j] = e;
          sum += e;
        }
      red[lid] = sum;
      barrier ();
      for (uint s = 128u; s > 0u; s >>= 1)
        {
          if (lid < s)
            red[lid] += red[lid + s];
          barrier ();
        }
      inv = 1.0 / red[0];
      barrier ();
      for (uint j = lid; j < pc.len; j += 256u)
        arena[base + j] *= inv;
    }
}
