/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* Logits of the empirical denoiser, tiled like a matrix product:
 *   L[r][i] = (x_r . y_i - |y_i|^2 / 2) / s_r^2
 * (|x_r|^2 / 2s^2 is the same for every i and cancels in the softmax).
 * A 16x16 group computes a 32-row x 64-image tile, 2 x 4 per thread,
 * through shared-memory tiles of 16 pixels. */
layout (local_size_x = 16, local_size_y = 16) in;

#define EPD_KERNEL_EMP
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_EMP_LOGITS_X) readonly buffer X { float x[]; };
layout (std430, binding = EPD_EMP_LOGITS_Y) readonly buffer Y { float y[]; };
layout (std430, binding = EPD_EMP_LOGITS_HALF_NORM) readonly buffer HalfNorm { float half_norm[]; };
layout (std430, binding = EPD_EMP_LOGITS_INV_VAR) readonly buffer InvVar { float inv_var[]; };
layout (std430, binding = EPD_EMP_LOGITS_OUT) writeonly buffer Logits { float logits[]; };

shared float xs[16][33];
shared float ys[16][65];

void
main ()
{
  uint tx = gl_LocalInvocationID.x;
  uint ty = gl_LocalInvocationID.y;
  uint lid = ty * 16u + tx;
  uint row_base = gl_WorkGroupID.y * 32u;
  uint img_base = gl_WorkGroupID.x * 64u;
  float acc[2][4] = { { 0.0, 0.0, 0.0, 0.0 }, { 0.0, 0.0, 0.0, 0.0 } };

  for (uint k0 = 0u; k0 < pc.dim; k0 += 16u)
    {
      for (uint q = 0u; q < 2u; q++)
        {
          uint e = lid + 256u * q;
          uint r = e / 16u, kk = e % 16u;
          bool inside = row_base + r < pc.rows && k0 + kk < pc.dim;
          xs[kk][r] = inside ? x[(pc.row0 + row_base + r) * pc.dim + k0 + kk] : 0.0;
        }
      for (uint q = 0u; q < 4u; q++)
        {
          uint e = lid + 256u * q;
          uint c = e / 16u, kk = e % 16u;
          bool inside = img_base + c < pc.n && k0 + kk < pc.dim;
          ys[kk][c] = inside ? y[(img_base + c) * pc.dim + k0 + kk] : 0.0;
        }
      barrier ();
      for (uint kk = 0u; kk < 16u; kk++)
        {
          float a0 = xs[kk][ty], a1 = xs[kk][ty + 16u];
          for (uint b = 0u; b < 4u; b++)
            {
              float yv = ys[kk][tx + 16u * b];
              acc[0][b] += a0 * yv;
              acc[1][b] += a1 * yv;
            }
        }
      barrier ();
    }
  for (uint a = 0u; a < 2u; a++)
    {
      uint r = row_base + ty + 16u * a;
      if (r >= pc.rows)
        continue;
      for (uint b = 0u; b < 4u; b++)
        {
          uint i = img_base + tx + 16u * b;
          if (i < pc.n)
            logits[r * pc.n + i] = (acc[a][b] - half_norm[i]) * inv_var[pc.row0 + r];
        }
    }
}
