/* SPDX-License-Identifier: MIT */
/* epd-empirical.c: the empirical-dataset optimal denoiser, float64 through OpenBLAS. */
#include "epd-empirical.h"
#include "epd-numeric.h"

#include "epd-blas.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Rows go to the GEMMs in groups of up to GROUP_ROWS, padded with zero rows
 * to a multiple of ROW_TILE; the images in blocks of about BLOCK_BYTES
 * (widened to double: a block stays in the L2 cache while all the group's
 * rows use it), the blocks in up to MAX_PARTS parts of consecutive blocks.
 * Every GEMM dimension is a multiple of ROW_TILE (zero rows, zero columns,
 * the last block padded), so OpenBLAS only runs full register tiles; which
 * images form a block and a part depends on the data set alone. Models so
 * small that a ROW_TILE-row GEMM would fall below SMALL_GEMM (where OpenBLAS
 * switches to its small-matrix kernels, whose rounding depends on the row
 * count) use groups of exactly ROW_TILE rows. See the header. */
#define ROW_TILE 16
#define GROUP_ROWS 256
#define SMALL_GEMM 2e6
#define BLOCK_BYTES ((gsize) 3 << 19)
#define MAX_PARTS 8
/* Multiply-adds of a call below which a thread costs more than it saves. */
#define PARALLEL_MIN_WORK 4e6
#define DEFAULT_PNG_SIDE 28

struct _EpdEmpirical
{
  GObject     parent_instance;

  EpdDataset *dataset;
  char       *label;
  gsize       n;
  guint       dim;
  gsize       dim_pad;    /* dim rounded up to ROW_TILE */
  gsize       group_rows; /* GROUP_ROWS, or ROW_TILE for a small model */
  const float *y;         /* [n][dim], the dataset's pixels (borrowed) */
  double     *half_norm2; /* [n], |y_i|^2 / 2 */
  gsize       block;      /* images per block, a multiple of ROW_TILE */
  guint       n_parts;
  gsize       part_start[MAX_PARTS + 1]; /* the parts' first blocks */
  /* Block buffers of finished calls, for the next: a fresh one costs a page
   * fault per 4 KiB, which small calls notice. */
  GAsyncQueue *spare_blocks;
};

static void epd_empirical_denoiser_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdEmpirical, epd_empirical, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER,
                                                      epd_empirical_denoiser_init))

static void
epd_empirical_finalize (GObject *object)
{
  EpdEmpirical *self = EPD_EMPIRICAL (object);

  g_clear_pointer (&self->dataset, epd_dataset_unref);
  g_free (self->label);
  g_free (self->half_norm2);
  g_clear_pointer (&self->spare_blocks, g_async_queue_unref);
  G_OBJECT_CLASS (epd_empirical_parent_class)->finalize (object);
}

static void
epd_empirical_class_init (EpdEmpiricalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_empirical_finalize;
}

static void
epd_empirical_init (EpdEmpirical *self)
{
  self->spare_blocks = g_async_queue_new_full (g_free);
}

static void
set_label (EpdEmpirical *self,
           const char   *spec)
{
  g_free (self->label);
  self->label = g_strdup_printf ("dataset:%s (CPU, OpenBLAS float64)", spec);
}

static gsize
round_up (gsize v)
{
  return (v + ROW_TILE - 1) / ROW_TILE * ROW_TILE;
}

/* Blocks of BLOCK_BYTES in double, a multiple of ROW_TILE images, and
 * the parts: MAX_PARTS or one a block. */
static void
plan_blocks (EpdEmpirical *self)
{
  gsize per_block = BLOCK_BYTES / (self->dim_pad * sizeof (double)) / ROW_TILE * ROW_TILE;
  gsize n_blocks;

  self->block = MIN (MAX (per_block, ROW_TILE), round_up (self->n));
  self->group_rows = (double) ROW_TILE * self->block * self->dim_pad < SMALL_GEMM ? ROW_TILE : GROUP_ROWS;
  n_blocks = (self->n + self->block - 1) / self->block;
  self->n_parts = (guint) MIN (MAX_PARTS, n_blocks);
  for (guint p = 0; p <= self->n_parts; p++)
    self->part_start[p] = n_blocks * p / self->n_parts;
}

