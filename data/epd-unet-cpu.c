/* SPDX-License-Identifier: MIT */
/* epd-unet-cpu.c: runs an EpdUnetPlan on the CPU in float32.
 *
 * Convolutions are im2col + OpenBLAS sgemm (its own threads); small images
 * gather the columns of several samples into one GEMM so its N stays wide.
 * Attention is two sgemm per head around a softmax. Group norm, SiLU and the
 * other element-wise ops are OpenMP loops whose iterations write disjoint
 * outputs (a group's sums run in one thread), so a result does not depend on
 * how the loop is split: runs repeat bit for bit for a given OpenBLAS
 * thread count. */
#include "epd-unet-private.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Columns of one GEMM when several small images share it. */
#define GEMM_COLUMNS 2048

struct _EpdUnetCpu
{
  EpdUnetPlan *plan;
  gsize        batch;      /* the workspace's batch size, 0 before the first run */
  float      **slots;      /* [n_slots][batch * slot_floats] */
  float       *cols;       /* im2col: [K][columns] */
  gsize        cols_floats;
  float       *gemm_out;   /* a batched GEMM's [co][columns] before it is scattered */
  gsize        gemm_out_floats;
  float       *scores;     /* attention: [P][P] */
};

EpdUnetCpu *
epd_unet_cpu_new (EpdUnetPlan *plan)
{
  EpdUnetCpu *self = g_new0 (EpdUnetCpu, 1);

  self->plan = epd_unet_plan_ref (plan);
  self->slots = g_new0 (float *, plan->n_slots);
  return self;
}

static void
free_workspace (EpdUnetCpu *self)
{
  for (guint s = 0; s < self->plan->n_slots; s++)
    g_clear_pointer (&self->slots[s], g_free);
  g_clear_pointer (&self->cols, g_free);
  g_clear_pointer (&self->gemm_out, g_free);
  g_clear_pointer (&self->scores, g_free);
  self->batch = 0;
}

void
epd_unet_cpu_free (EpdUnetCpu *self)
{
  if (self == NULL)
    return;
  free_workspace (self);
  g_free (self->slots);
  epd_unet_plan_unref (self->plan);
  g_free (self);
}

/* Samples whose columns share one GEMM for an output of p pixels. */
static gsize
samples_per_gemm (gsize p,
                  gsize batch)
{
  return CLAMP (GEMM_COLUMNS / MAX (p, 1), 1, batch);
}

static void
workspace_sizes (EpdUnetCpu *self,
                 gsize       batch,
                 gsize      *cols,
                 gsize      *gemm_out)
{
  const EpdUnetPlan *plan = self->plan;

  *cols = *gemm_out = 1;
  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];
      const EpdUnetValue *in = &plan->values[op->in[0]], *out = &plan->values[op->out];
      gsize p = (gsize) out->h * out->w, ns = samples_per_gemm (p, batch);

      if (op->kind != EPD_UNET_OP_CONV2D)
        continue;
      *cols = MAX (*cols, (gsize) in->c * op->kernel * op->kernel * p * ns);
      if (ns > 1)
        *gemm_out = MAX (*gemm_out, (gsize) out->c * p * ns);
    }
}

static gboolean
ensure_workspace (EpdUnetCpu  *self,
                  gsize        batch,
                  GError     **error)
{
  const EpdUnetPlan *plan = self->plan;
  gsize p = (gsize) plan->height * plan->width, scores = epd_unet_plan_attention_scratch (plan);
  gboolean ok = TRUE;

  if (self->batch >= batch)  /* a larger workspace serves smaller batches */
    return TRUE;
  free_workspace (self);
  for (guint s = 0; s < plan->n_slots && ok; s++)
    ok = (self->slots[s] = g_try_new (float, batch * plan->slot_floats[s])) != NULL;
  workspace_sizes (self, batch, &self->cols_floats, &self->gemm_out_floats);
  ok = ok && (self->cols = g_try_new (float, self->cols_floats)) != NULL;
  ok = ok && (self->gemm_out = g_try_new (float, self->gemm_out_floats)) != NULL;
  ok = ok && (self->scores = g_try_new (float, MAX (scores, p))) != NULL;
  if (!ok)
    {
      free_workspace (self);
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "UNet: not enough memory for the activations of a batch of %" G_GSIZE_FORMAT, batch);
      return FALSE;
    }
  self->batch = batch;
  return TRUE;
}

