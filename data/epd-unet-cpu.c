/* SPDX-License-Identifier: MIT
 * epd-unet-cpu.c: runs an EpdUnetPlan on the CPU in float32.
 *
 * Convolutions are im2col + OpenBLAS sgemm (its own threads); small images
 * gather the columns of several samples into one GEMM so its N stays wide.
 * Attention is two sgemm per head around a softmax. Group norm, SiLU, im2col
 * and the other element-wise loops are split between as many threads as
 * OpenBLAS uses (a pool of blocked, not spinning, workers: OpenMP's spinning
 * waits made a loaded 2-core machine 80x slower). Every loop iteration
 * writes its own outputs (a group's sums run in one thread), so results do
 * not depend on the split: runs repeat bit for bit for a given thread count. */
#include "epd-unet-private.h"
#include "epd-unet.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Columns of one GEMM when several small images share it: measured best
 * (CPU time) among 256 to 16384 for the CIFAR-10 and Fashion networks, the
 * column buffer staying in cache. */
#define GEMM_COLUMNS 512
/* Loops over fewer floats than this run on the calling thread alone. */
#define PARALLEL_MIN_WORK 16384
#define MAX_THREADS 16

/* ---- a parallel for over a blocked thread pool ---------------------------- */

typedef void (*RangeFunc) (gpointer data, gsize begin, gsize end);

typedef struct {
  GMutex lock;
  GCond  done;
  guint  pending;
} Team;

typedef struct {
  RangeFunc func;
  gpointer  data;
  gsize     begin, end;
  Team     *team;
} Chunk;

static GThreadPool *pool;
static guint        pool_threads = 1;
static GPrivate     serial_thread;
static GOnce        pool_once = G_ONCE_INIT;

static void
run_chunk (gpointer item,
           gpointer user_data)
{
  Chunk *c = item;

  c->func (c->data, c->begin, c->end);
  g_mutex_lock (&c->team->lock);
  if (--c->team->pending == 0)
    g_cond_signal (&c->team->done);
  g_mutex_unlock (&c->team->lock);
}

/* As many threads as OpenBLAS runs (OPENBLAS_NUM_THREADS, else the cores). */
static gpointer
create_pool (gpointer unused)
{
  pool_threads = CLAMP (openblas_get_num_threads (), 1, MAX_THREADS);
  if (pool_threads > 1)
    pool = g_thread_pool_new (run_chunk, NULL, (int) pool_threads - 1, TRUE, NULL);
  if (pool == NULL)
    pool_threads = 1;
  return NULL;
}

/* func over [0, n) in contiguous chunks, one per thread, the caller's among
 * them; work (floats touched) below PARALLEL_MIN_WORK stays on the caller. */
static void
parallel_for (gsize      n,
              gsize      work,
              RangeFunc  func,
              gpointer   data)
{
  Chunk chunks[MAX_THREADS];
  Team team;
  guint t;

  g_once (&pool_once, create_pool, NULL);
  t = g_private_get (&serial_thread) != NULL ? 1 : (guint) MIN (pool_threads, n);
  if (t <= 1 || work < PARALLEL_MIN_WORK)
    {
      func (data, 0, n);
      return;
    }
  g_mutex_init (&team.lock);
  g_cond_init (&team.done);
  team.pending = t - 1;
  for (guint i = 0; i < t; i++)
    chunks[i] = (Chunk) { func, data, n * i / t, n * (i + 1) / t, &team };
  for (guint i = 1; i < t; i++)
    g_thread_pool_push (pool, &chunks[i], NULL);
  func (data, chunks[0].begin, chunks[0].end);
  g_mutex_lock (&team.lock);
  while (team.pending > 0)
    g_cond_wait (&team.done, &team.lock);
  g_mutex_unlock (&team.lock);
  g_mutex_clear (&team.lock);
  g_cond_clear (&team.done);
}

guint
epd_unet_cpu_threads (void)
{
  g_once (&pool_once, create_pool, NULL);
  return pool_threads;
}

void
epd_unet_cpu_serial_begin (void)
{
  g_private_set (&serial_thread, GINT_TO_POINTER (1));
}

void
epd_unet_cpu_serial_end (void)
{
  g_private_set (&serial_thread, NULL);
}

