/* SPDX-License-Identifier: MIT
 *
 * epd-kernel-interface.h: the one definition of each compute kernel's
 * interface, read by the C side (epd-vk-denoiser.c, epd-vk-unet.c) and by the GLSL kernels
 * in shaders/ (through glslc's include path): binding numbers, the
 * number of bindings, and the push-constant blocks. GLSL compiled for Vulkan
 * defines VULKAN; C does not. A shader has one push-constant block: it
 * defines EPD_KERNEL_GMM or EPD_KERNEL_EMP before including this header. */
#ifndef EPD_KERNEL_INTERFACE_H
#define EPD_KERNEL_INTERFACE_H

#ifdef VULKAN
#define EPD_PUSH_BEGIN(Name) layout (push_constant) uniform Name {
#define EPD_PUSH_END(Name) } pc;
#define EPD_UINT uint
#define EPD_FLOAT float
#else
#include <glib.h>
#define EPD_PUSH_BEGIN(Name) typedef struct {
#define EPD_PUSH_END(Name) } Name;
#define EPD_UINT guint32
#define EPD_FLOAT float
#endif

/* gmm-denoise: exact posterior mean of an isotropic Gaussian mixture. */
#define EPD_GMM_X            0   /* [rows][dim] */
#define EPD_GMM_SIGMA        1   /* [rows] */
#define EPD_GMM_LOG_WEIGHT   2   /* [k] */
#define EPD_GMM_MEANS        3   /* [k][dim] */
#define EPD_GMM_VAR          4   /* [k], std^2 */
#define EPD_GMM_SCRATCH      5   /* [groups][k] */
#define EPD_GMM_OUT          6   /* [rows][dim] */
#define EPD_GMM_N_BINDINGS   7

#if !defined (VULKAN) || defined (EPD_KERNEL_GMM)
EPD_PUSH_BEGIN (EpdGmmPush)
  EPD_UINT rows;
  EPD_UINT k;
  EPD_UINT dim;
EPD_PUSH_END (EpdGmmPush)
#endif

/* emp-*: the empirical denoiser in four kernels. Rows row0 .. row0 + rows - 1
 * of the call are one pass; the scratch buffers (logits, row sums, partial
 * sums) are indexed from 0 within it. */
#if !defined (VULKAN) || defined (EPD_KERNEL_EMP)
EPD_PUSH_BEGIN (EpdEmpPush)
  EPD_UINT row0;
  EPD_UINT rows;
  EPD_UINT n;        /* training images */
  EPD_UINT dim;
  EPD_UINT chunk;    /* images per partial sum of the weighted sum */
EPD_PUSH_END (EpdEmpPush)
#endif

/* emp-logits: logits[r][i] = (x_r . y_i - |y_i|^2 / 2) / sigma_r^2 */
#define EPD_EMP_LOGITS_X          0
#define EPD_EMP_LOGITS_Y          1
#define EPD_EMP_LOGITS_HALF_NORM  2
#define EPD_EMP_LOGITS_INV_VAR    3
#define EPD_EMP_LOGITS_OUT        4
#define EPD_EMP_LOGITS_N_BINDINGS 5

/* emp-softmax: logits become weights in place; their row sums. */
#define EPD_EMP_SOFTMAX_LOGITS     0
#define EPD_EMP_SOFTMAX_ROW_SUM    1
#define EPD_EMP_SOFTMAX_N_BINDINGS 2

/* emp-weighted: partial weighted sums of the images, per chunk. */
#define EPD_EMP_WEIGHTED_WEIGHTS    0
#define EPD_EMP_WEIGHTED_Y          1
#define EPD_EMP_WEIGHTED_PARTIAL    2
#define EPD_EMP_WEIGHTED_N_BINDINGS 3

/* emp-reduce: the chunks' sums, divided by the row sums. */
#define EPD_EMP_REDUCE_PARTIAL    0
#define EPD_EMP_REDUCE_ROW_SUM    1
#define EPD_EMP_REDUCE_OUT        2
#define EPD_EMP_REDUCE_N_BINDINGS 3

/* unet-*: the UNet kernels (epd-vk-unet.c). Each binds the same two buffers:
 * the model's weights (read-only, uploaded once) and the arena holding every
 * activation slot and the attention scratch of one pass. Offsets and counts
 * are in floats from the start of their buffer. */
#define EPD_UNET_WEIGHTS    0
#define EPD_UNET_ARENA      1
#define EPD_UNET_N_BINDINGS 2

/* Invocations per workgroup of every UNet kernel (256 x 1 or 16 x 16). */
#define EPD_UNET_GROUP_SIZE 256
/* Implicit-GEMM tiles (unet-conv-k*, unet-matmul): a group computes TILE_M
 * rows x TILE_N columns, 4 x 4 per invocation, over slices of TILE_K. */
#define EPD_UNET_TILE_M 64
#define EPD_UNET_TILE_N 64
#define EPD_UNET_TILE_K 16

/* unet-conv-k1, unet-conv-k3: CONV2D (and LINEAR, a 1x1 convolution of a
 * 1x1 image) over the pass's n samples. */