EpdEmpirical *
epd_empirical_new (EpdDataset *dataset)
{
  EpdEmpirical *self;
  g_autofree char *spec = NULL;

  g_return_val_if_fail (dataset != NULL, NULL);
  self = g_object_new (EPD_TYPE_EMPIRICAL, NULL);
  self->dataset = epd_dataset_ref (dataset);
  self->n = epd_dataset_get_n (dataset);
  self->dim = epd_dataset_get_dim (dataset);
  self->dim_pad = round_up (self->dim);
  self->y = epd_dataset_get_pixels (dataset);
  self->half_norm2 = g_new (double, self->n);
  for (gsize i = 0; i < self->n; i++)
    {
      const float *yi = self->y + i * self->dim;
      double norm2 = 0.0;

      for (guint j = 0; j < self->dim; j++)
        norm2 += (double) yi[j] * yi[j];
      self->half_norm2[i] = 0.5 * norm2;
    }
  plan_blocks (self);
  spec = g_strdup_printf ("%s:%" G_GSIZE_FORMAT, epd_dataset_get_name (dataset), self->n);
  set_label (self, spec);
  return self;
}

/* ---- the denoiser ------------------------------------------------------- */

static gboolean
check_finite (const double *v,
              gsize         count,
              const char   *what,
              GError      **error)
{
  gssize bad = epd_first_non_finite (v, count);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "empirical denoiser: %s[%" G_GSIZE_FORMAT "] is %g, not finite", what, i, v[i]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_rows (const double *x,
            const double *sigma,
            gsize         batch,
            guint         dim,
            GError      **error)
{
  for (gsize r = 0; r < batch; r++)
    if (!(sigma[r] > 0.0) || !isfinite (sigma[r]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "empirical denoiser: sigma[%" G_GSIZE_FORMAT "] is %g, not a positive number",
                     r, sigma[r]);
        return FALSE;
      }
  return check_finite (x, batch * dim, "x", error);
}

static gboolean
check_tangent (const double *dx,
               const double *dsigma,
               gsize         batch,
               guint         dim,
               GError      **error)
{
  return check_finite (dsigma, batch, "dsigma", error) &&
         check_finite (dx, batch * dim, "dx", error);
}

/* ---- one call: row groups, image blocks, parts ------------------------ */

/* The running softmax of one part of the data set, per row: the largest
 * logit m so far, z = sum_i e_i with e_i = exp(l_i - m), and acc's row
 * S = sum_i e_i y_i. With the tangent, dl_i is kept relative to c, the dl of
 * the image at the maximum (dx.y of that image is ref): a = sum_i e_i (dl_i - c)
 * and acc's row rows_pad + r holds T = sum_i e_i (dl_i - c) y_i. Centring at
 * that image avoids the cancellation of the huge logits at small sigma. */
typedef struct
{
  double *m, *ref, *z, *a;
  double *acc;  /* [k * rows_pad][dim_pad] */
} Part;

typedef struct _Group Group;

/* A worker's buffers. */
typedef struct
{
  Group  *grp;
  double *y;  /* [block][dim_pad], one block widened to double, zero padding */
  double *g;  /* [k * rows_pad][block]: the dot products, then the logits */
  double *w;  /* [k * rows_pad][block]: e_i, then e_i (dl_i - c); padding rows stay 0 */
} Worker;

/* One call's row group, shared read-only by the workers but for next_part. */
struct _Group
{
  EpdEmpirical *self;
  const double *a;       /* [k * rows_pad][dim_pad]: x, then dx, zero padding */
  const double *sigma;   /* [rows] */
  const double *dsigma;  /* [rows], or NULL without the tangent */
  gsize         rows, rows_pad;
  guint         k;       /* 1, or 2 with the tangent */
  Part         *parts;   /* [self->n_parts] */
  Worker       *workers; /* [n_workers] */
  guint         n_workers;
  gint          next_part;
};

static gsize
block_start (EpdEmpirical *self,
             gsize         block)
{
  return MIN (self->n, block * self->block);
}

/* ---- the per-row loops, vectorised ------------------------------------ */

/* Eight doubles in GCC's generic vectors; the functions that use them are
 * compiled for AVX-512, AVX2 and plain x86-64 and picked at load time, so the
 * same machine always runs the same code. Each image keeps its place in a
 * block (the blocks depend on the data set alone), so its lane, and with it
 * every bit, does not depend on the batch. Loads and stores go through memcpy
 * (unaligned) and macros (no vector arguments: their ABI varies by clone). */
typedef double v8d __attribute__ ((vector_size (64)));
typedef float  v8f __attribute__ ((vector_size (32)));
typedef gint64 v8l __attribute__ ((vector_size (64)));
#define LANES 8
G_STATIC_ASSERT (ROW_TILE % LANES == 0);  /* dim_pad is a whole number of vectors */
#define LOAD(v, p)  memcpy (&(v), (p), sizeof (v))
#define STORE(p, v) memcpy ((p), &(v), sizeof (v))
#define CLONES __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
/* Below this exponent exp() is under 2^-1021 of the row's largest term: 0. */
#define EXP_MIN (-708.0)

/* exp(x) for x in [EXP_MIN, 0] (0 below): x = n ln 2 + t with |t| <= ln 2 / 2,
 * e^t by its Taylor series to t^13 (a remainder below 2^-56), times 2^n set in
 * the exponent bits. Within 2 ulp of the exact value. */
#define VEXP(out, x) \
  G_STMT_START { \
    const v8d shift_ = (v8d) { 0 } + 0x1.8p52; \
    v8d x_ = (x), k_ = x_ * 0x1.71547652b82fep0 + shift_, n_ = k_ - shift_, t_, p_; \
    v8l bits_ = ((v8l) k_ - (v8l) shift_ + 1023) << 52; \
    t_ = x_ - n_ * 0x1.62e42fefa3800p-1 - n_ * 0x1.ef35793c76730p-45; \
    p_ = (v8d) { 0 } + 1.0 / 6227020800.0; \
    p_ = 1.0 / 479001600.0 + t_ * p_; \
    p_ = 1.0 / 39916800.0 + t_ * p_; \
    p_ = 1.0 / 3628800.0 + t_ * p_; \
    p_ = 1.0 / 362880.0 + t_ * p_; \
    p_ = 1.0 / 40320.0 + t_ * p_; \
    p_ = 1.0 / 5040.0 + t_ * p_; \
    p_ = 1.0 / 720.0 + t_ * p_; \
    p_ = 1.0 / 120.0 + t_ * p_; \
    p_ = 1.0 / 24.0 + t_ * p_; \
    p_ = 1.0 / 6.0 + t_ * p_; \
    p_ = 0.5 + t_ * p_; \
    p_ = 1.0 + t_ * p_; \
    p_ = 1.0 + t_ * p_; \
    p_ *= (v8d) bits_; \
    (out) = (v8d) ((v8l) p_ & (x_ >= EXP_MIN)); \
  } G_STMT_END

/* The lanes [i, i + LANES) of src, or of a copy padded with pad past count. */
#define LOAD_TAIL(v, src, i, count, pad) \
  G_STMT_START { \
    double tail_[LANES]; \
    for (gsize q_ = 0; q_ < LANES; q_++) \
      tail_[q_] = (i) + q_ < (count) ? (src)[(i) + q_] : (pad); \
    LOAD (v, tail_); \
  } G_STMT_END

#define STORE_TAIL(dst, v, i, count) \
  G_STMT_START { \
    double tail_[LANES]; \
    STORE (tail_, v); \
    for (gsize q_ = 0; q_ < LANES && (i) + q_ < (count); q_++) \
      (dst)[(i) + q_] = tail_[q_]; \
  } G_STMT_END

static double
horizontal_sum (const double *v)
{
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

/* count rows of d floats into rows of dp doubles. */
CLONES static void
widen_rows (const float *src,
            gsize        count,
            gsize        d,
            gsize        dp,
            double      *dst)
{
  for (gsize i = 0; i < count; i++)
    {
      const float *from = src + i * d;
      double *to = dst + i * dp;
      gsize j = 0;

      for (; j + LANES <= d; j += LANES)
        {
          v8f f;
          v8d v;

          LOAD (f, from + j);
          v = __builtin_convertvector (f, v8d);
          STORE (to + j, v);
        }
      for (; j < d; j++)
        to[j] = from[j];
    }
}

/* l_i = (l_i - h_i) s, in place; returns the largest. */
CLONES static double
row_logits (double       *l,
            const double *h,
            gsize         count,
            double        s)
{
  v8d top = (v8d) { 0 } - INFINITY;
  double lanes[LANES];
  gsize i = 0;

  for (; i < count; i += LANES)
    {
      v8d a, b;

      if (i + LANES <= count)
        {
          LOAD (a, l + i);
          LOAD (b, h + i);
        }
      else
        {
          LOAD_TAIL (a, l, i, count, -INFINITY);
          LOAD_TAIL (b, h, i, count, 0.0);
        }
      a = (a - b) * s;
      top = (v8d) (((v8l) a & (a > top)) | ((v8l) top & (a <= top)));
      if (i + LANES <= count)
        STORE (l + i, a);
      else
        STORE_TAIL (l, a, i, count);
    }
  STORE (lanes, top);
  for (gsize q = 1; q < LANES; q++)
    lanes[0] = MAX (lanes[0], lanes[q]);
  return lanes[0];
}

/* w_i = exp(l_i - m); returns their sum. */
CLONES static double
row_weights (const double *l,
             gsize         count,
             double        m,
             double       *w)
{
  v8d sum = { 0 };
  double lanes[LANES];

  for (gsize i = 0; i < count; i += LANES)
    {
      v8d a, e;

      if (i + LANES <= count)
        LOAD (a, l + i);
      else
        LOAD_TAIL (a, l, i, count, -INFINITY);
      VEXP (e, a - m);
      sum += e;
      if (i + LANES <= count)
        STORE (w + i, e);
      else
        STORE_TAIL (w, e, i, count);
    }
  STORE (lanes, sum);
  return horizontal_sum (lanes);
}

/* v_i = w_i ((dxy_i - ref) inv_s2 - (l_i - m) ds_s); returns their sum. */
CLONES static double
row_tangent (const double *w,
             const double *dxy,
             const double *l,
             gsize         count,
             double        ref,
             double        inv_s2,
             double        m,
             double        ds_s,
             double       *v)
{
  v8d sum = { 0 };
  double lanes[LANES];

  for (gsize i = 0; i < count; i += LANES)
    {
      v8d a, b, c, t;

      if (i + LANES <= count)
        {
          LOAD (a, w + i);
          LOAD (b, dxy + i);
          LOAD (c, l + i);
        }
      else
        {
          LOAD_TAIL (a, w, i, count, 0.0);
          LOAD_TAIL (b, dxy, i, count, 0.0);
          LOAD_TAIL (c, l, i, count, 0.0);
        }
      t = a * ((b - ref) * inv_s2 - (c - m) * ds_s);
      sum += t;
      if (i + LANES <= count)
        STORE (v + i, t);
      else
        STORE_TAIL (v, t, i, count);
    }
  STORE (lanes, sum);
  return horizontal_sum (lanes);
}

/* The first image of the block with the largest logit. */
static gsize
row_argmax (const double *l,
            gsize         count,
            double        top)
{
  gsize i = 0;

  while (i + 1 < count && l[i] != top)
    i++;
  return i;
}

/* t = alpha (t - dc s) over n values, a multiple of LANES (t may be s). */
CLONES static void
rescale (double       *t,
         const double *s,
         gsize         n,
         double        alpha,
         double        dc)
{
  for (gsize j = 0; j < n; j += LANES)
    {
      v8d a, b;

      LOAD (a, t + j);
      LOAD (b, s + j);
      a = alpha * (a - dc * b);
      STORE (t + j, a);
    }
}

/* Moves row r of part to the maximum m_new (whose image has dx.y = ref_new). */
static void
part_rebase (const Group *grp,
             Part        *part,
             gsize        r,
             double       m_new,
             double       ref_new)
{
  gsize dim = grp->self->dim_pad;
  double m_old = part->m[r], ref_old = part->ref[r], alpha;
  double *s = part->acc + r * dim;

  part->m[r] = m_new;
  part->ref[r] = ref_new;
  if (m_old == -INFINITY)
    return;  /* nothing summed yet */
  alpha = exp (m_old - m_new);
  if (grp->dsigma != NULL)
    {
      double inv_s2 = 1.0 / (grp->sigma[r] * grp->sigma[r]);
      double dc = (ref_new - ref_old) * inv_s2 - (m_new - m_old) * 2.0 * grp->dsigma[r] / grp->sigma[r];
      double *t = part->acc + (grp->rows_pad + r) * dim;

      rescale (t, s, dim, alpha, dc);
      part->a[r] = alpha * (part->a[r] - dc * part->z[r]);
    }
  rescale (s, s, dim, alpha, 0.0);
  part->z[r] *= alpha;
}

/* Row r over one block: l holds x.y_i on entry and the logits after; w gets
 * e_i, and with the tangent (dxy = dx.y_i) v gets e_i (dl_i - c). */
static void
block_row (const Group  *grp,
           Part         *part,
           gsize         r,
           const double *half_norm2,
           gsize         count,
           double       *l,
           const double *dxy,
           double       *w,
           double       *v)
{
  double inv_s2 = 1.0 / (grp->sigma[r] * grp->sigma[r]);
  double top = row_logits (l, half_norm2, count, inv_s2), m;

  if (top > part->m[r])
    part_rebase (grp, part, r, top, dxy != NULL ? dxy[row_argmax (l, count, top)] : 0.0);
  m = part->m[r];
  part->z[r] += row_weights (l, count, m, w);
  if (dxy != NULL)
    part->a[r] += row_tangent (w, dxy, l, count, part->ref[r], inv_s2, m,
                               2.0 * grp->dsigma[r] / grp->sigma[r], v);
}

/* One block of images into part: y widened, G = a.y^T, the rows' softmax
 * terms, acc += W.y. The GEMMs see the whole row group at once, so the block
 * is packed once for all its rows. The last block's missing images are zero
 * rows of y with zero weights. */
static void
part_block (const Group *grp,
            Part        *part,
            Worker      *s,
            gsize        block,
            gboolean     first)
{
  EpdEmpirical *self = grp->self;
  gsize i0 = block_start (self, block), count = block_start (self, block + 1) - i0;
  gsize nb = self->block, m = grp->k * grp->rows_pad, d = self->dim, dp = self->dim_pad;
  const float *src = self->y + i0 * d;

  widen_rows (src, count, d, dp, s->y);
  if (count < nb)
    {
      memset (s->y + count * dp, 0, (nb - count) * dp * sizeof (double));
      for (gsize r = 0; r < m; r++)
        memset (s->w + r * nb + count, 0, (nb - count) * sizeof (double));
    }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) nb, (int) dp,
               1.0, grp->a, (int) dp, s->y, (int) dp, 0.0, s->g, (int) nb);
  for (gsize r = 0; r < grp->rows; r++)
    block_row (grp, part, r, self->half_norm2 + i0, count, s->g + r * nb,
               grp->k == 2 ? s->g + (grp->rows_pad + r) * nb : NULL,
               s->w + r * nb, s->w + (grp->rows_pad + r) * nb);
  /* The part's first block sets acc, which starts unset. */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) m, (int) dp, (int) nb,
               1.0, s->w, (int) nb, s->y, (int) dp, first ? 0.0 : 1.0, part->acc, (int) dp);
}