/* What a loop body needs; each loop uses the fields it names. */
typedef struct {
  const EpdUnetPlan  *plan;
  const EpdUnetOp    *op;
  const EpdUnetValue *in;
  const EpdUnetValue *out;
  const float        *x;
  const float        *x2;
  const float        *res;
  const float        *bias;
  float              *y;
  gsize               p;
  gsize               ld;
  gsize               n0;
  float               alpha;
} Loop;

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

GArray *
epd_unet_cpu_gemms (const EpdUnetPlan *plan,
                    gsize              batch)
{
  GArray *gemms = g_array_new (FALSE, FALSE, sizeof (EpdUnetGemm));

  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];
      const EpdUnetValue *in = &plan->values[op->in[0]], *out = &plan->values[op->out];
      gsize p = (gsize) out->h * out->w, ns = samples_per_gemm (p, batch), hd = op->head_dim;
      gsize tokens = (gsize) in->h * in->w;
      EpdUnetGemm g = { 0 };

      switch (op->kind)
        {
        case EPD_UNET_OP_CONV2D:
          /* full chunks of ns samples, then the rest */
          g = (EpdUnetGemm) { out->c, ns * p, (gsize) in->c * op->kernel * op->kernel, batch / ns };
          if (g.count > 0)
            g_array_append_val (gemms, g);
          g.n = batch % ns * p;
          g.count = g.n > 0 ? 1 : 0;
          break;
        case EPD_UNET_OP_LINEAR:
          g = (EpdUnetGemm) { batch, out->c, in->c, 1 };
          break;
        case EPD_UNET_OP_ATTENTION:
          g = (EpdUnetGemm) { tokens, tokens, hd, batch * op->heads };
          g_array_append_val (gemms, g);
          g = (EpdUnetGemm) { hd, tokens, tokens, batch * op->heads };
          break;
        default:
          break;
        }
      if (g.count > 0)
        g_array_append_val (gemms, g);
    }
  return gemms;
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

/* exp(x) for the SiLU, written so the compiler vectorises it: 2^n p(r) with
 * x = n ln2 + r, |r| <= ln2/2, p a degree-6 Taylor polynomial (relative error
 * below 3e-7 where it is not clamped); libm's expf is a call per element.
 * Inputs below -87 give ~1e-38 and above 88 are clamped, where silu is v or 0
 * to float precision anyway. */
static inline float
fast_exp (float x)
{
  float n, r, p;
  gint32 e;
  union { guint32 i; float f; } bits;

  x = CLAMP (x, -87.0f, 88.0f);
  n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;  /* round to nearest: 1.5 * 2^23 */
  r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
  p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  e = (gint32) n + 127;
  bits.i = (guint32) e << 23;
  return p * bits.f;
}

static inline float
silu (float v)
{
  return v / (1.0f + fast_exp (-v));
}

/* dst = silu? (src a + b): the inner loop of group norm, time-embedding
 * bias and scale-shift (restrict, so it vectorises without alias checks). */
static void
affine_row (float *restrict       dst,
            const float *restrict src,
            gsize                 p,
            float                 a,
            float                 b,
            gboolean              with_silu)
{
  if (with_silu)
    for (gsize j = 0; j < p; j++)
      dst[j] = silu (src[j] * a + b);
  else
    for (gsize j = 0; j < p; j++)
      dst[j] = src[j] * a + b;
}

/* ---- convolution -------------------------------------------------------------- */

/* dst[x] = src[x + shift] where that lies in [0, w), else 0: one im2col row at stride 1. */
static inline void
copy_shifted_row (const float *restrict src,
                  guint                 w,
                  gint                  shift,
                  float *restrict       dst,
                  guint                 wo)
{
  gint lo = CLAMP (-shift, 0, (gint) wo), hi = CLAMP ((gint) w - shift, lo, (gint) wo);

  /* rows are a few dozen floats, the edges a pixel or two: inline loops
   * (built with -fno-tree-loop-distribute-patterns), not libc calls */
  for (gint x = 0; x < lo; x++)
    dst[x] = 0.0f;
  for (gint x = lo; x < hi; x++)
    dst[x] = src[x + shift];
  for (gint x = hi; x < (gint) wo; x++)
    dst[x] = 0.0f;
}

