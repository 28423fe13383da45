/* SPDX-License-Identifier: MIT
 * epd-unet-compile.c: a UNet2DModel config and its tensors -> an EpdUnetPlan.
 *
 * The network is walked as diffusers' UNet2DModel.forward runs it
 * (unet_2d.py, unet_2d_blocks.py, resnet.py, attention_processor.py), each
 * module taking its tensors by diffusers' names with the shapes its
 * constructor gives them. */
#include "epd-unet-private.h"

#include <math.h>
#include <string.h>

typedef struct {
  const EpdUnetConfig *config;
  EpdSafetensors      *tensors;
  GArray              *values;     /* EpdUnetValue */
  GArray              *ops;        /* EpdUnetOp */
  float               *weights;
  gsize                n_weights;
  gsize                capacity;
  GHashTable          *used;       /* tensor names taken */
  GError              *error;
} Builder;

#define FAILED(b) ((b)->error != NULL)

/* ---- the plan ---------------------------------------------------------------- */

EpdUnetPlan *
epd_unet_plan_ref (EpdUnetPlan *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
epd_unet_plan_unref (EpdUnetPlan *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  for (guint i = 0; i < self->n_ops; i++)
    g_free (self->ops[i].name);
  g_free (self->ops);
  g_free (self->values);
  g_free (self->slot_floats);
  g_free (self->weights);
  g_free (self);
}

gsize
epd_unet_value_floats (const EpdUnetValue *value)
{
  return (gsize) value->c * value->h * value->w;
}

gsize
epd_unet_plan_attention_scratch (const EpdUnetPlan *self)
{
  gsize most = 0;

  for (guint i = 0; i < self->n_ops; i++)
    if (self->ops[i].kind == EPD_UNET_OP_ATTENTION)
      {
        const EpdUnetValue *v = &self->values[self->ops[i].in[0]];
        gsize p = (gsize) v->h * v->w;

        most = MAX (most, self->ops[i].heads * p * p);
      }
  return most;
}

const char *
epd_unet_op_kind_to_string (EpdUnetOpKind kind)
{
  static const char *const names[] = {
    [EPD_UNET_OP_CONV2D] = "conv2d",
    [EPD_UNET_OP_GROUP_NORM] = "group_norm",
    [EPD_UNET_OP_SILU] = "silu",
    [EPD_UNET_OP_ADD] = "add",
    [EPD_UNET_OP_CHANNEL_BIAS] = "channel_bias",
    [EPD_UNET_OP_SCALE_SHIFT] = "scale_shift",
    [EPD_UNET_OP_CONCAT] = "concat",
    [EPD_UNET_OP_UPSAMPLE] = "upsample",
    [EPD_UNET_OP_LINEAR] = "linear",
    [EPD_UNET_OP_ATTENTION] = "attention",
    [EPD_UNET_OP_TIME_EMBED] = "time_embed",
    [EPD_UNET_OP_AFFINE] = "affine",
  };

  return kind < G_N_ELEMENTS (names) ? names[kind] : "?";
}

/* ---- values, ops, tensors ------------------------------------------------ */

static guint
value_new (Builder *b,
           guint    c,
           guint    h,
           guint    w)
{
  EpdUnetValue v = { c, h, w, EPD_UNET_NONE };

  g_array_append_val (b->values, v);
  return b->values->len - 1;
}

static const EpdUnetValue *
value_get (Builder *b,
           guint    id)
{
  return &g_array_index (b->values, EpdUnetValue, id);
}

static EpdUnetOp *
op_new (Builder       *b,
        EpdUnetOpKind  kind,
        const char    *name,
        guint          in,
        guint          out)
{
  EpdUnetOp op = {
    .kind = kind, .out = out, .in = { in, EPD_UNET_NONE }, .residual = EPD_UNET_NONE,
    .weight = EPD_UNET_NONE, .bias = EPD_UNET_NONE, .alpha = 1.0f, .name = g_strdup (name),
  };

  g_array_append_val (b->ops, op);
  return &g_array_index (b->ops, EpdUnetOp, b->ops->len - 1);
}

static char *
shape_text (guint         ndim,
            const gsize  *shape)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GSIZE_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Appends tensor name (with exactly the shape given) to the weights; its offset. */
static gsize
take (Builder    *b,
      const char *name,
      guint       ndim,
      ...)
{
  const EpdSafetensorsEntry *e;
  gsize shape[4], offset = b->n_weights;
  gboolean same;
  va_list ap;

  if (FAILED (b))
    return EPD_UNET_NONE;
  va_start (ap, ndim);
  for (guint i = 0; i < ndim; i++)
    shape[i] = va_arg (ap, guint);
  va_end (ap);
  e = epd_safetensors_lookup (b->tensors, name);
  if (e == NULL)
    {
      g_set_error (&b->error, EPD_ERROR, EPD_ERROR_SHAPE, "%s: tensor '%s' is missing (the config needs it)",
                   epd_safetensors_get_source (b->tensors), name);
      return EPD_UNET_NONE;
    }
  same = e->ndim == ndim;
  for (guint i = 0; same && i < ndim; i++)
    same = e->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *want = shape_text (ndim, shape), *have = shape_text (e->ndim, e->shape);

      g_set_error (&b->error, EPD_ERROR, EPD_ERROR_SHAPE, "%s: tensor '%s' has shape %s, the config needs %s",
                   epd_safetensors_get_source (b->tensors), name, have, want);
      return EPD_UNET_NONE;
    }
  if (g_hash_table_contains (b->used, name) || b->n_weights + e->n_elements > b->capacity)
    {
      g_set_error (&b->error, EPD_ERROR, EPD_ERROR_SHAPE, "%s: tensor '%s' is needed twice",
                   epd_safetensors_get_source (b->tensors), name);
      return EPD_UNET_NONE;
    }
  if (!epd_safetensors_read_float (b->tensors, e, b->weights + b->n_weights, &b->error))
    return EPD_UNET_NONE;
  g_hash_table_add (b->used, g_strdup (name));
  b->n_weights += e->n_elements;
  return offset;
}

