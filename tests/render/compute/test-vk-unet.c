/* SPDX-License-Identifier: MIT */
/* test-vk-unet.c: the UNet kernels (epd-vk-unet.c) on a Vulkan device.
 *
 * Each op runs in a small hand-built plan against a float64 interpreter of
 * epd-unet-plan.h written here; the fixture networks of tests/data/unet run
 * against their float64 torch references and the CPU path. Sizes are tiny
 * (lavapipe is slow) but cross the kernels' tile edges: more than 64 output
 * channels and columns, K not a multiple of 16, more than one pass.
 * The denoiser's failure paths (per-call fallback, a lost device, a hung
 * device's cancelled wait, a buffer limit) are simulated as in
 * test-vk-failures. Registered plain and with EPD_VK_VALIDATION=1, where every test also
 * asserts that the Khronos validation layer reported nothing.
 *
 * Tolerance: max |vulkan - reference| / max |reference| <= 1e-4 (float32
 * kernels against float64; measured figures are printed with --verbose). */
#include <math.h>
#include <string.h>

#include "epd-test-unet.h"
#include "epd-unet.h"
#include "epd-test-vk.h"
#include "epd-vk-denoiser.h"
#include "epd-vk-private.h"
#include "epd-vk-unet.h"

#define TOL 1e-4
#define BATCH 3

/* ---- hand-built plans ----------------------------------------------------------- */

/* One slot per value, so no op writes a slot it reads. */
typedef struct {
  GArray *values;   /* EpdUnetValue */
  GArray *ops;      /* EpdUnetOp */
  GArray *weights;  /* float */
  GRand  *rand;
} Builder;

static Builder *
builder_new (void)
{
  Builder *b = g_new0 (Builder, 1);

  b->values = g_array_new (FALSE, TRUE, sizeof (EpdUnetValue));
  b->ops = g_array_new (FALSE, TRUE, sizeof (EpdUnetOp));
  b->weights = g_array_new (FALSE, TRUE, sizeof (float));
  b->rand = g_rand_new_with_seed (11);
  return b;
}

static guint
add_value (Builder *b,
           guint    c,
           guint    h,
           guint    w)
{
  EpdUnetValue v = { c, h, w, b->values->len };

  g_array_append_val (b->values, v);
  return b->values->len - 1;
}

static gsize
add_weights (Builder *b,
             gsize    n,
             double   scale)
{
  gsize at = b->weights->len;

  for (gsize i = 0; i < n; i++)
    {
      float w = (float) g_rand_double_range (b->rand, -scale, scale);

      g_array_append_val (b->weights, w);
    }
  return at;
}

/* Ops move as the array grows: callers hold them only until the next add. */
static EpdUnetOp *
add_op (Builder       *b,
        EpdUnetOpKind  kind,
        guint          in,
        guint          out)
{
  EpdUnetOp op = {
    .kind = kind, .out = out, .in = { in, EPD_UNET_NONE }, .residual = EPD_UNET_NONE,
    .weight = EPD_UNET_NONE, .bias = EPD_UNET_NONE, .alpha = 1.0f,
    .name = g_strdup (epd_unet_op_kind_to_string (kind)),
  };

  g_array_append_val (b->ops, op);
  return &g_array_index (b->ops, EpdUnetOp, b->ops->len - 1);
}

/* A convolution in -> a new value, weights scaled for unit-size outputs. */
static EpdUnetOp *
add_conv (Builder *b,
          guint    in,
          guint    co,
          guint    k,
          guint    stride,
          guint    pad_top,
          guint    pad_left,
          guint    pad_bottom,
          guint    pad_right)
{
  EpdUnetValue v = g_array_index (b->values, EpdUnetValue, in);
  guint ho = (v.h + pad_top + pad_bottom - k) / stride + 1, wo = (v.w + pad_left + pad_right - k) / stride + 1;
  guint out = add_value (b, co, ho, wo);
  EpdUnetOp *op = add_op (b, EPD_UNET_OP_CONV2D, in, out);

  op->weight = add_weights (b, (gsize) co * v.c * k * k, 1.0 / sqrt (v.c * k * k));
  op->bias = add_weights (b, co, 0.5);
  op->kernel = k;
  op->stride = stride;
  op->pad_top = pad_top;
  op->pad_left = pad_left;
  op->pad_bottom = pad_bottom;
  op->pad_right = pad_right;
  return op;
}

static guint
add_unary (Builder       *b,
           EpdUnetOpKind  kind,
           guint          in)
{
  EpdUnetValue v = g_array_index (b->values, EpdUnetValue, in);
  guint up = kind == EPD_UNET_OP_UPSAMPLE ? 2 : 1;
  guint out = add_value (b, v.c, up * v.h, up * v.w);

  add_op (b, kind, in, out);
  return out;
}