static void
run_part (const Group *grp,
          guint        p,
          Worker      *s)
{
  EpdEmpirical *self = grp->self;
  Part *part = &grp->parts[p];

  for (gsize r = 0; r < grp->rows; r++)
    part->m[r] = -INFINITY;
  for (gsize b = self->part_start[p]; b < self->part_start[p + 1]; b++)
    part_block (grp, part, s, b, b == self->part_start[p]);
}

/* Workers take parts in any order: a part's result does not depend on who
 * computes it, so the thread count never changes a bit. */
static gpointer
worker_run (gpointer data)
{
  Worker *s = data;
  Group *grp = s->grp;
  gint p;

  while ((p = g_atomic_int_add (&grp->next_part, 1)) < (gint) grp->self->n_parts)
    run_part (grp, (guint) p, s);
  return NULL;
}

/* Folds src into dst at the larger of their maxima (parts in a fixed order). */
static void
part_merge (const Group *grp,
            Part        *dst,
            Part        *src)
{
  gsize d = grp->self->dim_pad;

  for (gsize r = 0; r < grp->rows; r++)
    {
      if (src->m[r] > dst->m[r])
        part_rebase (grp, dst, r, src->m[r], src->ref[r]);
      else
        part_rebase (grp, src, r, dst->m[r], dst->ref[r]);
      dst->z[r] += src->z[r];
      dst->a[r] += src->a[r];
      for (guint q = 0; q < grp->k; q++)
        {
          double *to = dst->acc + (q * grp->rows_pad + r) * d;
          const double *from = src->acc + (q * grp->rows_pad + r) * d;

          for (gsize j = 0; j < d; j++)
            to[j] += from[j];
        }
    }
}