static float *
value_data (EpdUnetCpu *self,
            guint       id)
{
  return id == EPD_UNET_NONE ? NULL : self->slots[self->plan->values[id].slot];
}

static inline float
silu (float v)
{
  return v / (1.0f + expf (-v));
}

/* ---- convolution -------------------------------------------------------------- */

/* cols[(i*k + ky)*k + kx][col0 + y*wo + x] for one sample, of row stride ld. */
static void
im2col (const EpdUnetOp    *op,
        const EpdUnetValue *in,
        const EpdUnetValue *out,
        const float        *x,
        float              *cols,
        gsize               ld)
{
  guint k = op->kernel, s = op->stride, ho = out->h, wo = out->w;
  gint rows = (gint) (in->c * k * k);

#pragma omp parallel for schedule(static)
  for (gint r = 0; r < rows; r++)
    {
      guint i = r / (k * k), ky = (r / k) % k, kx = r % k;
      const float *plane = x + (gsize) i * in->h * in->w;
      float *dst = cols + (gsize) r * ld;

      for (guint y = 0; y < ho; y++)
        {
          gint sy = (gint) (y * s + ky) - (gint) op->pad_top;
          float *row = dst + (gsize) y * wo;

          if (sy < 0 || sy >= (gint) in->h)
            {
              memset (row, 0, wo * sizeof (float));
              continue;
            }
          for (guint xx = 0; xx < wo; xx++)
            {
              gint sx = (gint) (xx * s + kx) - (gint) op->pad_left;

              row[xx] = sx >= 0 && sx < (gint) in->w ? plane[(gsize) sy * in->w + sx] : 0.0f;
            }
        }
    }
}

/* out[o][p] = bias[o] (+ residual[o][p]) for one sample, before the GEMM adds to it. */
static void
conv_init (const EpdUnetOp *op,
           const float     *bias,
           const float     *res,
           guint            co,
           gsize            p,
           float           *out)
{
#pragma omp parallel for schedule(static)
  for (gint o = 0; o < (gint) co; o++)
    for (gsize j = 0; j < p; j++)
      out[o * p + j] = bias[o] + (res ? res[o * p + j] : 0.0f);
}

static void
scale_values (float *v,
              gsize  n,
              float  alpha)
{
  if (alpha == 1.0f)
    return;
#pragma omp parallel for schedule(static)
  for (gint64 j = 0; j < (gint64) n; j++)
    v[j] *= alpha;
}

static gboolean
is_pointwise (const EpdUnetOp *op)
{
  return op->kernel == 1 && op->stride == 1 && op->pad_top == 0 && op->pad_left == 0 &&
         op->pad_bottom == 0 && op->pad_right == 0;
}

/* One sample per GEMM: W [co][K] . cols [K][p] added onto out. */
static void
conv_single (EpdUnetCpu      *self,
             const EpdUnetOp *op,
             const float     *x,
             const float     *res,
             float           *y,
             gsize            batch)
{
  const EpdUnetPlan *plan = self->plan;
  const EpdUnetValue *in = &plan->values[op->in[0]], *out = &plan->values[op->out];
  const float *w = plan->weights + op->weight, *bias = plan->weights + op->bias;
  gsize p = (gsize) out->h * out->w, kk = (gsize) in->c * op->kernel * op->kernel;
  gsize in_floats = epd_unet_value_floats (in), out_floats = epd_unet_value_floats (out);

  for (gsize n = 0; n < batch; n++)
    {
      const float *cols = x + n * in_floats;
      float *dst = y + n * out_floats;

      if (!is_pointwise (op))
        {
          im2col (op, in, out, x + n * in_floats, self->cols, p);
          cols = self->cols;
        }
      conv_init (op, bias, res ? res + n * out_floats : NULL, out->c, p, dst);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out->c, (int) p, (int) kk,
                   1.0f, w, (int) kk, cols, (int) p, 1.0f, dst, (int) p);
    }
}

/* Several small samples per GEMM: their columns side by side, the result
 * [co][ns * p] scattered back to [ns][co][p]. */