static EpdUnetPlan *
builder_finish (Builder *b,
                guint    input,
                guint    timestep,
                guint    output)
{
  EpdUnetPlan *plan = g_new0 (EpdUnetPlan, 1);
  EpdUnetValue *in = &g_array_index (b->values, EpdUnetValue, input);

  plan->ref_count = 1;
  plan->in_channels = in->c;
  plan->height = in->h;
  plan->width = in->w;
  plan->out_channels = g_array_index (b->values, EpdUnetValue, output).c;
  plan->n_values = b->values->len;
  plan->n_slots = b->values->len;
  plan->slot_floats = g_new (gsize, plan->n_slots);
  for (guint s = 0; s < plan->n_slots; s++)
    plan->slot_floats[s] = epd_unet_value_floats (&g_array_index (b->values, EpdUnetValue, s));
  plan->values = (EpdUnetValue *) (void *) g_array_free (b->values, FALSE);
  plan->n_ops = b->ops->len;
  plan->ops = (EpdUnetOp *) (void *) g_array_free (b->ops, FALSE);
  plan->n_weights = b->weights->len;
  plan->weights = (float *) (void *) g_array_free (b->weights, FALSE);
  plan->input = input;
  plan->timestep = timestep;
  plan->output = output;
  g_rand_free (b->rand);
  g_free (b);
  return plan;
}

/* ---- the float64 reference ------------------------------------------------------- */

typedef struct {
  const EpdUnetPlan *plan;
  gsize              batch;
  double           **v;      /* [value][batch * floats] */
} Ref;

static double
silu (double v)
{
  return v / (1.0 + exp (-v));
}

static double
wt (const Ref *r,
    gsize      i)
{
  return r->plan->weights[i];
}

static void
ref_conv (Ref             *r,
          const EpdUnetOp *op)
{
  const EpdUnetValue *in = &r->plan->values[op->in[0]], *out = &r->plan->values[op->out];
  guint k = op->kind == EPD_UNET_OP_LINEAR ? 1 : op->kernel, stride = MAX (op->stride, 1);
  gboolean linear = op->kind == EPD_UNET_OP_LINEAR;

  for (gsize n = 0; n < r->batch; n++)
    for (guint o = 0; o < out->c; o++)
      for (guint y = 0; y < out->h; y++)
        for (guint x = 0; x < out->w; x++)
          {
            double acc = op->bias != EPD_UNET_NONE ? wt (r, op->bias + o) : 0.0;
            gsize idx = ((n * out->c + o) * out->h + y) * out->w + x;

            for (guint i = 0; i < in->c; i++)
              for (guint ky = 0; ky < k; ky++)
                for (guint kx = 0; kx < k; kx++)
                  {
                    int iy = (int) (y * stride + ky) - (int) (linear ? 0 : op->pad_top);
                    int ix = (int) (x * stride + kx) - (int) (linear ? 0 : op->pad_left);

                    if (iy < 0 || ix < 0 || iy >= (int) in->h || ix >= (int) in->w)
                      continue;
                    acc += wt (r, op->weight + ((o * in->c + i) * k + ky) * k + kx) *
                           r->v[op->in[0]][((n * in->c + i) * in->h + iy) * in->w + ix];
                  }
            if (!linear && op->residual != EPD_UNET_NONE)
              acc += r->v[op->residual][idx];
            r->v[op->out][idx] = (linear ? 1.0 : op->alpha) * acc;
          }
}

static void
ref_group_norm (Ref             *r,
                const EpdUnetOp *op)
{
  const EpdUnetValue *v = &r->plan->values[op->in[0]];
  gsize p = (gsize) v->h * v->w, cg = v->c / op->groups, m = cg * p;

  for (gsize n = 0; n < r->batch; n++)
    for (guint g = 0; g < op->groups; g++)
      {
        const double *x = r->v[op->in[0]] + (n * v->c + g * cg) * p;
        double *y = r->v[op->out] + (n * v->c + g * cg) * p;
        double mean = 0.0, var = 0.0;

        for (gsize j = 0; j < m; j++)
          mean += x[j] / m;
        for (gsize j = 0; j < m; j++)
          var += (x[j] - mean) * (x[j] - mean) / m;
        for (gsize j = 0; j < m; j++)
          {
            gsize ch = g * cg + j / p;
            double o = (x[j] - mean) / sqrt (var + op->eps) * wt (r, op->weight + ch) + wt (r, op->bias + ch);

            y[j] = op->silu ? silu (o) : o;
          }
      }
}