/* D = S / z and dD = T / z - (a / z) D. */
static void
group_finish (const Group *grp,
              double      *out,
              double      *dout)
{
  const Part *part = &grp->parts[0];
  gsize d = grp->self->dim, dp = grp->self->dim_pad;

  for (gsize r = 0; r < grp->rows; r++)
    {
      const double *s = part->acc + r * dp, *t;
      double inv_z = 1.0 / part->z[r], mean = part->a[r] * inv_z;

      for (gsize j = 0; j < d; j++)
        out[r * d + j] = s[j] * inv_z;
      if (dout == NULL)
        continue;
      t = part->acc + (grp->rows_pad + r) * dp;
      for (gsize j = 0; j < d; j++)
        dout[r * d + j] = t[j] * inv_z - mean * out[r * d + j];
    }
}

static void
group_clear (Group *grp)
{
  for (guint p = 0; grp->parts != NULL && p < grp->self->n_parts; p++)
    {
      g_free (grp->parts[p].m);
      g_free (grp->parts[p].acc);
    }
  for (guint t = 0; grp->workers != NULL && t < grp->n_workers; t++)
    {
      if (grp->workers[t].y != NULL)
        g_async_queue_push (grp->self->spare_blocks, grp->workers[t].y);
      g_free (grp->workers[t].g);
      g_free (grp->workers[t].w);
    }
  g_clear_pointer (&grp->parts, g_free);
  g_clear_pointer (&grp->workers, g_free);
  g_clear_pointer ((double **) &grp->a, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Group, group_clear)

/* Threads pay off from PARALLEL_MIN_WORK multiply-adds (a few tenths of a
 * millisecond) on; below, starting them costs more than they save. */
static guint
group_workers (const Group *grp)
{
  double work = (double) grp->k * grp->rows_pad * grp->self->n * grp->self->dim;

  if (work < PARALLEL_MIN_WORK)
    return 1;
  return MIN (grp->self->n_parts, MAX (1, g_get_num_processors ()));
}

static gboolean
group_alloc (Group   *grp,
             GError **error)
{
  gsize d = grp->self->dim_pad, m = grp->k * grp->rows_pad, nb = grp->self->block;
  gboolean ok;

  grp->n_workers = group_workers (grp);
  grp->parts = g_try_new0 (Part, grp->self->n_parts);
  grp->workers = g_try_new0 (Worker, grp->n_workers);
  ok = grp->parts != NULL && grp->workers != NULL;
  for (guint p = 0; ok && p < grp->self->n_parts; p++)
    {
      Part *part = &grp->parts[p];

      part->m = g_try_new0 (double, 4 * grp->rows);
      part->acc = g_try_malloc_n (m, d * sizeof (double));  /* set by the part's first block */
      ok = part->m != NULL && part->acc != NULL;
      if (ok)
        {
          part->ref = part->m + grp->rows;
          part->z = part->ref + grp->rows;
          part->a = part->z + grp->rows;
        }
    }
  for (guint t = 0; ok && t < grp->n_workers; t++)
    {
      Worker *s = &grp->workers[t];

      s->grp = grp;
      /* zero padding columns: never written, so a spare one has them too */
      s->y = g_async_queue_try_pop (grp->self->spare_blocks);
      if (s->y == NULL)
        s->y = g_try_new0 (double, nb * d);
      s->g = g_try_new (double, m * nb);
      s->w = g_try_new0 (double, m * nb);
      ok = s->y != NULL && s->g != NULL && s->w != NULL;
    }
  if (!ok)
    g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                 "empirical denoiser: out of memory for %" G_GSIZE_FORMAT " rows of %u"
                 " values over %" G_GSIZE_FORMAT " images", grp->rows, grp->self->dim, grp->self->n);
  return ok;
}

