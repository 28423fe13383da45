/* SPDX-License-Identifier: MIT
 * epd-unet-plan.h: a diffusers UNet2DModel compiled into a flat list of ops.
 *
 * The plan is the backend-neutral description of one network: the CPU
 * executor (epd-unet-cpu.c) runs it and the Vulkan engine records the same
 * list into one command buffer. It holds no batch size: every activation is
 * a *value* with a per-sample shape [c][h][w], and a batch of N samples lays
 * a value out as one float32 array [N][c][h][w] (NCHW, C order). Vectors
 * (the timestep, the time embedding) are values with h = w = 1.
 *
 * Storage: values live in numbered *slots*. A slot holds slot_floats[s]
 * floats per sample (N * slot_floats[s] in all); several values whose
 * lifetimes do not overlap share a slot. An op never writes a slot that one
 * of its inputs (in[0], in[1], residual) lives in, so no op works in place.
 * Slots are allocated once per batch size and reused between calls.
 *
 * Inputs and output: before running, the caller writes value `input`
 * ([in_channels][height][width], the network's sample, already scaled by
 * the sigma wrapper's c_in) and value `timestep` ([1][1][1], the fractional
 * diffusers timestep as float32). After the last op, value `output`
 * ([out_channels][height][width]) holds the raw network output.
 *
 * Weights: one float32 array `weights` (PyTorch layouts, loaded from any
 * safetensors dtype); ops name theirs by offset in floats, EPD_UNET_NONE
 * when absent. Upload once per model.
 *
 * Ops, in execution order (n = sample, c = channel, p = pixel y * w + x;
 * "in" is in[0] unless said; X[n][c][p] reads value X):
 *
 * EPD_UNET_OP_CONV2D  in [ci][h][w] -> out [co][ho][wo]
 *     weight [co][ci][k][k], bias [co] (always present).
 *     ho = (h + pad_top + pad_bottom - k) / stride + 1, likewise wo with
 *     pad_left/pad_right; padded pixels are zero (pad_bottom/pad_right may
 *     differ from pad_top/pad_left: diffusers' downsample_padding = 0 is
 *     pad_top = pad_left = 0, pad_bottom = pad_right = 1).
 *     acc = bias[o] + sum_{i,ky,kx} weight[o][i][ky][kx]
 *                       * in[n][i][(y*stride + ky - pad_top)][(x*stride + kx - pad_left)]
 *     out[n][o][y][x] = alpha * (acc + residual[n][o][y][x])   when residual != NONE
 *                     = alpha * acc                              otherwise
 *     (residual has out's shape; alpha is 1 or 1/output_scale_factor.)
 *     k is 1 or 3 in diffusers UNets; stride 1 or 2.
 *
 * EPD_UNET_OP_GROUP_NORM  in [c][h][w] -> out, same shape
 *     groups G divide c; per sample and group g (channels g*c/G .. (g+1)*c/G - 1,
 *     all their pixels, m = c/G * h * w elements):
 *       mean = sum / m, var = sum (v - mean)^2 / m   (biased, as PyTorch)
 *       y = (v - mean) / sqrt(var + eps) * weight[c] + bias[c]
 *     out = silu(y) when silu is TRUE, else y. weight, bias [c].
 *
 * EPD_UNET_OP_SILU  in -> out, same shape: out = v / (1 + exp(-v)).
 *
 * EPD_UNET_OP_ADD  in[0], in[1] (same shape) -> out: out = alpha * (a + b).
 *
 * EPD_UNET_OP_CHANNEL_BIAS  in [c][h][w], in[1] a vector [cv][1][1] -> out [c][h][w]
 *     out[n][ch][p] = in[n][ch][p] + in[1][n][offset + ch]
 *     then silu if silu is TRUE. (ResnetBlock2D's "default" time embedding.)
 *
 * EPD_UNET_OP_SCALE_SHIFT  in [c][h][w], in[1] a vector [cv][1][1] -> out [c][h][w]
 *     out[n][ch][p] = in[n][ch][p] * (1 + in[1][n][offset + ch]) + in[1][n][offset + c + ch]
 *     then silu if silu is TRUE. (resnet_time_scale_shift "scale_shift":
 *     the first c entries are the scale, the next c the shift.)
 *
 * EPD_UNET_OP_CONCAT  in[0] [c0][h][w], in[1] [c1][h][w] -> out [c0 + c1][h][w]
 *     in[0]'s channels first (torch.cat([x, skip], dim=1)).
 *
 * EPD_UNET_OP_UPSAMPLE  in [c][h][w] -> out [c][2h][2w]
 *     nearest: out[n][ch][y][x] = in[n][ch][y / 2][x / 2].
 *
 * EPD_UNET_OP_LINEAR  in a vector [ci][1][1] -> out [co][1][1]
 *     out[n][o] = bias[o] + sum_i weight[o][i] * in[n][i]; weight [co][ci].
 *     (On images, a per-pixel linear layer is a 1x1 CONV2D.)
 *
 * EPD_UNET_OP_ATTENTION  in [3 * heads * head_dim][h][w] -> out [heads * head_dim][h][w]
 *     in holds q, k, v stacked on channels (q = channels 0..D-1,
 *     k = D..2D-1, v = 2D..3D-1, D = heads * head_dim), head j using
 *     channels j*head_dim .. (j+1)*head_dim - 1 of each. With P = h*w tokens:
 *       s[j][p][r] = scale * sum_d q[j*hd + d][p] * k[j*hd + d][r]     (QK^T)
 *       a[j][p][r] = exp(s - max_r s) / sum_r exp(s - max_r s)         (softmax over r)
 *       out[n][j*hd + d][p] = sum_r a[j][p][r] * v[j*hd + d][r]         (AV)
 *     scale = 1 / sqrt(head_dim). Scratch: heads * P * P floats per sample.
 *
 * EPD_UNET_OP_TIME_EMBED  in the timestep [1][1][1] -> out [dim][1][1]
 *     diffusers' get_timestep_embedding with max_period 10000: half = dim / 2,
 *       f[i] = exp(-ln(10000) * i / (half - freq_shift)),  i < half
 *       e = [sin(t f[0..half-1]), cos(t f[0..half-1])]
 *     flip_sin_to_cos swaps the halves to [cos, sin]; an odd dim gets a
 *     trailing 0. (The CPU path evaluates this in float64.)
 *
 * EPD_UNET_OP_AFFINE  in -> out, same shape: out = alpha * v + beta
 *     (center_input_sample: 2 x - 1).
 *
 * Attention in diffusers (Attention with residual_connection, group norm
 * optional) compiles to GROUP_NORM, a 1x1 CONV2D with the q, k, v weights
 * stacked, ATTENTION, and a 1x1 CONV2D (to_out.0) with the block input as
 * residual and alpha = 1 / rescale_output_factor.
 *
 * The plan is immutable once built and may be shared between threads. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EPD_UNET_NONE G_MAXUINT

typedef enum {
  EPD_UNET_OP_CONV2D,
  EPD_UNET_OP_GROUP_NORM,
  EPD_UNET_OP_SILU,
  EPD_UNET_OP_ADD,
  EPD_UNET_OP_CHANNEL_BIAS,
  EPD_UNET_OP_SCALE_SHIFT,
  EPD_UNET_OP_CONCAT,
  EPD_UNET_OP_UPSAMPLE,
  EPD_UNET_OP_LINEAR,
  EPD_UNET_OP_ATTENTION,
  EPD_UNET_OP_TIME_EMBED,
  EPD_UNET_OP_AFFINE,
} EpdUnetOpKind;

/* A per-sample shape [c][h][w] and the slot that stores it. */
typedef struct {
  guint c, h, w;
  guint slot;
} EpdUnetValue;