static void
ref_pointwise (Ref             *r,
               const EpdUnetOp *op)
{
  const EpdUnetValue *v = &r->plan->values[op->in[0]];
  gsize p = (gsize) v->h * v->w, per = v->c * p;

  for (gsize i = 0; i < r->batch * per; i++)
    {
      double x = r->v[op->in[0]][i], y;
      gsize n = i / per, ch = (i / p) % v->c;
      const double *e = op->in[1] != EPD_UNET_NONE
                        ? r->v[op->in[1]] + n * r->plan->values[op->in[1]].c + op->offset : NULL;

      switch (op->kind)
        {
        case EPD_UNET_OP_SILU: y = silu (x); break;
        case EPD_UNET_OP_ADD: y = op->alpha * (x + r->v[op->in[1]][i]); break;
        case EPD_UNET_OP_AFFINE: y = op->alpha * x + op->beta; break;
        case EPD_UNET_OP_CHANNEL_BIAS: y = x + e[ch]; break;
        case EPD_UNET_OP_SCALE_SHIFT:
        default: y = x * (1.0 + e[ch]) + e[v->c + ch]; break;
        }
      if ((op->kind == EPD_UNET_OP_CHANNEL_BIAS || op->kind == EPD_UNET_OP_SCALE_SHIFT) && op->silu)
        y = silu (y);
      r->v[op->out][i] = y;
    }
}

static void
ref_concat (Ref             *r,
            const EpdUnetOp *op)
{
  gsize a = epd_unet_value_floats (&r->plan->values[op->in[0]]);
  gsize b = epd_unet_value_floats (&r->plan->values[op->in[1]]);

  for (gsize n = 0; n < r->batch; n++)
    {
      memcpy (r->v[op->out] + n * (a + b), r->v[op->in[0]] + n * a, a * sizeof (double));
      memcpy (r->v[op->out] + n * (a + b) + a, r->v[op->in[1]] + n * b, b * sizeof (double));
    }
}

static void
ref_upsample (Ref             *r,
              const EpdUnetOp *op)
{
  const EpdUnetValue *v = &r->plan->values[op->in[0]];

  for (gsize q = 0; q < r->batch * v->c; q++)
    for (guint y = 0; y < 2 * v->h; y++)
      for (guint x = 0; x < 2 * v->w; x++)
        r->v[op->out][(q * 2 * v->h + y) * 2 * v->w + x] = r->v[op->in[0]][(q * v->h + y / 2) * v->w + x / 2];
}

static void
ref_attention (Ref             *r,
               const EpdUnetOp *op)
{
  const EpdUnetValue *v = &r->plan->values[op->in[0]];
  gsize p = (gsize) v->h * v->w, hd = op->head_dim, d = op->heads * hd;
  g_autofree double *s = g_new (double, p);

  for (gsize n = 0; n < r->batch; n++)
    for (gsize j = 0; j < op->heads; j++)
      for (gsize a = 0; a < p; a++)
        {
          const double *q = r->v[op->in[0]] + n * 3 * d * p + j * hd * p;
          const double *k = q + d * p, *vv = q + 2 * d * p;
          double mx = -INFINITY, sum = 0.0;

          for (gsize b = 0; b < p; b++)
            {
              s[b] = 0.0;
              for (gsize e = 0; e < hd; e++)
                s[b] += q[e * p + a] * k[e * p + b];
              s[b] *= op->scale;
              mx = MAX (mx, s[b]);
            }
          for (gsize b = 0; b < p; b++)
            sum += s[b] = exp (s[b] - mx);
          for (gsize e = 0; e < hd; e++)
            {
              double o = 0.0;

              for (gsize b = 0; b < p; b++)
                o += s[b] / sum * vv[e * p + b];
              r->v[op->out][n * d * p + (j * hd + e) * p + a] = o;
            }
        }
}

static void
ref_time_embed (Ref             *r,
                const EpdUnetOp *op)
{
  guint dim = r->plan->values[op->out].c, half = dim / 2;

  for (gsize n = 0; n < r->batch; n++)
    {
      double t = r->v[op->in[0]][n], *row = r->v[op->out] + n * dim;

      for (guint i = 0; i < half; i++)
        {
          double f = exp (-log (10000.0) * i / (half - (double) op->freq_shift));

          row[op->flip_sin_to_cos ? half + i : i] = sin (t * f);
          row[op->flip_sin_to_cos ? i : half + i] = cos (t * f);
        }
      if (dim % 2)
        row[dim - 1] = 0.0;
    }
}

/* The plan's output in float64 for float32 inputs. */
static double *
reference_run (const EpdUnetPlan *plan,
               gsize              batch,
               const float       *input,
               const float       *timesteps)
{
  Ref r = { plan, batch, g_new0 (double *, plan->n_values) };
  double *out;

  for (guint i = 0; i < plan->n_values; i++)
    r.v[i] = g_new0 (double, batch * epd_unet_value_floats (&plan->values[i]));
  for (gsize i = 0; i < batch * epd_unet_value_floats (&plan->values[plan->input]); i++)
    r.v[plan->input][i] = input[i];
  for (gsize i = 0; i < batch; i++)
    r.v[plan->timestep][i] = timesteps[i];
  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];

      switch (op->kind)
        {
        case EPD_UNET_OP_CONV2D:
        case EPD_UNET_OP_LINEAR: ref_conv (&r, op); break;
        case EPD_UNET_OP_GROUP_NORM: ref_group_norm (&r, op); break;
        case EPD_UNET_OP_CONCAT: ref_concat (&r, op); break;
        case EPD_UNET_OP_UPSAMPLE: ref_upsample (&r, op); break;
        case EPD_UNET_OP_ATTENTION: ref_attention (&r, op); break;
        case EPD_UNET_OP_TIME_EMBED: ref_time_embed (&r, op); break;
        default: ref_pointwise (&r, op); break;
        }
    }
  out = g_steal_pointer (&r.v[plan->output]);
  for (guint i = 0; i < plan->n_values; i++)
    g_free (r.v[i]);
  g_free (r.v);
  return out;
}