/* Runs the parts on n_workers threads (the caller is one), then merges them
 * in order. */
static void
group_run (Group *grp)
{
  GThread *threads[MAX_PARTS] = { NULL };

  for (guint t = 1; t < grp->n_workers; t++)
    threads[t] = g_thread_try_new ("epd-empirical", worker_run, &grp->workers[t], NULL);
  worker_run (&grp->workers[0]);
  for (guint t = 1; t < grp->n_workers; t++)
    if (threads[t] != NULL)
      g_thread_join (threads[t]);
  for (guint p = 1; p < grp->self->n_parts; p++)
    part_merge (grp, &grp->parts[0], &grp->parts[p]);
}

/* Rows [0, rows) of x (and dx, or NULL) as one group of at most group_rows. */
static gboolean
denoise_group (EpdEmpirical *self,
               const double *x,
               const double *sigma,
               const double *dx,
               const double *dsigma,
               gsize         rows,
               double       *out,
               double       *dout,
               GError      **error)
{
  g_auto(Group) grp = { .self = self, .sigma = sigma, .dsigma = dsigma, .rows = rows };
  gsize d = self->dim, dp = self->dim_pad;
  double *a;

  grp.k = dx != NULL ? 2 : 1;
  grp.rows_pad = round_up (rows);
  grp.a = a = g_try_malloc0_n (grp.k * grp.rows_pad, dp * sizeof (double));
  if (a == NULL || !group_alloc (&grp, error))
    {
      if (a == NULL)
        g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                     "empirical denoiser: out of memory for %" G_GSIZE_FORMAT " rows", rows);
      return FALSE;
    }
  for (gsize r = 0; r < rows; r++)
    {
      memcpy (a + r * dp, x + r * d, d * sizeof (double));
      if (dx != NULL)
        memcpy (a + (grp.rows_pad + r) * dp, dx + r * d, d * sizeof (double));
    }
  epd_blas_serial_begin ();
  group_run (&grp);
  epd_blas_serial_end ();
  group_finish (&grp, out, dout);
  return TRUE;
}

