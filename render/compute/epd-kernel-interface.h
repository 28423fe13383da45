/* SPDX-License-Identifier: MIT
 *
 * epd-kernel-interface.h: the one definition of each compute kernel's
 * interface, read by the C side (epd-vk-denoiser.c) and by the GLSL kernels
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
#else
#include <glib.h>
#define EPD_PUSH_BEGIN(Name) typedef struct {
#define EPD_PUSH_END(Name) } Name;
#define EPD_UINT guint32
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

#ifndef VULKAN
/* std430 push constants of 32-bit members: packed, no padding. */
G_STATIC_ASSERT (sizeof (EpdGmmPush) == 3 * sizeof (guint32));
G_STATIC_ASSERT (sizeof (EpdEmpPush) == 5 * sizeof (guint32));
#endif

#endif /* EPD_KERNEL_INTERFACE_H */
