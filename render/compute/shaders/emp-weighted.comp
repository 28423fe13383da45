/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* Partial weighted sums over one chunk of images (split-K, so that a few rows
 * still fill the device): part[c][r][j] = sum_{i in chunk c} P[r][i] y[i][j].
 * A 16x16 group computes 16 rows x 64 pixels, 1 x 4 per thread, through
 * shared-memory tiles of 16 images. */
layout (local_size_x = 16, local_size_y = 16) in;

#define EPD_KERNEL_EMP
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_EMP_WEIGHTED_WEIGHTS) readonly buffer Weights { float weights[]; };
layout (std430, binding = EPD_EMP_WEIGHTED_Y) readonly buffer Y { float y[]; };
layout (std430, binding = EPD_EMP_WEIGHTED_PARTIAL) writeonly buffer Partial { float part[]; };

shared float ps[16][17];
shared float ys[16][64];

void
main ()
{
  uint tx = gl_LocalInvocationID.x;
  uint ty = gl_LocalInvocationID.y;
  uint lid = ty * 16u + tx;
  uint col_base = gl_WorkGroupID.x * 64u;
  uint row_base = gl_WorkGroupID.y * 16u;
  uint chunk = gl_WorkGroupID.z;
  uint begin = chunk * pc.chunk;
  uint end = min (begin + pc.chunk, pc.n);
  float acc[4] = { 0.0, 0.0, 0.0, 0.0 };

  for (uint i0 = begin; i0 < end; i0 += 16u)
    {
      {
        uint r = lid / 16u, ii = lid % 16u;
        bool inside = row_base + r < pc.rows && i0 + ii < end;
        ps[r][ii] = inside ? weights[(row_base + r) * pc.n + i0 + ii] : 0.0;
      }
      for (uint q = 0u; q < 4u; q++)
        {
          uint e = lid + 256u * q;
          uint ii = e / 64u, c = e % 64u;
          bool inside = i0 + ii < end && col_base + c < pc.dim;
          ys[ii][c] = inside ? y[(i0 + ii) * pc.dim + col_base + c] : 0.0;
        }
      barrier ();
      for (uint ii = 0u; ii < 16u; ii++)
        {
          float p = ps[ty][ii];
          for (uint b = 0u; b < 4u; b++)
            acc[b] += p * ys[ii][tx + 16u * b];
        }
      barrier ();
    }
  uint r = row_base + ty;
  if (r >= pc.rows)
    return;
  for (uint b = 0u; b < 4u; b++)
    {
      uint j = col_base + tx + 16u * b;
      if (j < pc.dim)
        part[(chunk * pc.rows + r) * pc.dim + j] = acc[b];
    }
}
