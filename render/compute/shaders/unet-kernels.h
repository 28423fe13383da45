/* unet-kernels.h: the UNet kernels' bindings, push constants and tiles,
 * included by both the C executor (epd-vk-unet.c) and the GLSL shaders
 * (unet-*.comp; glslc defines VULKAN), so that the two cannot drift apart.
 *
 * Every UNet kernel binds the same two storage buffers: the model's weights
 * (read-only, uploaded once) and the arena that holds every activation slot
 * and the attention scratch of one pass. Offsets are in floats from the
 * start of their buffer. Push blocks hold only 32-bit scalars, so the C
 * struct and the GLSL block (std430) have the same layout. */
#ifndef UNET_KERNELS_H
#define UNET_KERNELS_H

#ifdef VULKAN
#define U32 uint
#define F32 float
#else
#include <glib.h>
#define U32 guint32
#define F32 float
#endif

#define UNET_BINDING_WEIGHTS 0
#define UNET_BINDING_ARENA   1
#define UNET_N_BINDINGS      2

/* Invocations per workgroup of every UNet kernel (a 16 x 16 or 256 x 1 group). */
#define UNET_GROUP_SIZE 256

/* Implicit-GEMM tiles (unet-conv, unet-matmul): a group computes TILE_M
 * rows x TILE_N columns, 4 x 4 per invocation, over slices of TILE_K. */
#define UNET_TILE_M 64
#define UNET_TILE_N 64
#define UNET_TILE_K 16

/* unet-conv-k1, unet-conv-k3: CONV2D (and LINEAR, a 1x1 convolution of a
 * 1x1 image) over the pass's n samples. */
#define UNET_CONV_HAS_BIAS     1u
#define UNET_CONV_HAS_RESIDUAL 2u
#define UNET_CONV_PUSH \
  U32 in_off; U32 out_off; U32 res_off; U32 weight_off; U32 bias_off; \
  U32 n; U32 ci; U32 h; U32 w; U32 co; U32 ho; U32 wo; \
  U32 stride; U32 pad_top; U32 pad_left; U32 flags; F32 alpha;

/* unet-group-norm: one group per (sample, group). */
#define UNET_NORM_PUSH \
  U32 in_off; U32 out_off; U32 weight_off; U32 bias_off; \
  U32 n; U32 c; U32 p; U32 groups; U32 silu; F32 eps;

/* unet-eltwise: shape-preserving ops over count = n * c * p floats. */
#define UNET_ELT_SILU         0u
#define UNET_ELT_ADD          1u
#define UNET_ELT_AFFINE       2u
#define UNET_ELT_CHANNEL_BIAS 3u
#define UNET_ELT_SCALE_SHIFT  4u
#define UNET_ELT_PUSH \
  U32 mode; U32 count; U32 in0_off; U32 in1_off; U32 out_off; \
  U32 c; U32 p; U32 vec_c; U32 offset; U32 silu; F32 alpha; F32 beta;

/* unet-concat: out [c0 + c1][p] from in0 [c0][p] and in1 [c1][p]. */
#define UNET_CONCAT_PUSH \
  U32 in0_off; U32 in1_off; U32 out_off; U32 n; U32 c0; U32 c1; U32 p;

/* unet-upsample: nearest x2, out [c][2h][2w] from in [c][h][w]. */
#define UNET_UPSAMPLE_PUSH \
  U32 in_off; U32 out_off; U32 n; U32 c; U32 h; U32 w;

/* unet-matmul: C[z][m][n] = alpha sum_k A[z](m, k) B[z](k, n) for the
 * batches z = outer * inner + i, operands in the arena at
 *   off + outer * s_outer + i * s_inner + row * s_row + col * s_col
 * (A: row m, col k; B: row k, col n; C: row m, col n). The attention's
 * QK^T and AV, one batch per (sample, head). */
#define UNET_MATMUL_PUSH \
  U32 m; U32 n; U32 k; U32 inner; U32 batches; \
  U32 a_off; U32 a_outer; U32 a_inner; U32 a_row; U32 a_col; \
  U32 b_off; U32 b_outer; U32 b_inner; U32 b_row; U32 b_col; \
  U32 c_off; U32 c_outer; U32 c_inner; U32 c_row; U32 c_col; F32 alpha;

/* unet-softmax: rows of len floats at off, in place. */
#define UNET_SOFTMAX_PUSH \
  U32 off; U32 rows; U32 len;

#ifndef VULKAN
typedef struct { UNET_CONV_PUSH } EpdVkUnetConvPush;
typedef struct { UNET_NORM_PUSH } EpdVkUnetNormPush;
typedef struct { UNET_ELT_PUSH } EpdVkUnetEltPush;
typedef struct { UNET_CONCAT_PUSH } EpdVkUnetConcatPush;
typedef struct { UNET_UPSAMPLE_PUSH } EpdVkUnetUpsamplePush;
typedef struct { UNET_MATMUL_PUSH } EpdVkUnetMatmulPush;
typedef struct { UNET_SOFTMAX_PUSH } EpdVkUnetSoftmaxPush;

/* Vulkan promises 128 bytes of push constants. */
G_STATIC_ASSERT (sizeof (EpdVkUnetConvPush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetNormPush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetEltPush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetConcatPush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetUpsamplePush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetMatmulPush) <= 128);
G_STATIC_ASSERT (sizeof (EpdVkUnetSoftmaxPush) <= 128);
#endif

#endif /* UNET_KERNELS_H */
