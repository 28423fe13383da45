/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* out[r][j] = sum_c part[c][r][j] / row_sum[r]: the chunks' partial sums
 * added up and normalised by the softmax denominator. */
layout (local_size_x = 256) in;

#define EPD_KERNEL_EMP
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_EMP_REDUCE_PARTIAL) readonly buffer Partial { float part[]; };
layout (std430, binding = EPD_EMP_REDUCE_ROW_SUM) readonly buffer RowSum { float row_sum[]; };
layout (std430, binding = EPD_EMP_REDUCE_OUT) writeonly buffer Out { float result[]; };

void
main ()
{
  uint n_chunks = (pc.n + pc.chunk - 1u) / pc.chunk;
  uint total = pc.rows * pc.dim;
  uint stride = gl_NumWorkGroups.x * 256u;

  for (uint e = gl_GlobalInvocationID.x; e < total; e += stride)
    {
      float acc = 0.0;
      for (uint c = 0u; c < n_chunks; c++)
        acc += part[c * total + e];
      result[pc.row0 * pc.dim + e] = acc / row_sum[e / pc.dim];
    }
}