/* ---- running a plan ------------------------------------------------------------- */

typedef struct {
  float *input;
  float *timesteps;
} Inputs;

static Inputs
make_inputs (const EpdUnetPlan *plan,
             gsize              batch,
             double             scale)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  gsize n = batch * epd_unet_value_floats (&plan->values[plan->input]);
  Inputs in = { g_new (float, n), g_new (float, batch) };

  for (gsize i = 0; i < n; i++)
    in.input[i] = (float) g_rand_double_range (rand, -scale, scale);
  for (gsize i = 0; i < batch; i++)
    in.timesteps[i] = (float) g_rand_double_range (rand, 0.0, 999.0);
  return in;
}

/* A run on other inputs, so that the arena holds none of the values a
 * following run must compute. */
static void
scramble_arena (EpdVkUnet   *vk,
                EpdUnetPlan *plan,
                gsize        batch)
{
  g_autoptr(GError) error = NULL;
  gsize n = batch * epd_unet_value_floats (&plan->values[plan->input]);
  g_autofree float *x = g_new (float, n), *t = g_new (float, batch);
  g_autofree float *out = g_new (float, batch * epd_unet_value_floats (&plan->values[plan->output]));

  for (gsize i = 0; i < n; i++)
    x[i] = (float) ((i % 7) - 3.0);
  for (gsize i = 0; i < batch; i++)
    t[i] = 500.0f + i;
  g_assert_true (epd_vk_unet_run (vk, batch, x, t, out, NULL, &error));
  g_assert_no_error (error);
}

static float *
vulkan_run (EpdVkUnet   *vk,
            EpdUnetPlan *plan,
            gsize        batch,
            Inputs      *in)
{
  g_autoptr(GError) error = NULL;
  float *out = g_new (float, batch * epd_unet_value_floats (&plan->values[plan->output]));

  g_assert_true (epd_vk_unet_run (vk, batch, in->input, in->timesteps, out, NULL, &error));
  g_assert_no_error (error);
  return out;
}

/* Runs the plan on the device and in float64 and returns the relative
 * error; again with one workgroup per dispatch, which must loop over every
 * tile and element and give the same floats. */
static double
check_plan (EpdUnetPlan *plan,
            double       input_scale,
            const char  *what)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkUnet) vk = epd_vk_unet_new (context, plan, &error);
  Inputs in = make_inputs (plan, BATCH, input_scale);
  gsize n = BATCH * epd_unet_value_floats (&plan->values[plan->output]);
  g_autofree float *out = NULL;
  g_autofree double *ref = reference_run (plan, BATCH, in.input, in.timesteps);
  g_autofree double *outd = g_new (double, n);
  double err;

  g_assert_no_error (error);
  out = vulkan_run (vk, plan, BATCH, &in);
  for (gsize i = 0; i < n; i++)
    outd[i] = out[i];
  err = epd_test_relative_error (outd, ref, n);
  g_test_message ("%s: max relative error %.3g", what, err);
  g_assert_cmpfloat (err, <=, TOL);
  g_assert_cmpuint (epd_vk_unet_get_n_submits (vk), ==, 1);
  scramble_arena (vk, plan, BATCH);
  epd_vk_unet_set_max_groups (vk, 1);
  g_clear_pointer (&out, g_free);
  out = vulkan_run (vk, plan, BATCH, &in);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (out[i], ==, (float) outd[i]);
  g_free (in.input);
  g_free (in.timesteps);
  g_clear_pointer (&vk, epd_vk_unet_free);
  epd_test_vk_assert_no_messages (context);
  return err;
}

/* ---- the ops -------------------------------------------------------------------- */

static guint
out_of (EpdUnetOp *op)
{
  return op->out;
}

/* 3x3 with padding 1, a residual from a 1x1 and alpha; 70 output channels
 * and 3 x 81 columns cross the 64 x 64 tiles, K = 45 the 16-deep slices. */
static void
test_conv (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 5, 9, 9), t = add_value (b, 1, 1, 1);
  guint r = out_of (add_conv (b, x, 70, 1, 1, 0, 0, 0, 0));
  EpdUnetOp *conv = add_conv (b, x, 70, 3, 1, 1, 1, 1, 1);
  guint y = conv->out;
  g_autoptr(EpdUnetPlan) plan = NULL;

  conv->residual = r;
  conv->alpha = 0.7f;
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 1.0, "conv 3x3 + 1x1 residual");
}