/* Row groups of group_rows; with dx NULL, no tangent. */
static gboolean
denoise_rows (EpdEmpirical *self,
              const double *x,
              const double *sigma,
              const double *dx,
              const double *dsigma,
              gsize         batch,
              double       *out,
              double       *dout,
              GError      **error)
{
  gsize d = self->dim;

  for (gsize r0 = 0; r0 < batch; r0 += self->group_rows)
    {
      gsize rows = MIN (self->group_rows, batch - r0);

      if (!denoise_group (self, x + r0 * d, sigma + r0, dx != NULL ? dx + r0 * d : NULL,
                          dsigma != NULL ? dsigma + r0 : NULL, rows, out + r0 * d,
                          dout != NULL ? dout + r0 * d : NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
epd_empirical_denoise (EpdDenoiser  *denoiser,
                       const double *x,
                       const double *sigma,
                       gsize         batch,
                       double       *out,
                       GError      **error)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);

  return check_rows (x, sigma, batch, self->dim, error) &&
         denoise_rows (self, x, sigma, NULL, NULL, batch, out, NULL, error);
}

static gboolean
epd_empirical_denoise_jvp (EpdDenoiser  *denoiser,
                           const double *x,
                           const double *sigma,
                           const double *dx,
                           const double *dsigma,
                           gsize         batch,
                           double       *out,
                           double       *dout,
                           GError      **error)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);

  return check_rows (x, sigma, batch, self->dim, error) &&
         check_tangent (dx, dsigma, batch, self->dim, error) &&
         denoise_rows (self, x, sigma, dx, dsigma, batch, out, dout, error);
}

