/* SPDX-License-Identifier: MIT */
#version 450
/* Exact posterior mean of an isotropic Gaussian mixture, one workgroup per row:
 *   lr_k = log w_k - (|x - mu_k|^2 / v_k + dim log v_k) / 2,  v_k = std_k^2 + sigma^2
 *   D = sum_k softmax(lr)_k (mu_k + std_k^2 / v_k (x - mu_k)).
 * The softmax subtracts the row maximum; rows past the grid loop around. */
#extension GL_GOOGLE_include_directive : require
layout (local_size_x = 64) in;

#define EPD_KERNEL_GMM
#include "epd-kernel-interface.h"

layout (std430, binding = EPD_GMM_X) readonly buffer X { float x[]; };
layout (std430, binding = EPD_GMM_SIGMA) readonly buffer Sigma { float sigma[]; };
layout (std430, binding = EPD_GMM_LOG_WEIGHT) readonly buffer LogWeight { float log_weight[]; };
layout (std430, binding = EPD_GMM_MEANS) readonly buffer Means { float means[]; };
layout (std430, binding = EPD_GMM_VAR) readonly buffer Var { float var0[]; };
layout (std430, binding = EPD_GMM_SCRATCH) buffer Scratch { float scratch[]; }; /* [groups][k] */
layout (std430, binding = EPD_GMM_OUT) writeonly buffer Out { float result[]; };


shared float partial[64];

float
reduce (float v, bool is_max)
{
  uint t = gl_LocalInvocationID.x;

  partial[t] = v;
  barrier ();
  for (uint s = 32u; s > 0u; s >>= 1)
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
  uint base = gl_WorkGroupID.x * pc.k;

  for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x)
    {
      float s2 = sigma[row] * sigma[row];
      float m = -3.0e38;
      float z = 0.0;

      for (uint c = t; c < pc.k; c += 64u)
        {
          float v = var0[c] + s2;
          float q = 0.0;
          for (uint j = 0u; j < pc.dim; j++)
            {
              float e = x[row * pc.dim + j] - means[c * pc.dim + j];
              q += e * e;
            }
          float lr = log_weight[c] - 0.5 * (q / v + float (pc.dim) * log (v));
          scratch[base + c] = lr;
          m = max (m, lr);
        }
      m = reduce (m, true);
      for (uint c = t; c < pc.k; c += 64u)
        {
          float e = exp (scratch[base + c] - m);
          scratch[base + c] = e;
          z += e;
        }
      z = reduce (z, false);
      memoryBarrierBuffer ();
      barrier ();
      for (uint j = t; j < pc.dim; j += 64u)
        {
          float xj = x[row * pc.dim + j];
          float acc = 0.0;
          for (uint c = 0u; c < pc.k; c++)
            {
              float mu = means[c * pc.dim + j];
              acc += scratch[base + c] * (mu + var0[c] / (var0[c] + s2) * (xj - mu));
            }
          result[row * pc.dim + j] = acc / z;
        }
      /* The next row reuses this group's scratch. */
      memoryBarrierBuffer ();
      barrier ();
    }
}