/* Strided: diffusers' asymmetric downsample padding (0, 0, 1, 1) on an even
 * side, then symmetric padding 1 on an odd one. */
static void
test_conv_strided (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 4, 8, 8), t = add_value (b, 1, 1, 1);
  guint d = out_of (add_conv (b, x, 6, 3, 2, 0, 0, 1, 1));
  guint e = out_of (add_conv (b, d, 5, 3, 1, 0, 0, 0, 0));   /* 4x4 -> 2x2, no padding */
  guint u = add_unary (b, EPD_UNET_OP_UPSAMPLE, e);
  guint y;
  g_autoptr(EpdUnetPlan) plan = NULL;

  g_assert_cmpuint (g_array_index (b->values, EpdUnetValue, d).h, ==, 4);
  y = out_of (add_conv (b, u, 3, 3, 2, 1, 1, 1, 1));           /* 4x4 -> 2x2 */
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 1.0, "strided conv, asymmetric and symmetric padding");
}

static void
test_conv_odd (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 3, 7, 7), t = add_value (b, 1, 1, 1);
  guint y = out_of (add_conv (b, x, 4, 3, 2, 1, 1, 1, 1));      /* 7x7 -> 4x4 */
  g_autoptr(EpdUnetPlan) plan = builder_finish (b, x, t, y);

  check_plan (plan, 1.0, "strided conv on an odd side");
}

/* Group norm on an offset input (mean 3: the variance must not cancel), then
 * with SiLU; 6 x 7 x 7 / 2 = 147 values per group. */
static void
test_group_norm (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 6, 7, 7), t = add_value (b, 1, 1, 1);
  guint a = add_value (b, 6, 7, 7), g = add_value (b, 6, 7, 7), y = add_value (b, 6, 7, 7);
  EpdUnetOp *op;
  g_autoptr(EpdUnetPlan) plan = NULL;

  op = add_op (b, EPD_UNET_OP_AFFINE, x, a);
  op->alpha = 2.0f;
  op->beta = 3.0f;
  op = add_op (b, EPD_UNET_OP_GROUP_NORM, a, g);
  op->groups = 2;
  op->eps = 1e-5f;
  op->weight = add_weights (b, 6, 1.5);
  op->bias = add_weights (b, 6, 0.5);
  op = add_op (b, EPD_UNET_OP_GROUP_NORM, g, y);
  op->groups = 3;
  op->eps = 1e-6f;
  op->silu = TRUE;
  op->weight = add_weights (b, 6, 1.5);
  op->bias = add_weights (b, 6, 0.5);
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 1.0, "affine, group norm, group norm + SiLU");
}

/* SiLU and a scaled sum of two values. */
static void
test_pointwise (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 3, 5, 5), t = add_value (b, 1, 1, 1);
  guint s = add_unary (b, EPD_UNET_OP_SILU, x), y = add_value (b, 3, 5, 5);
  EpdUnetOp *op = add_op (b, EPD_UNET_OP_ADD, x, y);
  g_autoptr(EpdUnetPlan) plan = NULL;

  op->in[1] = s;
  op->alpha = 0.5f;
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 4.0, "SiLU, add");
}

/* The time embedding (host side), a linear layer to a vector, and its use
 * as channel bias and as scale and shift, with an offset and SiLU. */
static void
test_time_vector (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 4, 3, 3), t = add_value (b, 1, 1, 1);
  guint e = add_value (b, 11, 1, 1), v = add_value (b, 10, 1, 1);
  guint cb = add_value (b, 4, 3, 3), y = add_value (b, 4, 3, 3);
  EpdUnetOp *op;
  g_autoptr(EpdUnetPlan) plan = NULL;

  op = add_op (b, EPD_UNET_OP_TIME_EMBED, t, e);
  op->flip_sin_to_cos = TRUE;
  op->freq_shift = 1.0f;
  op = add_op (b, EPD_UNET_OP_LINEAR, e, v);
  op->weight = add_weights (b, 10 * 11, 0.3);
  op->bias = add_weights (b, 10, 0.3);
  op = add_op (b, EPD_UNET_OP_CHANNEL_BIAS, x, cb);
  op->in[1] = v;
  op->offset = 1;
  op->silu = TRUE;
  op = add_op (b, EPD_UNET_OP_SCALE_SHIFT, cb, y);
  op->in[1] = v;
  op->offset = 2;
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 1.0, "time embedding, linear, channel bias, scale-shift");
}

static void
test_time_embed (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 1, 2, 2), t = add_value (b, 1, 1, 1), e = add_value (b, 9, 1, 1);
  EpdUnetOp *op = add_op (b, EPD_UNET_OP_TIME_EMBED, t, e);
  g_autoptr(EpdUnetPlan) plan = NULL;

  op->freq_shift = 0.0f;
  plan = builder_finish (b, x, t, e);
  check_plan (plan, 1.0, "time embedding, odd dimension");
}