static gsize
take_vector (Builder    *b,
             const char *prefix,
             const char *what,
             guint       n)
{
  g_autofree char *name = g_strconcat (prefix, ".", what, NULL);

  return take (b, name, 1, n);
}

static gboolean
check_groups (Builder    *b,
              const char *name,
              guint       channels,
              guint       groups,
              const char *key)
{
  if (FAILED (b) || channels % groups == 0)
    return !FAILED (b);
  g_set_error (&b->error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
               "config.json: \"%s\": %u groups do not divide the %u channels of %s", key, groups, channels, name);
  return FALSE;
}

/* ---- layers --------------------------------------------------------------------- */

static guint
conv (Builder    *b,
      const char *name,
      guint       in,
      guint       cout,
      guint       k,
      guint       stride,
      guint       pad_lo,
      guint       pad_hi,
      guint       residual,
      float       alpha)
{
  g_autofree char *wname = g_strconcat (name, ".weight", NULL);
  const EpdUnetValue *v = value_get (b, in);
  guint cin = v->c, h = v->h, w = v->w, out;
  gsize weight = take (b, wname, 4, cout, cin, k, k), bias = take_vector (b, name, "bias", cout);
  EpdUnetOp *op;

  if (FAILED (b))
    return EPD_UNET_NONE;
  out = value_new (b, cout, (h + pad_lo + pad_hi - k) / stride + 1, (w + pad_lo + pad_hi - k) / stride + 1);
  op = op_new (b, EPD_UNET_OP_CONV2D, name, in, out);
  op->weight = weight;
  op->bias = bias;
  op->kernel = k;
  op->stride = stride;
  op->pad_top = op->pad_left = pad_lo;
  op->pad_bottom = op->pad_right = pad_hi;
  op->residual = residual;
  op->alpha = alpha;
  return out;
}

static guint
group_norm (Builder    *b,
            const char *name,
            guint       in,
            guint       groups,
            const char *groups_key,
            gboolean    silu)
{
  const EpdUnetValue *v = value_get (b, in);
  guint c = v->c, out;
  gsize weight, bias;
  EpdUnetOp *op;

  if (!check_groups (b, name, c, groups, groups_key))
    return EPD_UNET_NONE;
  weight = take_vector (b, name, "weight", c);
  bias = take_vector (b, name, "bias", c);
  if (FAILED (b))
    return EPD_UNET_NONE;
  out = value_new (b, c, v->h, v->w);
  op = op_new (b, EPD_UNET_OP_GROUP_NORM, name, in, out);
  op->weight = weight;
  op->bias = bias;
  op->groups = groups;
  op->eps = (float) b->config->norm_eps;
  op->silu = silu;
  return out;
}

