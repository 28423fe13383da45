/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* Unnormalised softmax of each logits row in place, exp(L - max L), and the
 * row sum; the weighted sum divides by it at the end. One group per row. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_EMP
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_EMP_SOFTMAX_LOGITS) buffer Logits { float logits[]; };
layout (std430, binding = EPD_EMP_SOFTMAX_ROW_SUM) writeonly buffer RowSum { float row_sum[]; };

shared float partial[256];

float
reduce (float v, bool is_max)
{
  uint t = gl_LocalInvocationID.x;

  partial[t] = v;
  barrier ();
  for (uint s = 128u; s > 0u; s >>= 1)
    {
      if (t < s)
        partial[t] = is_max ? max (partial[t], partial[t + s]) : partial[t] + partial[t + s];
      barrier ();
    }
  v = partial[0];
  barrier ();
  return v;
}

void
main ()
{
  uint t = gl_LocalInvocationID.x;

  for (uint r = gl_WorkGroupID.x; r < pc.rows; r += gl_NumWorkGroups.x)
    {
      float m = -3.0e38;
      float z = 0.0;

      for (uint i = t; i < pc.n; i += 256u)
        m = max (m, logits[r * pc.n + i]);
      m = reduce (m, true);
      for (uint i = t; i < pc.n; i += 256u)
        {
          float e = exp (logits[r * pc.n + i] - m);
          logits[r * pc.n + i] = e;
          z += e;
        }
      z = reduce (z, false);
      if (t == 0u)
        row_sum[r] = z;
    }
}