static guint
epd_empirical_get_dim_iface (EpdDenoiser *denoiser)
{
  return EPD_EMPIRICAL (denoiser)->dim;
}

static const char *
epd_empirical_describe (EpdDenoiser *denoiser)
{
  return EPD_EMPIRICAL (denoiser)->label;
}

static gboolean
epd_empirical_get_image_shape (EpdDenoiser *denoiser,
                               guint       *side,
                               guint       *channels)
{
  EpdEmpirical *self = EPD_EMPIRICAL (denoiser);

  if (side != NULL)
    *side = epd_dataset_get_side (self->dataset);
  if (channels != NULL)
    *channels = epd_dataset_get_channels (self->dataset);
  return TRUE;
}

static void
epd_empirical_denoiser_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = epd_empirical_get_dim_iface;
  iface->describe = epd_empirical_describe;
  iface->denoise = epd_empirical_denoise;
  iface->denoise_jvp = epd_empirical_denoise_jvp;
  iface->get_image_shape = epd_empirical_get_image_shape;
}

/* ---- getters ------------------------------------------------------------ */

EpdDataset *
epd_empirical_get_dataset (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), NULL);
  return self->dataset;
}

gsize
epd_empirical_get_n (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), 0);
  return self->n;
}

guint
epd_empirical_get_dim (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), 0);
  return self->dim;
}