/* Nearest upsampling and a channel concatenation of values that differ. */
static void
test_concat_upsample (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 3, 4, 4), t = add_value (b, 1, 1, 1);
  guint u = add_unary (b, EPD_UNET_OP_UPSAMPLE, x);
  guint a = add_value (b, 3, 8, 8), y = add_value (b, 6, 8, 8);
  EpdUnetOp *op;
  g_autoptr(EpdUnetPlan) plan = NULL;

  op = add_op (b, EPD_UNET_OP_AFFINE, u, a);
  op->alpha = -1.0f;
  op->beta = 0.25f;
  op = add_op (b, EPD_UNET_OP_CONCAT, a, y);
  op->in[1] = u;
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 1.0, "upsample, concat");
}

/* Attention over 9 x 9 = 81 tokens (two 64-wide tiles), two heads of 5. */
static void
test_attention (void)
{
  Builder *b = builder_new ();
  guint heads = 2, hd = 5;
  guint x = add_value (b, 3 * heads * hd, 9, 9), t = add_value (b, 1, 1, 1);
  guint y = add_value (b, heads * hd, 9, 9);
  EpdUnetOp *op = add_op (b, EPD_UNET_OP_ATTENTION, x, y);
  g_autoptr(EpdUnetPlan) plan = NULL;

  op->heads = heads;
  op->head_dim = hd;
  op->scale = (float) (1.0 / sqrt (hd));
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 2.0, "attention, 2 heads");
}

static void
test_attention_one_head (void)
{
  Builder *b = builder_new ();
  guint x = add_value (b, 3 * 8, 4, 4), t = add_value (b, 1, 1, 1);
  guint y = add_value (b, 8, 4, 4);
  EpdUnetOp *op = add_op (b, EPD_UNET_OP_ATTENTION, x, y);
  g_autoptr(EpdUnetPlan) plan = NULL;

  op->heads = 1;
  op->head_dim = 8;
  op->scale = (float) (1.0 / sqrt (8));
  plan = builder_finish (b, x, t, y);
  check_plan (plan, 2.0, "attention, 1 head");
}

/* A kernel size the shaders do not cover is refused, not run wrongly. */
static void
test_unsupported (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  Builder *b = builder_new ();
  guint x = add_value (b, 2, 6, 6), t = add_value (b, 1, 1, 1);
  guint y = out_of (add_conv (b, x, 2, 5, 1, 2, 2, 2, 2));
  g_autoptr(EpdUnetPlan) plan = builder_finish (b, x, t, y);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkUnet) vk = epd_vk_unet_new (context, plan, &error);

  g_assert_null (vk);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "kernel size"));
}

/* ---- the fixture networks ------------------------------------------------------- */

static const char *const fixtures[] = { "grey-attn", "rgb/unet", "f32-sample" };

/* The raw network on the device against the float64 torch reference and the
 * float64 interpreter above; in one pass and in passes of 2 samples (the
 * same arithmetic per output: equal bit for bit); one submission per run. */