static guint
linear (Builder    *b,
        const char *name,
        guint       in,
        guint       cout)
{
  g_autofree char *wname = g_strconcat (name, ".weight", NULL);
  guint cin = value_get (b, in)->c, out;
  gsize weight = take (b, wname, 2, cout, cin), bias = take_vector (b, name, "bias", cout);
  EpdUnetOp *op;

  if (FAILED (b))
    return EPD_UNET_NONE;
  out = value_new (b, cout, 1, 1);
  op = op_new (b, EPD_UNET_OP_LINEAR, name, in, out);
  op->weight = weight;
  op->bias = bias;
  return out;
}

static guint
unary (Builder       *b,
       EpdUnetOpKind  kind,
       const char    *name,
       guint          in)
{
  const EpdUnetValue *v = value_get (b, in);
  guint out;

  if (FAILED (b))
    return EPD_UNET_NONE;
  out = value_new (b, v->c, v->h, v->w);
  op_new (b, kind, name, in, out);
  return out;
}

static guint
binary (Builder       *b,
        EpdUnetOpKind  kind,
        const char    *name,
        guint          x,
        guint          y,
        guint          c)
{
  const EpdUnetValue *v = value_get (b, x);
  guint out;

  if (FAILED (b))
    return EPD_UNET_NONE;
  out = value_new (b, c, v->h, v->w);
  op_new (b, kind, name, x, out)->in[1] = y;
  return out;
}

/* ResnetBlock2D: norm1, silu, conv1, + time embedding, norm2, silu, conv2,
 * (shortcut + h) / output_scale_factor. */
static guint
resnet (Builder    *b,
        const char *name,
        guint       in,
        guint       temb_silu,
        guint       cout,
        float       scale)
{
  const EpdUnetConfig *c = b->config;
  g_autofree char *n1 = g_strconcat (name, ".norm1", NULL), *c1 = g_strconcat (name, ".conv1", NULL);
  g_autofree char *n2 = g_strconcat (name, ".norm2", NULL), *c2 = g_strconcat (name, ".conv2", NULL);
  g_autofree char *tp = g_strconcat (name, ".time_emb_proj", NULL);
  g_autofree char *sc = g_strconcat (name, ".conv_shortcut", NULL);
  guint h, t, shortcut = in;

  h = group_norm (b, n1, in, c->norm_num_groups, "norm_num_groups", TRUE);
  h = FAILED (b) ? EPD_UNET_NONE : conv (b, c1, h, cout, 3, 1, 1, 1, EPD_UNET_NONE, 1.0f);
  t = FAILED (b) ? EPD_UNET_NONE : linear (b, tp, temb_silu, c->scale_shift ? 2 * cout : cout);
  if (FAILED (b))
    return EPD_UNET_NONE;
  if (c->scale_shift)
    {
      h = group_norm (b, n2, h, c->norm_num_groups, "norm_num_groups", FALSE);
      h = binary (b, EPD_UNET_OP_SCALE_SHIFT, tp, h, t, cout);
    }
  else
    {
      h = binary (b, EPD_UNET_OP_CHANNEL_BIAS, tp, h, t, cout);
      h = FAILED (b) ? EPD_UNET_NONE : group_norm (b, n2, h, c->norm_num_groups, "norm_num_groups", TRUE);
    }
  if (FAILED (b))
    return EPD_UNET_NONE;
  if (c->scale_shift)
    g_array_index (b->ops, EpdUnetOp, b->ops->len - 1).silu = TRUE;
  if (value_get (b, in)->c != cout)
    shortcut = conv (b, sc, in, cout, 1, 1, 0, 0, EPD_UNET_NONE, 1.0f);
  if (FAILED (b))
    return EPD_UNET_NONE;
  return conv (b, c2, h, cout, 3, 1, 1, 1, shortcut, 1.0f / scale);
}

/* Current or legacy attention names (to_q / query, ..., to_out.0 / proj_attn):
 * the current one unless only the legacy one is present. */