/* cols[(i*k + ky)*k + kx][y*wo + x] (rows of stride ld) for one sample x. */
static void
im2col_rows (gpointer data,
             gsize    begin,
             gsize    end)
{
  const Loop *l = data;
  const EpdUnetOp *op = l->op;
  const EpdUnetValue *in = l->in;
  guint k = op->kernel, s = op->stride, ho = l->out->h, wo = l->out->w;

  for (gsize r = begin; r < end; r++)
    {
      guint i = r / (k * k), ky = (r / k) % k, kx = r % k;
      const float *plane = l->x + (gsize) i * in->h * in->w;
      float *dst = l->y + r * l->ld;

      for (guint y = 0; y < ho; y++)
        {
          gint sy = (gint) (y * s + ky) - (gint) op->pad_top;
          float *row = dst + (gsize) y * wo;

          if (sy < 0 || sy >= (gint) in->h)
            {
              memset (row, 0, wo * sizeof (float));
              continue;
            }
          if (s == 1)
            copy_shifted_row (plane + (gsize) sy * in->w, in->w, (gint) kx - (gint) op->pad_left, row, wo);
          else
            for (guint xx = 0; xx < wo; xx++)
              {
                gint sx = (gint) (xx * s + kx) - (gint) op->pad_left;

                row[xx] = sx >= 0 && sx < (gint) in->w ? plane[(gsize) sy * in->w + sx] : 0.0f;
              }
        }
    }
}

static void
im2col (const Loop *base,
        const float *x,
        float       *cols,
        gsize        ld)
{
  Loop l = *base;
  gsize rows = (gsize) l.in->c * l.op->kernel * l.op->kernel;

  l.x = x;
  l.y = cols;
  l.ld = ld;
  parallel_for (rows, rows * l.out->h * l.out->w, im2col_rows, &l);
}

/* y[o][j] = bias[o] (+ res[o][j]) over [o][p] rows of stride ld, before the GEMM adds to it. */
static void
init_rows (gpointer data,
           gsize    begin,
           gsize    end)
{
  const Loop *l = data;

  for (gsize o = begin; o < end; o++)
    for (gsize j = 0; j < l->p; j++)
      l->y[o * l->ld + j] = l->bias[o] + (l->res ? l->res[o * l->p + j] : 0.0f);
}

static void
scale_range (gpointer data,
             gsize    begin,
             gsize    end)
{
  const Loop *l = data;

  for (gsize j = begin; j < end; j++)
    l->y[j] *= l->alpha;
}

static gboolean
is_pointwise (const EpdUnetOp *op)
{
  return op->kernel == 1 && op->stride == 1 && op->pad_top == 0 && op->pad_left == 0 &&
         op->pad_bottom == 0 && op->pad_right == 0;
}

/* One sample per GEMM: W [co][K] . cols [K][p] added onto out. */
static void
conv_single (EpdUnetCpu *self,
             Loop       *l,
             gsize       batch)
{
  const EpdUnetOp *op = l->op;
  const float *w = l->plan->weights + op->weight, *x = l->x, *res = l->res;
  gsize p = l->p, kk = (gsize) l->in->c * op->kernel * op->kernel, co = l->out->c;
  gsize in_floats = epd_unet_value_floats (l->in), out_floats = epd_unet_value_floats (l->out);
  float *y = l->y;

  for (gsize n = 0; n < batch; n++)
    {
      const float *cols = x + n * in_floats;

      if (!is_pointwise (op))
        {
          im2col (l, x + n * in_floats, self->cols, p);
          cols = self->cols;
        }
      l->y = y + n * out_floats;
      l->res = res ? res + n * out_floats : NULL;
      l->ld = p;
      parallel_for (co, co * p, init_rows, l);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) co, (int) p, (int) kk,
                   1.0f, w, (int) kk, cols, (int) p, 1.0f, l->y, (int) p);
    }
  l->y = y;
  l->res = res;
}

/* gemm_out [co][m * p] -> y[n0 + n][co][p] (+ res): rows q = n * co + o. */
static void
scatter_rows (gpointer data,
              gsize    begin,
              gsize    end)
{
  const Loop *l = data;
  gsize co = l->out->c, out_floats = epd_unet_value_floats (l->out);

  for (gsize q = begin; q < end; q++)
    {
      gsize n = q / co, o = q % co;
      float *dst = l->y + (l->n0 + n) * out_floats + o * l->p;
      const float *src = l->x2 + o * l->ld + n * l->p;
      const float *r = l->res ? l->res + (l->n0 + n) * out_floats + o * l->p : NULL;

      for (gsize j = 0; j < l->p; j++)
        dst[j] = src[j] + (r ? r[j] : 0.0f);
    }
}

/* Several small samples per GEMM: their columns side by side, the result
 * [co][ns * p] scattered back to [ns][co][p]. */