static void
test_fixture_network (gconstpointer data)
{
  const char *name = data;
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load (name);
  EpdUnetPlan *plan = epd_unet_get_plan (unet);
  g_autoptr(EpdArray) x = epd_test_unet_reference (name, "net_x.npy");
  g_autoptr(EpdArray) t = epd_test_unet_reference (name, "net_t.npy");
  g_autoptr(EpdArray) ref = epd_test_unet_reference (name, "net_out.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkUnet) vk = epd_vk_unet_new (context, plan, &error);
  gsize n = epd_array_size (x), b = x->shape[0];
  Inputs in = { g_new (float, n), g_new (float, b) };
  g_autofree float *one = NULL, *split = NULL;
  g_autofree double *outd = g_new (double, n), *interp = NULL;
  double err_torch, err_interp;

  g_assert_no_error (error);
  g_assert_cmpuint (b, >=, 3);
  for (gsize i = 0; i < n; i++)
    in.input[i] = (float) x->data[i];
  for (gsize i = 0; i < b; i++)
    in.timesteps[i] = (float) t->data[i];
  one = vulkan_run (vk, plan, b, &in);
  g_assert_cmpuint (epd_vk_unet_get_pass_samples (vk), ==, b);
  for (gsize i = 0; i < n; i++)
    outd[i] = one[i];
  interp = reference_run (plan, b, in.input, in.timesteps);
  err_torch = epd_test_relative_error (outd, ref->data, n);
  err_interp = epd_test_relative_error (outd, interp, n);
  g_test_message ("%s: Vulkan against torch float64 %.3g, against the float64 plan %.3g",
                  name, err_torch, err_interp);
  g_assert_cmpfloat (err_torch, <=, TOL);
  g_assert_cmpfloat (err_interp, <=, TOL);

  /* Passes of 2 samples: the same outputs, still one submission per run. */
  epd_vk_unet_set_max_pass_samples (vk, 2);
  scramble_arena (vk, plan, b);
  split = vulkan_run (vk, plan, b, &in);
  g_assert_cmpuint (epd_vk_unet_get_pass_samples (vk), ==, 2);
  g_assert_cmpmem (split, n * sizeof (float), one, n * sizeof (float));
  g_assert_cmpuint (epd_vk_unet_get_n_submits (vk), ==, 3);
  g_free (in.input);
  g_free (in.timesteps);
  g_clear_pointer (&vk, epd_vk_unet_free);
  epd_test_vk_assert_no_messages (context);
}

/* D(x, sigma) through EpdVkDenoiser against the CPU path of the same
 * EpdUnet and the torch reference: one submission per call. */
static void
test_fixture_denoise (gconstpointer data)
{
  const char *name = data;
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load (name);
  g_autoptr(EpdArray) x = epd_test_unet_reference (name, "x.npy");
  g_autoptr(EpdArray) sigma = epd_test_unet_reference (name, "sigma.npy");
  g_autoptr(EpdArray) ref = epd_test_unet_reference (name, "denoised.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error);
  gsize n = epd_array_size (x), b = x->shape[0];
  guint c = x->shape[1], p = x->shape[2] * x->shape[3];
  g_autofree double *rows = g_new (double, n), *ref_rows = g_new (double, n);
  g_autofree double *on_vk = g_new (double, n), *on_cpu = g_new (double, n);
  double err_cpu, err_torch, lo, hi, vk_lo, vk_hi;

  g_assert_no_error (error);
  g_assert_nonnull (strstr (epd_denoiser_describe (EPD_DENOISER (vk)), "Vulkan"));
  /* The model's trained sigma range, as the CPU model reports it. */
  g_assert_true (epd_denoiser_get_sigma_range (EPD_DENOISER (unet), &lo, &hi));
  g_assert_true (epd_denoiser_get_sigma_range (EPD_DENOISER (vk), &vk_lo, &vk_hi));
  g_assert_cmpfloat (vk_lo, ==, lo);
  g_assert_cmpfloat (vk_hi, ==, hi);
  epd_test_nchw_to_rows (x->data, b, c, p, rows);
  epd_test_nchw_to_rows (ref->data, b, c, p, ref_rows);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), rows, sigma->data, b, on_vk, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 1);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), rows, sigma->data, b, on_cpu, &error));
  g_assert_no_error (error);
  err_cpu = epd_test_relative_error (on_vk, on_cpu, n);
  err_torch = epd_test_relative_error (on_vk, ref_rows, n);
  g_test_message ("%s: D on Vulkan against the CPU path %.3g, against torch float64 %.3g",
                  name, err_cpu, err_torch);
  g_assert_cmpfloat (err_cpu, <=, TOL);
  g_assert_cmpfloat (err_torch, <=, TOL);
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  /* A second call: one more submission, the same result. */
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), rows, sigma->data, b, on_cpu, &error));
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 2);
  g_assert_cmpmem (on_cpu, n * sizeof (double), on_vk, n * sizeof (double));
  g_clear_object (&vk);
  epd_test_vk_assert_no_messages (context);
}

/* Rows the CPU path refuses are refused here too, without leaving the device. */
static void
test_denoise_bad_rows (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error);
  guint d = epd_denoiser_get_dim (EPD_DENOISER (unet));
  g_autofree double *x = g_new0 (double, d), *out = g_new (double, d);
  double sigma = 0.0;

  g_assert_no_error (error);
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (vk), x, &sigma, 1, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_clear_error (&error);
  sigma = 1.0;
  x[d - 1] = NAN;
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (vk), x, &sigma, 1, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 0);
  g_clear_object (&vk);
  epd_test_vk_assert_no_messages (context);
}

/* A lost device moves the UNet to its CPU path: the same D as the CPU model. */
static void
test_denoise_fallback (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("rgb/unet");
  g_autoptr(EpdArray) x = epd_test_unet_reference ("rgb/unet", "x.npy");
  g_autoptr(EpdArray) sigma = epd_test_unet_reference ("rgb/unet", "sigma.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error);
  gsize n = epd_array_size (x), b = x->shape[0];
  g_autofree double *on_vk = g_new (double, n), *on_cpu = g_new (double, n);

  g_assert_no_error (error);
  epd_vk_context_simulate_loss (context);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, on_vk, &error));
  g_assert_no_error (error);
  g_assert_true (epd_vk_denoiser_fell_back (vk));
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x->data, sigma->data, b, on_cpu, &error));
  g_assert_cmpmem (on_vk, n * sizeof (double), on_cpu, n * sizeof (double));
  g_clear_object (&vk);
  epd_test_vk_assert_no_messages (context);
}

/* A failure other than a lost device costs one call (the CPU path's exact
 * result); the next call is on the device again, with a new arena. */