static char *
attention_name (Builder    *b,
                const char *name,
                const char *current,
                const char *legacy)
{
  g_autofree char *cur = g_strdup_printf ("%s.%s", name, current);
  g_autofree char *old = g_strdup_printf ("%s.%s", name, legacy);
  g_autofree char *cur_w = g_strconcat (cur, ".weight", NULL);
  g_autofree char *old_w = g_strconcat (old, ".weight", NULL);

  if (epd_safetensors_lookup (b->tensors, cur_w) == NULL && epd_safetensors_lookup (b->tensors, old_w) != NULL)
    return g_steal_pointer (&old);
  return g_steal_pointer (&cur);
}

/* Attention (residual_connection, bias, one or several heads): optional
 * group norm, q/k/v, softmax(q k^T / sqrt(d)) v, to_out.0, (+ x) / rescale. */
static guint
attention (Builder    *b,
           const char *name,
           guint       in,
           guint       head_dim,
           guint       groups,
           const char *groups_key,
           float       rescale)
{
  g_autofree char *gn = g_strconcat (name, ".group_norm", NULL);
  g_autofree char *q = attention_name (b, name, "to_q", "query");
  g_autofree char *k = attention_name (b, name, "to_k", "key");
  g_autofree char *v = attention_name (b, name, "to_v", "value");
  g_autofree char *o = attention_name (b, name, "to_out.0", "proj_attn");
  g_autofree char *qw = g_strconcat (q, ".weight", NULL), *kw = g_strconcat (k, ".weight", NULL);
  g_autofree char *vw = g_strconcat (v, ".weight", NULL);
  const EpdUnetValue *x = value_get (b, in);
  guint c = x->c, hgt = x->h, wid = x->w, heads = c / head_dim, inner = heads * head_dim, h = in, qkv, a;
  gsize weight, bias;
  EpdUnetOp *op;

  if (heads == 0)
    {
      g_set_error (&b->error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "config.json: \"attention_head_dim\": %u is larger than the %u channels of %s", head_dim, c, name);
      return EPD_UNET_NONE;
    }
  if (groups != 0)
    h = group_norm (b, gn, in, groups, groups_key, FALSE);
  /* q, k and v stacked into one 1x1 convolution: weights then biases, each in order */
  weight = take (b, qw, 2, inner, c);
  take (b, kw, 2, inner, c);
  take (b, vw, 2, inner, c);
  bias = take_vector (b, q, "bias", inner);
  take_vector (b, k, "bias", inner);
  take_vector (b, v, "bias", inner);
  if (FAILED (b))
    return EPD_UNET_NONE;
  qkv = value_new (b, 3 * inner, hgt, wid);
  op = op_new (b, EPD_UNET_OP_CONV2D, name, h, qkv);
  op->weight = weight;
  op->bias = bias;
  op->kernel = op->stride = 1;
  a = value_new (b, inner, hgt, wid);
  op = op_new (b, EPD_UNET_OP_ATTENTION, name, qkv, a);
  op->heads = heads;
  op->head_dim = head_dim;
  op->scale = (float) (1.0 / sqrt ((double) head_dim));
  /* to_out.0 is a Linear [c][inner]: as a 1x1 convolution [c][inner][1][1] */
  {
    g_autofree char *ow = g_strconcat (o, ".weight", NULL);
    gsize ow_off = take (b, ow, 2, c, inner), ob_off = take_vector (b, o, "bias", c);
    guint out;

    if (FAILED (b))
      return EPD_UNET_NONE;
    out = value_new (b, c, hgt, wid);
    op = op_new (b, EPD_UNET_OP_CONV2D, o, a, out);
    op->weight = ow_off;
    op->bias = ob_off;
    op->kernel = op->stride = 1;
    op->residual = in;
    op->alpha = 1.0f / rescale;
    return out;
  }
}

/* ---- blocks ---------------------------------------------------------------------- */

static guint
head_dim_for (const EpdUnetConfig *c,
              guint                channels)
{
  return c->attention_head_dim ? c->attention_head_dim : channels;
}