static void
conv_batched (EpdUnetCpu *self,
              Loop       *l,
              gsize       batch,
              gsize       ns)
{
  const EpdUnetOp *op = l->op;
  const float *w = l->plan->weights + op->weight;
  gsize p = l->p, kk = (gsize) l->in->c * op->kernel * op->kernel, co = l->out->c;
  gsize in_floats = epd_unet_value_floats (l->in);

  for (gsize n0 = 0; n0 < batch; n0 += ns)
    {
      gsize m = MIN (ns, batch - n0), ld = m * p;
      Loop init = *l;

      for (gsize n = 0; n < m; n++)
        {
          if (is_pointwise (op))
            for (gsize r = 0; r < kk; r++)
              memcpy (self->cols + r * ld + n * p, l->x + (n0 + n) * in_floats + r * p, p * sizeof (float));
          else
            im2col (l, l->x + (n0 + n) * in_floats, self->cols + n * p, ld);
        }
      init.y = self->gemm_out;
      init.res = NULL;
      init.p = ld;
      init.ld = ld;
      parallel_for (co, co * ld, init_rows, &init);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) co, (int) ld, (int) kk,
                   1.0f, w, (int) kk, self->cols, (int) ld, 1.0f, self->gemm_out, (int) ld);
      l->x2 = self->gemm_out;
      l->ld = ld;
      l->n0 = n0;
      parallel_for (m * co, m * co * p, scatter_rows, l);
    }
}

static Loop
loop_for (EpdUnetCpu      *self,
          const EpdUnetOp *op)
{
  const EpdUnetPlan *plan = self->plan;
  Loop l = { .plan = plan, .op = op, .in = &plan->values[op->in[0]], .out = &plan->values[op->out] };

  l.x = value_data (self, op->in[0]);
  l.x2 = value_data (self, op->in[1]);
  l.res = value_data (self, op->residual);
  l.y = value_data (self, op->out);
  l.bias = op->bias == EPD_UNET_NONE ? NULL : plan->weights + op->bias;
  l.p = (gsize) l.out->h * l.out->w;
  l.alpha = op->alpha;
  return l;
}

static void
run_conv (EpdUnetCpu      *self,
          const EpdUnetOp *op,
          gsize            batch)
{
  Loop l = loop_for (self, op);
  gsize ns = samples_per_gemm (l.p, batch), n = batch * epd_unet_value_floats (l.out);

  if (ns > 1)
    conv_batched (self, &l, batch, ns);
  else
    conv_single (self, &l, batch);
  if (op->alpha != 1.0f)
    parallel_for (n, n, scale_range, &l);
}

/* ---- normalisation and element-wise ops ------------------------------------------- */

/* Group norm's sums in float64, in 8 interleaved partial sums the compiler
 * can vectorise (a fixed order, so a fixed result). */
static double
sum_floats (const float *x,
            gsize        m)
{
  double acc[8] = { 0 }, total = 0.0;
  gsize j = 0;

  for (; j + 8 <= m; j += 8)
    for (guint k = 0; k < 8; k++)
      acc[k] += x[j + k];
  for (; j < m; j++)
    acc[0] += x[j];
  for (guint k = 0; k < 8; k++)
    total += acc[k];
  return total;
}

static double
sum_squared_deviations (const float *x,
                        gsize        m,
                        double       mean)
{
  double acc[8] = { 0 }, total = 0.0;
  gsize j = 0;

  for (; j + 8 <= m; j += 8)
    for (guint k = 0; k < 8; k++)
      acc[k] += (x[j + k] - mean) * (x[j + k] - mean);
  for (; j < m; j++)
    acc[0] += (x[j] - mean) * (x[j] - mean);
  for (guint k = 0; k < 8; k++)
    total += acc[k];
  return total;
}

/* Rows q = n * groups + g. */
static void
group_norm_rows (gpointer data,
                 gsize    begin,
                 gsize    end)
{
  const Loop *l = data;
  const EpdUnetOp *op = l->op;
  const float *gamma = l->plan->weights + op->weight, *beta = l->bias, *x = l->x;
  gsize p = l->p, c = l->in->c, cg = c / op->groups, m = cg * p;

  for (gsize q = begin; q < end; q++)
    {
      gsize n = q / op->groups, g = q % op->groups, base = (n * c + g * cg) * p;
      double mean = sum_floats (x + base, m) / m;
      double rstd = 1.0 / sqrt (sum_squared_deviations (x + base, m, mean) / m + op->eps);

      for (gsize ci = 0; ci < cg; ci++)
        {
          gsize ch = g * cg + ci;
          float a = (float) (rstd * gamma[ch]), b = (float) (beta[ch] - mean * rstd * gamma[ch]);
          affine_row (l->y + base + ci * p, x + base + ci * p, p, a, b, op->silu);
        }
    }
}