static void
test_denoise_failure_per_call (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  g_autoptr(EpdArray) x = epd_test_unet_reference ("grey-attn", "x.npy");
  g_autoptr(EpdArray) sigma = epd_test_unet_reference ("grey-attn", "sigma.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error);
  gsize n = epd_array_size (x), b = x->shape[0];
  g_autofree double *first = g_new (double, n), *got = g_new (double, n), *on_cpu = g_new (double, n);

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, first, &error));
  epd_vk_context_simulate_failure (context, VK_ERROR_OUT_OF_DEVICE_MEMORY);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, got, &error));
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x->data, sigma->data, b, on_cpu, &error));
  g_assert_cmpmem (got, n * sizeof (double), on_cpu, n * sizeof (double));
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, got, &error));
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 2);
  g_assert_cmpmem (got, n * sizeof (double), first, n * sizeof (double));
  g_clear_object (&vk);
  epd_test_vk_assert_no_messages (context);
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
run_cancel_loop (gpointer data)
{
  g_main_context_push_thread_default (data);
  g_main_context_iteration (data, TRUE);
  g_main_context_pop_thread_default (data);
  return NULL;
}

/* A hung device: the thread's cancellable ends the wait (not a device
 * failure); the next call waits for the abandoned submission, then runs. */
static void
test_denoise_cancel_hung (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  g_autoptr(EpdArray) x = epd_test_unet_reference ("grey-attn", "x.npy");
  g_autoptr(EpdArray) sigma = epd_test_unet_reference ("grey-attn", "sigma.npy");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) loop_context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (200);
  gsize n = epd_array_size (x), b = x->shape[0];
  g_autofree double *got = g_new (double, n), *on_cpu = g_new (double, n);
  GThread *canceller;

  g_assert_no_error (error);
  g_source_set_callback (timeout, cancel_later, cancellable, NULL);
  g_source_attach (timeout, loop_context);
  canceller = g_thread_new ("cancel", run_cancel_loop, loop_context);
  epd_vk_context_simulate_hang (context, TRUE);
  g_cancellable_push_current (cancellable);
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, got, &error));
  g_cancellable_pop_current (cancellable);
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  epd_vk_context_simulate_hang (context, FALSE);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x->data, sigma->data, b, got, &error));
  g_assert_no_error (error);
  /* Completed submissions: the cancelled one is not counted. */
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 1);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x->data, sigma->data, b, on_cpu, &error));
  g_assert_cmpfloat (epd_test_relative_error (got, on_cpu, n), <=, TOL);
  g_clear_object (&vk);
  epd_test_vk_assert_no_messages (context);
}

/* One sample's activations above the device's largest buffer: refused at
 * creation with a capacity error (the caller falls back to the CPU). */
static void
test_buffer_limit (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("rgb/unet");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkUnet) vk = NULL;

  epd_vk_context_limit_buffer_range (context, 4096);
  vk = epd_vk_unet_new (context, epd_unet_get_plan (unet), &error);
  g_assert_null (vk);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_assert_nonnull (strstr (error->message, "largest storage buffer"));
}

/* The discrete-GPU path on any device: device-local buffers filled through
 * staging copies, the weights' upload included (none for a plan without). */
static void
test_staging (void)
{
  g_setenv ("EPD_VK_STAGING", "1", TRUE);
  test_pointwise ();
  test_fixture_network ("grey-attn");
  g_unsetenv ("EPD_VK_STAGING");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk-unet/op/conv", test_conv);
  g_test_add_func ("/vk-unet/op/conv-strided", test_conv_strided);
  g_test_add_func ("/vk-unet/op/conv-odd", test_conv_odd);
  g_test_add_func ("/vk-unet/op/group-norm", test_group_norm);
  g_test_add_func ("/vk-unet/op/pointwise", test_pointwise);
  g_test_add_func ("/vk-unet/op/time-vector", test_time_vector);
  g_test_add_func ("/vk-unet/op/time-embed", test_time_embed);
  g_test_add_func ("/vk-unet/op/concat-upsample", test_concat_upsample);
  g_test_add_func ("/vk-unet/op/attention", test_attention);
  g_test_add_func ("/vk-unet/op/attention-one-head", test_attention_one_head);
  g_test_add_func ("/vk-unet/unsupported", test_unsupported);
  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *net = g_strdup_printf ("/vk-unet/network/%s", fixtures[i]);
      g_autofree char *den = g_strdup_printf ("/vk-unet/denoise/%s", fixtures[i]);

      g_test_add_data_func (net, fixtures[i], test_fixture_network);
      g_test_add_data_func (den, fixtures[i], test_fixture_denoise);
    }
  g_test_add_func ("/vk-unet/denoise/bad-rows", test_denoise_bad_rows);
  g_test_add_func ("/vk-unet/denoise/fallback", test_denoise_fallback);
  g_test_add_func ("/vk-unet/staging", test_staging);
  g_test_add_func ("/vk-unet/denoise/failure-per-call", test_denoise_failure_per_call);
  g_test_add_func ("/vk-unet/denoise/cancel-hung", test_denoise_cancel_hung);
  g_test_add_func ("/vk-unet/buffer-limit", test_buffer_limit);
  return g_test_run ();
}