typedef struct {
  EpdUnetOpKind kind;
  guint    out;           /* value written */
  guint    in[2];         /* values read; in[1] is EPD_UNET_NONE unless the op reads two */
  guint    residual;      /* CONV2D: value added before alpha, or EPD_UNET_NONE */
  gsize    weight;        /* offsets into EpdUnetPlan.weights (floats), or EPD_UNET_NONE */
  gsize    bias;
  /* CONV2D */
  guint    kernel;
  guint    stride;
  guint    pad_top, pad_left, pad_bottom, pad_right;
  /* GROUP_NORM */
  guint    groups;
  float    eps;
  /* GROUP_NORM, CHANNEL_BIAS, SCALE_SHIFT: apply SiLU to the result */
  gboolean silu;
  /* CHANNEL_BIAS, SCALE_SHIFT: first channel read from in[1] */
  guint    offset;
  /* ATTENTION */
  guint    heads;
  guint    head_dim;
  float    scale;
  /* CONV2D, ADD, AFFINE */
  float    alpha;
  float    beta;          /* AFFINE */
  /* TIME_EMBED */
  gboolean flip_sin_to_cos;
  float    freq_shift;
  /* The diffusers module this op comes from, e.g. "down_blocks.1.resnets.0.conv1":
   * for messages and debugging. */
  char    *name;
} EpdUnetOp;

typedef struct _EpdUnetPlan EpdUnetPlan;

struct _EpdUnetPlan
{
  /*< private >*/
  gint          ref_count;
  /*< public, read-only >*/
  guint         in_channels;   /* 1 or 3 */
  guint         out_channels;
  guint         height;
  guint         width;
  guint         n_values;
  EpdUnetValue *values;
  guint         n_ops;
  EpdUnetOp    *ops;
  guint         n_slots;
  gsize        *slot_floats;   /* [n_slots]: floats per sample */
  gsize         n_weights;
  float        *weights;       /* [n_weights] */
  guint         input;         /* value ids */
  guint         timestep;
  guint         output;
  gsize         n_parameters;  /* the checkpoint's parameter count */
};

EpdUnetPlan *epd_unet_plan_ref   (EpdUnetPlan *self);
void         epd_unet_plan_unref (EpdUnetPlan *self);

/* Floats per sample of the largest ATTENTION scratch (heads * P * P), 0 without attention. */
gsize        epd_unet_plan_attention_scratch (const EpdUnetPlan *self);
/* Floats per sample of a value (c * h * w). */
gsize        epd_unet_value_floats (const EpdUnetValue *value);
const char  *epd_unet_op_kind_to_string (EpdUnetOpKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdUnetPlan, epd_unet_plan_unref)

G_END_DECLS