/* DownBlock2D / AttnDownBlock2D; pushes every output onto skips. */
static guint
down_block (Builder *b,
            guint    i,
            guint    x,
            guint    temb_silu,
            GArray  *skips)
{
  const EpdUnetConfig *c = b->config;
  guint cout = c->block_out_channels[i];

  for (guint j = 0; j < c->layers_per_block && !FAILED (b); j++)
    {
      g_autofree char *r = g_strdup_printf ("down_blocks.%u.resnets.%u", i, j);
      g_autofree char *a = g_strdup_printf ("down_blocks.%u.attentions.%u", i, j);

      x = resnet (b, r, x, temb_silu, cout, 1.0f);
      if (c->down_attention[i] && !FAILED (b))
        x = attention (b, a, x, head_dim_for (c, cout), c->norm_num_groups, "norm_num_groups", 1.0f);
      g_array_append_val (skips, x);
    }
  if (i + 1 < c->n_blocks && !FAILED (b))
    {
      g_autofree char *d = g_strdup_printf ("down_blocks.%u.downsamplers.0.conv", i);
      guint p = c->downsample_padding;

      /* padding 0: diffusers pads right and bottom by one before the conv */
      x = conv (b, d, x, cout, 3, 2, p, p ? p : 1, EPD_UNET_NONE, 1.0f);
      g_array_append_val (skips, x);
    }
  return x;
}

static guint
mid_block (Builder *b,
           guint    x,
           guint    temb_silu)
{
  const EpdUnetConfig *c = b->config;
  guint ch = c->block_out_channels[c->n_blocks - 1];
  float scale = (float) c->mid_block_scale_factor;
  /* UNetMidBlock2D: attn_groups defaults to resnet_groups for "default", to none for scale_shift */
  guint groups = c->attn_norm_num_groups ? c->attn_norm_num_groups : c->scale_shift ? 0 : c->norm_num_groups;

  x = resnet (b, "mid_block.resnets.0", x, temb_silu, ch, scale);
  if (c->add_attention && !FAILED (b))
    x = attention (b, "mid_block.attentions.0", x, head_dim_for (c, ch), groups,
                   c->attn_norm_num_groups ? "attn_norm_num_groups" : "norm_num_groups", scale);
  return FAILED (b) ? EPD_UNET_NONE : resnet (b, "mid_block.resnets.1", x, temb_silu, ch, scale);
}

/* UpBlock2D / AttnUpBlock2D (layers_per_block + 1 resnets), popping skips. */
static guint
up_block (Builder *b,
          guint    i,
          guint    x,
          guint    temb_silu,
          GArray  *skips)
{
  const EpdUnetConfig *c = b->config;
  guint cout = c->block_out_channels[c->n_blocks - 1 - i];

  for (guint j = 0; j <= c->layers_per_block && !FAILED (b); j++)
    {
      g_autofree char *r = g_strdup_printf ("up_blocks.%u.resnets.%u", i, j);
      g_autofree char *a = g_strdup_printf ("up_blocks.%u.attentions.%u", i, j);
      guint skip = g_array_index (skips, guint, skips->len - 1);
      guint cat;

      g_array_set_size (skips, skips->len - 1);
      cat = binary (b, EPD_UNET_OP_CONCAT, r, x, skip, value_get (b, x)->c + value_get (b, skip)->c);
      x = FAILED (b) ? EPD_UNET_NONE : resnet (b, r, cat, temb_silu, cout, 1.0f);
      if (c->up_attention[i] && !FAILED (b))
        x = attention (b, a, x, head_dim_for (c, cout), c->norm_num_groups, "norm_num_groups", 1.0f);
    }
  if (i + 1 < c->n_blocks && !FAILED (b))
    {
      g_autofree char *u = g_strdup_printf ("up_blocks.%u.upsamplers.0.conv", i);

      const EpdUnetValue *v = value_get (b, x);
      guint up = value_new (b, v->c, 2 * v->h, 2 * v->w);

      op_new (b, EPD_UNET_OP_UPSAMPLE, u, x, up);
      x = conv (b, u, up, cout, 3, 1, 1, 1, EPD_UNET_NONE, 1.0f);
    }
  return x;
}

/* The time embedding: sinusoids, linear_1, silu, linear_2; then the silu
 * every resnet's time_emb_proj applies to it, once. */