static void
conv_batched (EpdUnetCpu      *self,
              const EpdUnetOp *op,
              const float     *x,
              const float     *res,
              float           *y,
              gsize            batch,
              gsize            ns)
{
  const EpdUnetPlan *plan = self->plan;
  const EpdUnetValue *in = &plan->values[op->in[0]], *out = &plan->values[op->out];
  const float *w = plan->weights + op->weight, *bias = plan->weights + op->bias;
  gsize p = (gsize) out->h * out->w, kk = (gsize) in->c * op->kernel * op->kernel;
  gsize in_floats = epd_unet_value_floats (in), out_floats = epd_unet_value_floats (out);

  for (gsize n0 = 0; n0 < batch; n0 += ns)
    {
      gsize m = MIN (ns, batch - n0), ld = m * p;

      for (gsize n = 0; n < m; n++)
        {
          if (is_pointwise (op))
            for (gsize r = 0; r < kk; r++)
              memcpy (self->cols + r * ld + n * p, x + (n0 + n) * in_floats + r * p, p * sizeof (float));
          else
            im2col (op, in, out, x + (n0 + n) * in_floats, self->cols + n * p, ld);
        }
      for (gsize o = 0; o < out->c; o++)
        for (gsize j = 0; j < ld; j++)
          self->gemm_out[o * ld + j] = bias[o];
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out->c, (int) ld, (int) kk,
                   1.0f, w, (int) kk, self->cols, (int) ld, 1.0f, self->gemm_out, (int) ld);
#pragma omp parallel for schedule(static)
      for (gint64 q = 0; q < (gint64) (m * out->c); q++)
        {
          gsize n = q / out->c, o = q % out->c;
          float *dst = y + (n0 + n) * out_floats + o * p;
          const float *src = self->gemm_out + o * ld + n * p;
          const float *r = res ? res + (n0 + n) * out_floats + o * p : NULL;

          for (gsize j = 0; j < p; j++)
            dst[j] = src[j] + (r ? r[j] : 0.0f);
        }
    }
}

static void
run_conv (EpdUnetCpu      *self,
          const EpdUnetOp *op,
          gsize            batch)
{
  const EpdUnetValue *out = &self->plan->values[op->out];
  gsize p = (gsize) out->h * out->w, ns = samples_per_gemm (p, batch);
  float *y = value_data (self, op->out);

  if (ns > 1)
    conv_batched (self, op, value_data (self, op->in[0]), value_data (self, op->residual), y, batch, ns);
  else
    conv_single (self, op, value_data (self, op->in[0]), value_data (self, op->residual), y, batch);
  scale_values (y, batch * epd_unet_value_floats (out), op->alpha);
}

/* ---- normalisation and element-wise ops ------------------------------------------- */

static void
run_group_norm (EpdUnetCpu      *self,
                const EpdUnetOp *op,
                gsize            batch)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  const float *x = value_data (self, op->in[0]), *gamma = self->plan->weights + op->weight;
  const float *beta = self->plan->weights + op->bias;
  float *y = value_data (self, op->out);
  gsize p = (gsize) v->h * v->w, cg = v->c / op->groups, m = cg * p;

#pragma omp parallel for schedule(static)
  for (gint64 q = 0; q < (gint64) (batch * op->groups); q++)
    {
      gsize n = q / op->groups, g = q % op->groups, base = (n * v->c + g * cg) * p;
      double sum = 0.0, sq = 0.0, mean, rstd;

      for (gsize j = 0; j < m; j++)
        sum += x[base + j];
      mean = sum / m;
      for (gsize j = 0; j < m; j++)
        sq += (x[base + j] - mean) * (x[base + j] - mean);
      rstd = 1.0 / sqrt (sq / m + op->eps);
      for (gsize c = 0; c < cg; c++)
        {
          gsize ch = g * cg + c;
          float a = (float) (rstd * gamma[ch]), b = (float) (beta[ch] - mean * rstd * gamma[ch]);
          const float *src = x + base + c * p;
          float *dst = y + base + c * p;

          if (op->silu)
            for (gsize j = 0; j < p; j++)
              dst[j] = silu (src[j] * a + b);
          else
            for (gsize j = 0; j < p; j++)
              dst[j] = src[j] * a + b;
        }
    }
}

