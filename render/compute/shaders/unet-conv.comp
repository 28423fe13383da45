/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* CONV2D as an implicit GEMM over the pass's samples:
 *   out[o][col] = alpha (bias[o] + sum_k W[o][k] X[k][col] + residual[o][col])
 * with k = (ci, ky, kx) and col = (sample, y, x); X is the im2col matrix,
 * gathered from the input while it is staged (zero outside the padding).
 * A 16 x 16 group computes a 64-channel x 64-column tile, 4 x 4 per
 * invocation, through 16-deep slices of W and X in shared memory. Tiles
 * beyond the grid's limits are taken by the same groups in later rounds.
 * KSIZE (1 or 3) is set by glslc -D, so the k decomposition divides by constants. */
layout (local_size_x = 16, local_size_y = 16) in;

#define EPD_KERNEL_UNET_CONV
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

#define KK (KSIZE * KSIZE)

/* [k][row], padded by one so that column-wise stores do not share banks. */
shared float ws[EPD_UNET_TILE_K][EPD_UNET_TILE_M + 1];
shared float xs[EPD_UNET_TILE_K][EPD_UNET_TILE_N + 1];

void
main ()
{
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint lid = ty * 16u + tx;
  uint hw = pc.h * pc.w, p_out = pc.ho * pc.wo;
  uint kdim = pc.ci * KK, cols = pc.n * p_out;
  uint col_tiles = (cols + EPD_UNET_TILE_N - 1u) / EPD_UNET_TILE_N;
  uint row_tiles = (pc.co + EPD_UNET_TILE_M - 1u) / EPD_UNET_TILE_M;
  /* The column this invocation stages: the same in every k slice. */
  uint lc = lid % EPD_UNET_TILE_N, lk = lid / EPD_UNET_TILE_N;

  for (uint rt = gl_WorkGroupID.y; rt < row_tiles; rt += gl_NumWorkGroups.y)
    for (uint ct = gl_WorkGroupID.x; ct < col_tiles; ct += gl_NumWorkGroups.x)
      {
        uint o0 = rt * EPD_UNET_TILE_M, col0 = ct * EPD_UNET_TILE_N;
        uint lcol = col0 + lc;
        bool col_ok = lcol < cols;
        uint ln = col_ok ? lcol / p_out : 0u;
        uint lp = col_ok ? lcol - ln * p_out : 0u;
        int iy0 = int ((lp / pc.wo) * pc.stride) - int (pc.pad_top);
        int ix0 = int ((lp % pc.wo) * pc.stride) - int (pc.pad_left);
        uint in_base = pc.in_off + ln * pc.ci * hw;
        float acc[4][4];

        for (uint i = 0u; i < 4u; i++)
          for (uint j = 0u; j < 4u; j++)
            acc[i][j] = 0.0;
        for (uint k0 = 0u; k0 < kdim; k0 += EPD_UNET_TILE_K)
          {
            for (uint q = 0u; q < 4u; q++)
              {
                uint e = lid + 256u * q;
                uint m = e / EPD_UNET_TILE_K, kk = e % EPD_UNET_TILE_K;
                uint o = o0 + m, k = k0 + kk;

                ws[kk][m] = o < pc.co && k < kdim ? wt[pc.weight_off + o * kdim + k] : 0.0;
              }
            for (uint q = 0u; q < 4u; q++)
              {
                uint kk = lk + 4u * q, k = k0 + kk;
                float v = 0.0;

                if (col_ok && k < kdim)
                  {
                    uint ci = k / KK, r = k % KK;
                    int iy = iy0 + int (r / KSIZE), ix = ix0 + int (r % KSIZE);

                    if (iy >= 0 && iy < int (pc.h) && ix >= 0 && ix < int (pc.w))
                      v = arena[in_base + ci * hw + uint (iy) * pc.w + uint (ix)];
                  }
                xs[kk][lc] = v;
              }
            barrier ();
            for (uint kk = 0u; kk < EPD_UNET_TILE_K; kk++)
              {
                float a[4], b[4];

                for (uint i = 0u; i < 4u; i++)
                  a[i] = ws[kk][ty + 16u * i];
                for (uint j = 0u; j < 4u; j++)
                  b[j] = xs[kk][tx + 16u * j];
                for (uint i = 0u; i < 4u; i++)
                  for (uint j = 0u; j < 4u; j++)
                    acc[i][j] += a[i] * b[j];
              }
            barrier ();
          }
        for (uint j = 0u; j < 4u; j++)
          {
            uint col = col0 + tx + 16u * j;
            uint n, p;

            if (col >= cols)
              continue;
            n = col / p_out;
            p = col - n * p_out;
            for (uint i = 0u; i < 4u; i++)
              {
                uint o = o0 + ty + 16u * i;
                uint idx = (n * pc.co + o) * p_out + p;
                float v = acc[i][j];

                if (o >= pc.co)
                  continue;
                if ((pc.flags & EPD_UNET_CONV_HAS_BIAS) != 0u)
                  v += wt[pc.bias_off + o];
                if ((pc.flags & EPD_UNET_CONV_HAS_RESIDUAL) != 0u)
                  v += arena[pc.res_off + idx];
                arena[pc.out_off + idx] = pc.alpha * v;
              }
          }
      }
}