static guint
time_embedding (Builder *b,
                guint    t)
{
  const EpdUnetConfig *c = b->config;
  guint e = value_new (b, c->block_out_channels[0], 1, 1), h;
  EpdUnetOp *op = op_new (b, EPD_UNET_OP_TIME_EMBED, "time_proj", t, e);

  op->flip_sin_to_cos = c->flip_sin_to_cos;
  op->freq_shift = (float) c->freq_shift;
  h = linear (b, "time_embedding.linear_1", e, c->time_embed_dim);
  h = FAILED (b) ? EPD_UNET_NONE : unary (b, EPD_UNET_OP_SILU, "time_embedding.act", h);
  h = FAILED (b) ? EPD_UNET_NONE : linear (b, "time_embedding.linear_2", h, c->time_embed_dim);
  return FAILED (b) ? EPD_UNET_NONE : unary (b, EPD_UNET_OP_SILU, "time_emb_proj.act", h);
}

static guint
build_network (Builder *b,
               guint    x,
               guint    t)
{
  const EpdUnetConfig *c = b->config;
  g_autoptr(GArray) skips = g_array_new (FALSE, FALSE, sizeof (guint));
  guint temb;

  if (c->center_input_sample)
    {
      EpdUnetOp *op;
      guint y = unary (b, EPD_UNET_OP_AFFINE, "center_input_sample", x);

      op = &g_array_index (b->ops, EpdUnetOp, b->ops->len - 1);
      op->alpha = 2.0f;
      op->beta = -1.0f;
      x = y;
    }
  temb = time_embedding (b, t);
  x = FAILED (b) ? EPD_UNET_NONE : conv (b, "conv_in", x, c->block_out_channels[0], 3, 1, 1, 1, EPD_UNET_NONE, 1.0f);
  g_array_append_val (skips, x);
  for (guint i = 0; i < c->n_blocks && !FAILED (b); i++)
    x = down_block (b, i, x, temb, skips);
  x = FAILED (b) ? EPD_UNET_NONE : mid_block (b, x, temb);
  for (guint i = 0; i < c->n_blocks && !FAILED (b); i++)
    x = up_block (b, i, x, temb, skips);
  x = FAILED (b) ? EPD_UNET_NONE : group_norm (b, "conv_norm_out", x, c->norm_num_groups, "norm_num_groups", TRUE);
  return FAILED (b) ? EPD_UNET_NONE : conv (b, "conv_out", x, c->out_channels, 3, 1, 1, 1, EPD_UNET_NONE, 1.0f);
}

/* ---- slots ------------------------------------------------------------------------ */

/* The smallest free slot that fits need, else the largest free one (to be grown). */
static guint
pick_free_slot (GArray *free_slots,
                GArray *sizes,
                gsize   need)
{
  guint best = G_MAXUINT;
  gboolean best_fits = FALSE;
  gsize best_size = 0;

  for (guint f = 0; f < free_slots->len; f++)
    {
      gsize have = g_array_index (sizes, gsize, g_array_index (free_slots, guint, f));
      gboolean fits = have >= need;

      if (best == G_MAXUINT || (fits && (!best_fits || have < best_size)) ||
          (!fits && !best_fits && have > best_size))
        {
          best = f;
          best_fits = fits;
          best_size = have;
        }
    }
  return best;
}

static void
place_value (EpdUnetPlan *plan,
             guint        id,
             GArray      *free_slots,
             GArray      *sizes)
{
  EpdUnetValue *v = &plan->values[id];
  gsize need = epd_unet_value_floats (v);
  guint f = pick_free_slot (free_slots, sizes, need);

  if (f == G_MAXUINT)
    {
      g_array_append_val (sizes, need);
      v->slot = sizes->len - 1;
      return;
    }
  v->slot = g_array_index (free_slots, guint, f);
  g_array_remove_index_fast (free_slots, f);
  g_array_index (sizes, gsize, v->slot) = MAX (g_array_index (sizes, gsize, v->slot), need);
}

/* Values whose lifetimes do not overlap share a slot. An op's output is
 * placed before its inputs are released, so it never shares their slot. */