/* CHANNEL_BIAS and SCALE_SHIFT: per-sample, per-channel values from a vector. */
static void
run_channel_affine (EpdUnetCpu      *self,
                    const EpdUnetOp *op,
                    gsize            batch)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]], *t = &self->plan->values[op->in[1]];
  const float *x = value_data (self, op->in[0]), *e = value_data (self, op->in[1]);
  float *y = value_data (self, op->out);
  gsize p = (gsize) v->h * v->w;
  gboolean scale_shift = op->kind == EPD_UNET_OP_SCALE_SHIFT;

#pragma omp parallel for schedule(static)
  for (gint64 q = 0; q < (gint64) (batch * v->c); q++)
    {
      gsize n = q / v->c, c = q % v->c;
      const float *row = e + n * t->c + op->offset;
      float a = scale_shift ? 1.0f + row[c] : 1.0f, b = scale_shift ? row[v->c + c] : row[c];
      const float *src = x + q * p;
      float *dst = y + q * p;

      for (gsize j = 0; j < p; j++)
        {
          float r = scale_shift ? src[j] * a + b : src[j] + b;

          dst[j] = op->silu ? silu (r) : r;
        }
    }
}

static void
run_elementwise (EpdUnetCpu      *self,
                 const EpdUnetOp *op,
                 gsize            batch)
{
  const float *x = value_data (self, op->in[0]), *x2 = value_data (self, op->in[1]);
  float *y = value_data (self, op->out);
  gint64 n = (gint64) (batch * epd_unet_value_floats (&self->plan->values[op->out]));

#pragma omp parallel for schedule(static)
  for (gint64 j = 0; j < n; j++)
    switch (op->kind)
      {
      case EPD_UNET_OP_SILU:
        y[j] = silu (x[j]);
        break;
      case EPD_UNET_OP_ADD:
        y[j] = op->alpha * (x[j] + x2[j]);
        break;
      case EPD_UNET_OP_AFFINE:
      default:
        y[j] = op->alpha * x[j] + op->beta;
        break;
      }
}

static void
run_concat (EpdUnetCpu      *self,
            const EpdUnetOp *op,
            gsize            batch)
{
  gsize a = epd_unet_value_floats (&self->plan->values[op->in[0]]);
  gsize b = epd_unet_value_floats (&self->plan->values[op->in[1]]);
  const float *x = value_data (self, op->in[0]), *x2 = value_data (self, op->in[1]);
  float *y = value_data (self, op->out);

  for (gsize n = 0; n < batch; n++)
    {
      memcpy (y + n * (a + b), x + n * a, a * sizeof (float));
      memcpy (y + n * (a + b) + a, x2 + n * b, b * sizeof (float));
    }
}

static void
run_upsample (EpdUnetCpu      *self,
              const EpdUnetOp *op,
              gsize            batch)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  const float *x = value_data (self, op->in[0]);
  float *y = value_data (self, op->out);
  guint h = v->h, w = v->w;

#pragma omp parallel for schedule(static)
  for (gint64 q = 0; q < (gint64) (batch * v->c); q++)
    for (guint yy = 0; yy < 2 * h; yy++)
      {
        const float *src = x + (gsize) q * h * w + (gsize) (yy / 2) * w;
        float *dst = y + (gsize) q * 4 * h * w + (gsize) yy * 2 * w;

        for (guint xx = 0; xx < 2 * w; xx++)
          dst[xx] = src[xx / 2];
      }
}

static void
run_linear (EpdUnetCpu      *self,
            const EpdUnetOp *op,
            gsize            batch)
{
  guint ci = self->plan->values[op->in[0]].c, co = self->plan->values[op->out].c;
  const float *bias = self->plan->weights + op->bias;
  float *y = value_data (self, op->out);

  for (gsize n = 0; n < batch; n++)
    memcpy (y + n * co, bias, co * sizeof (float));
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) batch, (int) co, (int) ci, 1.0f,
               value_data (self, op->in[0]), (int) ci, self->plan->weights + op->weight, (int) ci,
               1.0f, y, (int) co);
}