static void
run_group_norm (EpdUnetCpu      *self,
                const EpdUnetOp *op,
                gsize            batch)
{
  Loop l = loop_for (self, op);

  parallel_for (batch * op->groups, batch * epd_unet_value_floats (l.in), group_norm_rows, &l);
}

/* CHANNEL_BIAS and SCALE_SHIFT, rows q = n * c + ch: per-sample, per-channel
 * values from the vector x2. */
static void
channel_affine_rows (gpointer data,
                     gsize    begin,
                     gsize    end)
{
  const Loop *l = data;
  const EpdUnetOp *op = l->op;
  gsize c = l->in->c, cv = l->plan->values[op->in[1]].c, p = l->p;
  gboolean scale_shift = op->kind == EPD_UNET_OP_SCALE_SHIFT;

  for (gsize q = begin; q < end; q++)
    {
      gsize n = q / c, ch = q % c;
      const float *row = l->x2 + n * cv + op->offset;
      float a = scale_shift ? 1.0f + row[ch] : 1.0f, b = scale_shift ? row[c + ch] : row[ch];
      affine_row (l->y + q * p, l->x + q * p, p, a, b, op->silu);
    }
}

static void
elementwise_range (gpointer data,
                   gsize    begin,
                   gsize    end)
{
  const Loop *l = data;
  const EpdUnetOp *op = l->op;

  for (gsize j = begin; j < end; j++)
    switch (op->kind)
      {
      case EPD_UNET_OP_SILU:
        l->y[j] = silu (l->x[j]);
        break;
      case EPD_UNET_OP_ADD:
        l->y[j] = op->alpha * (l->x[j] + l->x2[j]);
        break;
      case EPD_UNET_OP_AFFINE:
      default:
        l->y[j] = op->alpha * l->x[j] + op->beta;
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

/* Rows q = n * c + ch. */
static void
upsample_rows (gpointer data,
               gsize    begin,
               gsize    end)
{
  const Loop *l = data;
  guint h = l->in->h, w = l->in->w;

  for (gsize q = begin; q < end; q++)
    for (guint yy = 0; yy < 2 * h; yy++)
      {
        const float *src = l->x + q * h * w + (gsize) (yy / 2) * w;
        float *dst = l->y + q * 4 * h * w + (gsize) yy * 2 * w;

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

/* Rows of the [p][p] scores in y. */
static void
softmax_rows (gpointer data,
              gsize    begin,
              gsize    end)
{
  const Loop *l = data;
  gsize cols = l->p;

  for (gsize r = begin; r < end; r++)
    {
      float *row = l->y + r * cols, max = -INFINITY;
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
  Loop l = { .y = self->scores, .p = p };

  for (gsize n = 0; n < batch; n++)
    for (gsize j = 0; j < op->heads; j++)
      {
        const float *q = qkv + n * 3 * inner * p + j * d * p;
        const float *k = q + inner * p, *vv = q + 2 * inner * p;
        float *o = y + n * inner * p + j * d * p;

        /* s[p][r] = scale q[:, p] . k[:, r];  o[:, p] = sum_r v[:, r] a[p][r] */
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) p, (int) p, (int) d, op->scale,
                     q, (int) p, k, (int) p, 0.0f, self->scores, (int) p);
        parallel_for (p, p * p * 4, softmax_rows, &l);
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
  Loop l;
  gsize n;

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
      l = loop_for (self, op);
      parallel_for (batch * l.in->c, batch * epd_unet_value_floats (l.in), channel_affine_rows, &l);
      break;
    case EPD_UNET_OP_CONCAT:
      run_concat (self, op, batch);
      break;
    case EPD_UNET_OP_UPSAMPLE:
      l = loop_for (self, op);
      parallel_for (batch * l.in->c, batch * epd_unet_value_floats (l.out), upsample_rows, &l);
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
      l = loop_for (self, op);
      n = batch * epd_unet_value_floats (l.out);
      parallel_for (n, n, elementwise_range, &l);
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