#define EPD_UNET_CONV_HAS_BIAS     1u
#define EPD_UNET_CONV_HAS_RESIDUAL 2u
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_CONV)
EPD_PUSH_BEGIN (EpdVkUnetConvPush)
  EPD_UINT in_off;
  EPD_UINT out_off;
  EPD_UINT res_off;
  EPD_UINT weight_off;
  EPD_UINT bias_off;
  EPD_UINT n;
  EPD_UINT ci;
  EPD_UINT h;
  EPD_UINT w;
  EPD_UINT co;
  EPD_UINT ho;
  EPD_UINT wo;
  EPD_UINT stride;
  EPD_UINT pad_top;
  EPD_UINT pad_left;
  EPD_UINT flags;     /* EPD_UNET_CONV_HAS_* */
  EPD_FLOAT alpha;
EPD_PUSH_END (EpdVkUnetConvPush)
#endif

/* unet-group-norm: one group per (sample, group). */
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_NORM)
EPD_PUSH_BEGIN (EpdVkUnetNormPush)
  EPD_UINT in_off;
  EPD_UINT out_off;
  EPD_UINT weight_off;
  EPD_UINT bias_off;
  EPD_UINT n;
  EPD_UINT c;
  EPD_UINT p;
  EPD_UINT groups;
  EPD_UINT silu;
  EPD_FLOAT eps;
EPD_PUSH_END (EpdVkUnetNormPush)
#endif

/* unet-eltwise: shape-preserving ops over count = n * c * p floats; the
 * vector modes read in1 as [n][vec_c] from offset. */
#define EPD_UNET_ELT_SILU         0u
#define EPD_UNET_ELT_ADD          1u
#define EPD_UNET_ELT_AFFINE       2u
#define EPD_UNET_ELT_CHANNEL_BIAS 3u
#define EPD_UNET_ELT_SCALE_SHIFT  4u
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_ELT)
EPD_PUSH_BEGIN (EpdVkUnetEltPush)
  EPD_UINT mode;      /* EPD_UNET_ELT_* */
  EPD_UINT count;
  EPD_UINT in0_off;
  EPD_UINT in1_off;
  EPD_UINT out_off;
  EPD_UINT c;
  EPD_UINT p;
  EPD_UINT vec_c;
  EPD_UINT offset;
  EPD_UINT silu;
  EPD_FLOAT alpha;
  EPD_FLOAT beta;
EPD_PUSH_END (EpdVkUnetEltPush)
#endif

/* unet-concat: out [c0 + c1][p] from in0 [c0][p] and in1 [c1][p]. */
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_CONCAT)
EPD_PUSH_BEGIN (EpdVkUnetConcatPush)
  EPD_UINT in0_off;
  EPD_UINT in1_off;
  EPD_UINT out_off;
  EPD_UINT n;
  EPD_UINT c0;
  EPD_UINT c1;
  EPD_UINT p;
EPD_PUSH_END (EpdVkUnetConcatPush)
#endif

/* unet-upsample: nearest x2, out [c][2h][2w] from in [c][h][w]. */
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_UPSAMPLE)
EPD_PUSH_BEGIN (EpdVkUnetUpsamplePush)
  EPD_UINT in_off;
  EPD_UINT out_off;
  EPD_UINT n;
  EPD_UINT c;
  EPD_UINT h;
  EPD_UINT w;
EPD_PUSH_END (EpdVkUnetUpsamplePush)
#endif

/* unet-matmul: C[z][m][n] = alpha sum_k A[z](m, k) B[z](k, n) for batches
 * z = outer * inner + i, each operand in the arena at
 *   off + outer * s_outer + i * s_inner + row * s_row + col * s_col
 * (A: row m, col k; B: row k, col n; C: row m, col n): the attention's QK^T
 * and AV, one batch per (sample, head). */
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_MATMUL)
EPD_PUSH_BEGIN (EpdVkUnetMatmulPush)
  EPD_UINT m;
  EPD_UINT n;
  EPD_UINT k;
  EPD_UINT inner;
  EPD_UINT batches;
  EPD_UINT a_off;
  EPD_UINT a_outer;
  EPD_UINT a_inner;
  EPD_UINT a_row;
  EPD_UINT a_col;
  EPD_UINT b_off;
  EPD_UINT b_outer;
  EPD_UINT b_inner;
  EPD_UINT b_row;
  EPD_UINT b_col;
  EPD_UINT c_off;
  EPD_UINT c_outer;
  EPD_UINT c_inner;
  EPD_UINT c_row;
  EPD_UINT c_col;
  EPD_FLOAT alpha;
EPD_PUSH_END (EpdVkUnetMatmulPush)
#endif

/* unet-softmax: rows of len floats at off, in place. */
#if !defined (VULKAN) || defined (EPD_KERNEL_UNET_SOFTMAX)
EPD_PUSH_BEGIN (EpdVkUnetSoftmaxPush)
  EPD_UINT off;
  EPD_UINT rows;
  EPD_UINT len;
EPD_PUSH_END (EpdVkUnetSoftmaxPush)
#endif

#ifndef VULKAN
/* std430 push constants of 32-bit members: packed, no padding. */
G_STATIC_ASSERT (sizeof (EpdGmmPush) == 3 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdEmpPush) == 5 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetConvPush) == 17 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetNormPush) == 10 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetEltPush) == 12 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetConcatPush) == 7 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetUpsamplePush) == 6 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetMatmulPush) == 21 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdVkUnetSoftmaxPush) == 3 * sizeof (guint32));
/* Vulkan promises 128 bytes of push constants. */
G_STATIC_ASSERT (sizeof (EpdVkUnetMatmulPush) <= 128);
#endif

#endif /* EPD_KERNEL_INTERFACE_H */