/* In float64: a float32 argument t f reaches ~1000 and would lose ~1e-4 of its phase. */
static void
run_time_embed (EpdUnetCpu      *self,
                const EpdUnetOp *op,
                gsize            batch)
{
  guint dim = self->plan->values[op->out].c, half = dim / 2;
  const float *t = value_data (self, op->in[0]);
  float *y = value_data (self, op->out);

  for (gsize n = 0; n < batch; n++)
    {
      float *row = y + n * dim;

      for (guint i = 0; i < half; i++)
        {
          double f = exp (-log (10000.0) * i / (half - (double) op->freq_shift)), a = t[n] * f;

          row[op->flip_sin_to_cos ? half + i : i] = (float) sin (a);
          row[op->flip_sin_to_cos ? i : half + i] = (float) cos (a);
        }
      if (dim % 2)
        row[dim - 1] = 0.0f;
    }
}

static void
softmax_rows (float *s,
              gsize  rows,
              gsize  cols)
{
#pragma omp parallel for schedule(static)
  for (gint64 r = 0; r < (gint64) rows; r++)
    {
      float *row = s + r * cols, max = -INFINITY;
      double sum = 0.0;
      float inv;

      for (gsize j = 0; j < cols; j++)
        max = MAX (max, row[j]);
      for (gsize j = 0; j < cols; j++)
        sum += row[j] = expf (row[j] - max);
      inv = (float) (1.0 / sum);
      for (gsize j = 0; j < cols; j++)
        row[j] *= inv;
    }
}

static void
run_attention (EpdUnetCpu      *self,
               const EpdUnetOp *op,
               gsize            batch)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  const float *qkv = value_data (self, op->in[0]);
  float *y = value_data (self, op->out);
  gsize p = (gsize) v->h * v->w, d = op->head_dim, inner = (gsize) op->heads * d;

  for (gsize n = 0; n < batch; n++)
    for (gsize j = 0; j < op->heads; j++)
      {
        const float *q = qkv + n * 3 * inner * p + j * d * p;
        const float *k = q + inner * p, *vv = q + 2 * inner * p;
        float *o = y + n * inner * p + j * d * p;

        /* s[p][r] = scale q[:, p] . k[:, r];  o[:, p] = sum_r v[:, r] a[p][r] */
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) p, (int) p, (int) d, op->scale,
                     q, (int) p, k, (int) p, 0.0f, self->scores, (int) p);
        softmax_rows (self->scores, p, p);
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) d, (int) p, (int) p, 1.0f,
                     vv, (int) p, self->scores, (int) p, 0.0f, o, (int) p);
      }
}

/* ---- the run ---------------------------------------------------------------------- */

static void
run_op (EpdUnetCpu      *self,
        const EpdUnetOp *op,
        gsize            batch)
{
  switch (op->kind)
    {
    case EPD_UNET_OP_CONV2D:
      run_conv (self, op, batch);
      break;
    case EPD_UNET_OP_GROUP_NORM:
      run_group_norm (self, op, batch);
      break;
    case EPD_UNET_OP_CHANNEL_BIAS:
    case EPD_UNET_OP_SCALE_SHIFT:
      run_channel_affine (self, op, batch);
      break;
    case EPD_UNET_OP_CONCAT:
      run_concat (self, op, batch);
      break;
    case EPD_UNET_OP_UPSAMPLE:
      run_upsample (self, op, batch);
      break;
    case EPD_UNET_OP_LINEAR:
      run_linear (self, op, batch);
      break;
    case EPD_UNET_OP_ATTENTION:
      run_attention (self, op, batch);
      break;
    case EPD_UNET_OP_TIME_EMBED:
      run_time_embed (self, op, batch);
      break;
    case EPD_UNET_OP_SILU:
    case EPD_UNET_OP_ADD:
    case EPD_UNET_OP_AFFINE:
    default:
      run_elementwise (self, op, batch);
      break;
    }
}

gboolean
epd_unet_cpu_run (EpdUnetCpu  *self,
                  gsize        batch,
                  const float *input,
                  const float *timesteps,
                  float       *output,
                  GError     **error)
{
  const EpdUnetPlan *plan = self->plan;

  if (!ensure_workspace (self, batch, error))
    return FALSE;
  memcpy (value_data (self, plan->input), input,
          batch * epd_unet_value_floats (&plan->values[plan->input]) * sizeof (float));
  memcpy (value_data (self, plan->timestep), timesteps, batch * sizeof (float));
  for (guint i = 0; i < plan->n_ops; i++)
    run_op (self, &plan->ops[i], batch);
  memcpy (output, value_data (self, plan->output),
          batch * epd_unet_value_floats (&plan->values[plan->output]) * sizeof (float));
  return TRUE;
}