static void
assign_slots (EpdUnetPlan *plan)
{
  g_autofree guint *last_use = g_new0 (guint, plan->n_values);
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr(GArray) free_slots = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];
      guint reads[3] = { op->in[0], op->in[1], op->residual };

      last_use[op->out] = MAX (last_use[op->out], i);
      for (guint r = 0; r < 3; r++)
        if (reads[r] != EPD_UNET_NONE)
          last_use[reads[r]] = i;
    }
  last_use[plan->output] = G_MAXUINT;
  place_value (plan, plan->input, free_slots, sizes);
  place_value (plan, plan->timestep, free_slots, sizes);
  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];
      guint done[4] = { op->in[0], op->in[1], op->residual, op->out };

      place_value (plan, op->out, free_slots, sizes);
      for (guint r = 0; r < 4; r++)
        {
          gboolean seen = FALSE;

          for (guint q = 0; q < r; q++)
            seen |= done[q] == done[r];
          if (done[r] != EPD_UNET_NONE && !seen && last_use[done[r]] == i)
            g_array_append_val (free_slots, plan->values[done[r]].slot);
        }
    }
  plan->n_slots = sizes->len;
  plan->slot_floats = (gsize *) g_array_free (g_steal_pointer (&sizes), FALSE);
}

/* ---- the whole -------------------------------------------------------------------- */

static gboolean
check_all_used (Builder  *b,
                GError  **error)
{
  guint n;
  const EpdSafetensorsEntry *entries = epd_safetensors_get_entries (b->tensors, &n);

  for (guint i = 0; i < n; i++)
    if (!g_hash_table_contains (b->used, entries[i].name))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                     "%s: tensor '%s' is not part of the network the config describes",
                     epd_safetensors_get_source (b->tensors), entries[i].name);
        return FALSE;
      }
  return TRUE;
}

static EpdUnetPlan *
plan_from_builder (Builder *b,
                   guint    x,
                   guint    t,
                   guint    out)
{
  EpdUnetPlan *plan = g_new0 (EpdUnetPlan, 1);
  const EpdUnetConfig *c = b->config;

  plan->ref_count = 1;
  plan->in_channels = c->in_channels;
  plan->out_channels = c->out_channels;
  plan->height = plan->width = c->sample_size;
  plan->n_values = b->values->len;
  plan->values = (EpdUnetValue *) g_array_free (g_steal_pointer (&b->values), FALSE);
  plan->n_ops = b->ops->len;
  plan->ops = (EpdUnetOp *) g_array_free (g_steal_pointer (&b->ops), FALSE);
  plan->n_weights = b->n_weights;
  plan->weights = g_steal_pointer (&b->weights);
  plan->n_parameters = b->n_weights;
  plan->input = x;
  plan->timestep = t;
  plan->output = out;
  assign_slots (plan);
  return plan;
}

static void
builder_clear (Builder *b)
{
  if (b->ops != NULL)
    for (guint i = 0; i < b->ops->len; i++)
      g_free (g_array_index (b->ops, EpdUnetOp, i).name);
  g_clear_pointer (&b->ops, g_array_unref);
  g_clear_pointer (&b->values, g_array_unref);
  g_clear_pointer (&b->used, g_hash_table_unref);
  g_clear_pointer (&b->weights, g_free);
  g_clear_error (&b->error);
}

EpdUnetPlan *
epd_unet_plan_compile (const EpdUnetConfig *config,
                       EpdSafetensors      *tensors,
                       GError             **error)
{
  Builder b = { .config = config, .tensors = tensors };
  EpdUnetPlan *plan = NULL;
  const EpdSafetensorsEntry *entries;
  guint n, x, t, out;

  entries = epd_safetensors_get_entries (tensors, &n);
  for (guint i = 0; i < n; i++)
    b.capacity += entries[i].n_elements;
  b.weights = g_try_new (float, MAX (b.capacity, 1));
  if (b.weights == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "%s: not enough memory for %" G_GSIZE_FORMAT " weights",
                   epd_safetensors_get_source (tensors), b.capacity);
      return NULL;
    }
  b.values = g_array_new (FALSE, FALSE, sizeof (EpdUnetValue));
  b.ops = g_array_new (FALSE, FALSE, sizeof (EpdUnetOp));
  b.used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  x = value_new (&b, config->in_channels, config->sample_size, config->sample_size);
  t = value_new (&b, 1, 1, 1);
  out = build_network (&b, x, t);
  if (FAILED (&b))
    g_propagate_error (error, g_steal_pointer (&b.error));
  else if (check_all_used (&b, error))
    plan = plan_from_builder (&b, x, t, out);
  builder_clear (&b);
  return plan;
}
