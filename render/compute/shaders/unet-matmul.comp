/* SPDX-License-Identifier: MIT */
#version 450
#extension GL_GOOGLE_include_directive : require
/* Batched strided matrix products for the attention (one batch per sample
 * and head): C = alpha A B, every operand in the arena with its own strides
 * (unet-kernels.h). A 16 x 16 group computes a 64 x 64 tile of one batch,
 * 4 x 4 per invocation, through 16-deep slices in shared memory; each slice
 * is read along the operand's contiguous direction. */
layout (local_size_x = 16, local_size_y = 16) in;

#define EPD_KERNEL_UNET_MATMUL
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_UNET_WEIGHTS) readonly buffer Weights { float wt[]; };
layout (std430, binding = EPD_UNET_ARENA) buffer Arena { float arena[]; };

shared float as[EPD_UNET_TILE_K][EPD_UNET_TILE_M + 1];
shared float bs[EPD_UNET_TILE_K][EPD_UNET_TILE_N + 1];

void
main ()
{
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint lid = ty * 16u + tx;
  uint row_tiles = (pc.m + EPD_UNET_TILE_M - 1u) / EPD_UNET_TILE_M;
  uint col_tiles = (pc.n + EPD_UNET_TILE_N - 1u) / EPD_UNET_TILE_N;

  for (uint z = gl_WorkGroupID.z; z < pc.batches; z += gl_NumWorkGroups.z)
    {
      uint zo = z / pc.inner, zi = z % pc.inner;
      uint a_base = pc.a_off + zo * pc.a_outer + zi * pc.a_inner;
      uint b_base = pc.b_off + zo * pc.b_outer + zi * pc.b_inner;
      uint c_base = pc.c_off + zo * pc.c_outer + zi * pc.c_inner;

      for (uint rt = gl_WorkGroupID.y; rt < row_tiles; rt += gl_NumWorkGroups.y)
        for (uint ct = gl_WorkGroupID.x; ct < col_tiles; ct += gl_NumWorkGroups.x)
          {
            uint m0 = rt * EPD_UNET_TILE_M, n0 = ct * EPD_UNET_TILE_N;
            float acc[4][4];

            for (uint i = 0u; i < 4u; i++)
              for (uint j = 0u; j < 4u; j++)
                acc[i][j] = 0.0;
            for (uint k0 = 0u; k0 < pc.k; k0 += EPD_UNET_TILE_K)
              {
                for (uint q = 0u; q < 4u; q++)
                  {
                    uint e = lid + 256u * q;
                    bool k_fast = pc.a_col == 1u;
                    uint mm = k_fast ? e / EPD_UNET_TILE_K : e % EPD_UNET_TILE_M;
                    uint kk = k_fast ? e % EPD_UNET_TILE_K : e / EPD_UNET_TILE_M;
                    uint row = m0 + mm, k = k0 + kk;

                    as[kk][mm] = row < pc.m && k < pc.k ? arena[a_base + row * pc.a_row + k * pc.a_col] : 0.0;
                  }
                for (uint q = 0u; q < 4u; q++)
                  {
                    uint e = lid + 256u * q;
                    bool n_fast = pc.b_col == 1u;
                    uint nn = n_fast ? e % EPD_UNET_TILE_N : e / EPD_UNET_TILE_K;
                    uint kk = n_fast ? e / EPD_UNET_TILE_N : e % EPD_UNET_TILE_K;
                    uint col = n0 + nn, k = k0 + kk;

                    bs[kk][nn] = col < pc.n && k < pc.k ? arena[b_base + k * pc.b_row + col * pc.b_col] : 0.0;
                  }
                barrier ();
                for (uint kk = 0u; kk < EPD_UNET_TILE_K; kk++)
                  {
                    float a[4], b[4];

                    for (uint i = 0u; i < 4u; i++)
                      a[i] = as[kk][ty + 16u * i];
                    for (uint j = 0u; j < 4u; j++)
                      b[j] = bs[kk][tx + 16u * j];
                    for (uint i = 0u; i < 4u; i++)
                      for (uint j = 0u; j < 4u; j++)
                        acc[i][j] += a[i] * b[j];
                  }
                barrier ();
              }
            for (uint i = 0u; i < 4u; i++)
              {
                uint row = m0 + ty + 16u * i;

                if (row >= pc.m)
                  continue;
                for (uint j = 0u; j < 4u; j++)
                  {
                    uint col = n0 + tx + 16u * j;

                    if (col < pc.n)
                      arena[c_base + row * pc.c_row + col * pc.c_col] = pc.alpha * acc[i][j];
                  }
              }
          }
    }
}