const float *
epd_empirical_get_data (EpdEmpirical *self)
{
  g_return_val_if_fail (EPD_IS_EMPIRICAL (self), NULL);
  return epd_dataset_get_pixels (self->dataset);
}

/* ---- specs -------------------------------------------------------------- */

static gboolean
parse_count (const char *text,
             const char *spec,
             guint64    *out,
             GError    **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT32, out, &local_error))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: '%s' is not an image count: %s", spec, text, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* fields: what follows "fashion-mnist" or "fashion-mnist-test", split at ':'. */
static EpdDataset *
open_fashion (const char  *spec,
              char       **fields,
              EpdDatasetSplit split,
              GError     **error)
{
  guint n_fields = g_strv_length (fields);
  EpdDatasetSubset subset = { 0 };
  guint64 count = 0;

  if (n_fields > 2 || (n_fields == 2 && g_strcmp0 (fields[1], "per-class") != 0))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: expected fashion-mnist[-test][:N[:per-class]]", spec);
      return NULL;
    }
  if (n_fields >= 1 && !parse_count (fields[0], spec, &count, error))
    return NULL;
  if (n_fields == 2)
    subset.per_class = (guint) count;
  else
    subset.first_n = count;
  return epd_dataset_load_fashion_mnist (split, &subset, error);
}

/* DIR[:SIDE][:grey|:rgb], parsed from the right so DIR may hold ':'. */
static EpdDataset *
open_png_dir (const char *spec,
              GError    **error)
{
  g_autofree char *dir = g_strdup (spec);
  guint channels = 1;
  guint64 side = DEFAULT_PNG_SIDE;
  char *colon = strrchr (dir, ':');

  if (colon != NULL && (g_str_equal (colon + 1, "rgb") || g_str_equal (colon + 1, "grey")))
    {
      channels = g_str_equal (colon + 1, "rgb") ? 3 : 1;
      *colon = '\0';
      colon = strrchr (dir, ':');
    }
  if (colon != NULL && colon[1] != '\0' && strspn (colon + 1, "0123456789") == strlen (colon + 1))
    {
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 4096, &side, NULL))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "dataset:%s: image side '%s' is not in 1..4096", spec, colon + 1);
          return NULL;
        }
      *colon = '\0';
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset:%s: '%s' is neither fashion-mnist nor a folder of PNG images", spec, dir);
      return NULL;
    }
  return epd_dataset_load_png_dir (dir, (guint) side, channels, error);
}

static EpdDataset *
open_dataset (const char *rest,
              GError    **error)
{
  static const struct { const char *name; EpdDatasetSplit split; } fashion[] = {
    { "fashion-mnist-test", EPD_DATASET_SPLIT_TEST },
    { "fashion-mnist", EPD_DATASET_SPLIT_TRAIN },
  };

  for (guint k = 0; k < G_N_ELEMENTS (fashion); k++)
    {
      gsize len = strlen (fashion[k].name);

      if (strncmp (rest, fashion[k].name, len) == 0 && (rest[len] == '\0' || rest[len] == ':'))
        {
          /* ":100:per-class" splits into "", "100", "per-class". */
          g_auto(GStrv) fields = g_strsplit (rest + len, ":", -1);

          return open_fashion (rest, rest[len] == ':' ? fields + 1 : fields,
                               fashion[k].split, error);
        }
    }
  return open_png_dir (rest, error);
}

EpdEmpirical *
epd_empirical_open_spec (const char *rest,
                         GError    **error)
{
  g_autoptr(EpdDataset) dataset = NULL;
  EpdEmpirical *self;

  g_return_val_if_fail (rest != NULL, NULL);
  if (*rest == '\0')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "dataset: needs a name: fashion-mnist[:N] or a folder of PNG images");
      return NULL;
    }
  if ((dataset = open_dataset (rest, error)) == NULL)
    return NULL;
  self = epd_empirical_new (dataset);
  set_label (self, rest);
  return self;
}
