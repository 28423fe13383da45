/* SPDX-License-Identifier: MIT */
/* epd-vk-unet.c: a UNet plan recorded into one Vulkan submission. */
#include "epd-vk-unet.h"
#include "epd-vk-private.h"

#include <math.h>
#include <string.h>

#include "epd-kernel-interface.h"

/* The arena's cap: it bounds the device memory a run needs, not the batch. */
#define MAX_ARENA_BYTES ((gsize) 1 << 30)

enum {
  K_CONV1,
  K_CONV3,
  K_NORM,
  K_ELT,
  K_CONCAT,
  K_UPSAMPLE,
  K_MATMUL,
  K_SOFTMAX,
  N_KERNELS
};

static const struct {
  const char *name;
  guint       push_size;
} kernel_info[N_KERNELS] = {
  [K_CONV1] = { "unet-conv-k1", sizeof (EpdVkUnetConvPush) },
  [K_CONV3] = { "unet-conv-k3", sizeof (EpdVkUnetConvPush) },
  [K_NORM] = { "unet-group-norm", sizeof (EpdVkUnetNormPush) },
  [K_ELT] = { "unet-eltwise", sizeof (EpdVkUnetEltPush) },
  [K_CONCAT] = { "unet-concat", sizeof (EpdVkUnetConcatPush) },
  [K_UPSAMPLE] = { "unet-upsample", sizeof (EpdVkUnetUpsamplePush) },
  [K_MATMUL] = { "unet-matmul", sizeof (EpdVkUnetMatmulPush) },
  [K_SOFTMAX] = { "unet-softmax", sizeof (EpdVkUnetSoftmaxPush) },
};

/* Push constants of one dispatch; the steps point into an array of these. */
typedef union {
  EpdVkUnetConvPush     conv;
  EpdVkUnetNormPush     norm;
  EpdVkUnetEltPush      elt;
  EpdVkUnetConcatPush   concat;
  EpdVkUnetUpsamplePush upsample;
  EpdVkUnetMatmulPush   matmul;
  EpdVkUnetSoftmaxPush  softmax;
} UnetPush;

/* Values written by the host before they are read on the device (the
 * input, the timestep and each TIME_EMBED output), at their offset in a
 * pass's staging buffer. */
typedef struct {
  guint value;
  gsize stage_off;   /* floats */
} HostValue;

struct _EpdVkUnet
{
  EpdVkContext *context;
  EpdUnetPlan  *plan;
  gsize         per_sample;     /* arena floats per sample: slots, then scratch */
  gsize         max_pass;       /* samples per pass, 0: no cap but the arena's */
  guint32       max_groups[3];  /* the device's maxComputeWorkGroupCount, or lower for tests */
  EpdVkBuffer  *weights;
  EpdVkKernel  *kernels[N_KERNELS];
  GArray       *host_values;    /* HostValue */
  gsize         stage_in_floats;  /* per sample */

  /* For pass_samples samples per pass, kept until a larger batch needs more. */
  gsize         pass_samples;
  gsize        *slot_base;      /* [n_slots] floats into the arena */
  gsize         scratch_base;
  EpdVkBuffer  *arena;
  GPtrArray    *stage_in;       /* one HOST buffer per pass */
  GPtrArray    *stage_out;

  GArray       *steps;          /* EpdVkStep, rebuilt per run */
  GArray       *pushes;         /* UnetPush */
  guint64       n_submits;
};

static gsize
value_floats (EpdVkUnet *self,
              guint      value)
{
  return epd_unet_value_floats (&self->plan->values[value]);
}

static gboolean
unsupported (GError         **error,
             const EpdUnetOp *op,
             const char      *what)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "no Vulkan kernel for %s (%s %s)", what,
               epd_unet_op_kind_to_string (op->kind), op->name != NULL ? op->name : "");
  return FALSE;
}

/* What the kernels cover: the plan's ops as epd-unet-plan.h defines them. */
static gboolean
check_plan (EpdVkUnet *self,
            GError   **error)
{
  const EpdUnetPlan *plan = self->plan;

  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];

      if (op->kind == EPD_UNET_OP_CONV2D && op->kernel != 1 && op->kernel != 3)
        return unsupported (error, op, "this kernel size");
      if (op->kind == EPD_UNET_OP_CONV2D && op->weight == EPD_UNET_NONE)
        return unsupported (error, op, "a convolution without weights");
      if (op->kind == EPD_UNET_OP_GROUP_NORM && (op->groups == 0 || plan->values[op->out].c % op->groups != 0))
        return unsupported (error, op, "groups that do not divide the channels");
    }
  if (plan->n_weights >= G_MAXUINT32 / 4)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%" G_GSIZE_FORMAT " weights are too many for one buffer",
                   plan->n_weights);
      return FALSE;
    }
  return TRUE;
}

/* The kernels' groups are 256 x 1 or 16 x 16; Vulkan promises only 128. */
static gboolean
check_device (EpdVkUnet *self,
              GError   **error)
{
  const VkPhysicalDeviceLimits *limits = epd_vk_context_get_limits (self->context);

  if (limits->maxComputeWorkGroupInvocations >= EPD_UNET_GROUP_SIZE &&
      limits->maxComputeWorkGroupSize[0] >= EPD_UNET_GROUP_SIZE && limits->maxComputeWorkGroupSize[1] >= 16)
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "%s runs at most %u invocations per workgroup "
               "(%u x %u); the UNet kernels need 256 (256 x 16)", epd_vk_context_get_info (self->context)->name,
               limits->maxComputeWorkGroupInvocations, limits->maxComputeWorkGroupSize[0],
               limits->maxComputeWorkGroupSize[1]);
  return FALSE;
}

static void
add_host_value (EpdVkUnet *self,
                guint      value)
{
  HostValue hv = { value, self->stage_in_floats };

  g_array_append_val (self->host_values, hv);
  self->stage_in_floats += value_floats (self, value);
}

static const HostValue *
find_host_value (EpdVkUnet *self,
                 guint      value)
{
  for (guint i = 0; i < self->host_values->len; i++)
    if (g_array_index (self->host_values, HostValue, i).value == value)
      return &g_array_index (self->host_values, HostValue, i);
  g_return_val_if_reached (NULL);
}

static void
plan_sizes (EpdVkUnet *self)
{
  const EpdUnetPlan *plan = self->plan;

  self->per_sample = epd_unet_plan_attention_scratch (plan);
  for (guint s = 0; s < plan->n_slots; s++)
    self->per_sample += plan->slot_floats[s];
  add_host_value (self, plan->input);
  add_host_value (self, plan->timestep);
  for (guint i = 0; i < plan->n_ops; i++)
    if (plan->ops[i].kind == EPD_UNET_OP_TIME_EMBED)
      add_host_value (self, plan->ops[i].out);
}

static gsize
device_range (EpdVkUnet *self)
{
  return epd_vk_context_get_max_buffer_range (self->context);
}

static gboolean
create_kernels (EpdVkUnet *self,
                GError   **error)
{
  for (guint k = 0; k < N_KERNELS; k++)
    if ((self->kernels[k] = epd_vk_kernel_new (self->context, kernel_info[k].name, EPD_UNET_N_BINDINGS,
                                               kernel_info[k].push_size, error)) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
upload_weights (EpdVkUnet *self,
                GError   **error)
{
  gsize bytes = MAX (self->plan->n_weights, 1) * sizeof (float);

  self->weights = epd_vk_buffer_new (self->context, bytes, EPD_VK_MEMORY_DEVICE, error);
  if (self->weights != NULL)
    epd_vk_buffer_set_name (self->weights, "unet weights");
  /* An empty copy is invalid Vulkan: a plan without weights uploads nothing. */
  if (self->weights == NULL ||
      (self->plan->n_weights > 0 &&
       !epd_vk_buffer_upload (self->weights, self->plan->weights, self->plan->n_weights * sizeof (float), error)))
    {
      g_prefix_error (error, "the UNet's %" G_GSIZE_FORMAT " weights: ", self->plan->n_weights);
      return FALSE;
    }
  return TRUE;
}

EpdVkUnet *
epd_vk_unet_new (EpdVkContext *context,
                 EpdUnetPlan  *plan,
                 GError      **error)
{
  g_autoptr(EpdVkUnet) self = g_new0 (EpdVkUnet, 1);

  g_return_val_if_fail (EPD_IS_VK_CONTEXT (context), NULL);
  g_return_val_if_fail (plan != NULL, NULL);
  self->context = g_object_ref (context);
  self->plan = epd_unet_plan_ref (plan);
  self->host_values = g_array_new (FALSE, TRUE, sizeof (HostValue));
  self->stage_in = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_buffer_free);
  self->stage_out = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_buffer_free);
  self->steps = g_array_new (FALSE, TRUE, sizeof (EpdVkStep));
  self->pushes = g_array_new (FALSE, TRUE, sizeof (UnetPush));
  self->slot_base = g_new0 (gsize, MAX (plan->n_slots, 1));
  memcpy (self->max_groups, epd_vk_context_get_limits (context)->maxComputeWorkGroupCount,
          sizeof self->max_groups);
  if (!check_device (self, error) || !check_plan (self, error))
    return NULL;
  plan_sizes (self);
  if (self->per_sample * sizeof (float) > MIN (device_range (self), MAX_ARENA_BYTES))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE,
                   "one sample's activations (%" G_GSIZE_FORMAT " bytes) exceed the largest storage buffer of %s "
                   "(%" G_GSIZE_FORMAT " bytes)", self->per_sample * sizeof (float),
                   epd_vk_context_get_info (context)->name, MIN (device_range (self), MAX_ARENA_BYTES));
      return NULL;
    }
  if (!upload_weights (self, error) || !create_kernels (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

static void
free_arena (EpdVkUnet *self)
{
  g_clear_pointer (&self->arena, epd_vk_buffer_free);
  g_ptr_array_set_size (self->stage_in, 0);
  g_ptr_array_set_size (self->stage_out, 0);
  self->pass_samples = 0;
}

void
epd_vk_unet_free (EpdVkUnet *self)
{
  if (self == NULL)
    return;
  free_arena (self);
  for (guint k = 0; k < N_KERNELS; k++)
    g_clear_pointer (&self->kernels[k], epd_vk_kernel_free);
  g_clear_pointer (&self->weights, epd_vk_buffer_free);
  g_ptr_array_unref (self->stage_in);
  g_ptr_array_unref (self->stage_out);
  g_array_unref (self->host_values);
  g_array_unref (self->steps);
  g_array_unref (self->pushes);
  g_free (self->slot_base);
  epd_unet_plan_unref (self->plan);
  g_object_unref (self->context);
  g_free (self);
}

/* Slots one after the other, then the attention scratch, each pass_samples deep. */
static void
layout_arena (EpdVkUnet *self)
{
  gsize at = 0;

  for (guint s = 0; s < self->plan->n_slots; s++)
    {
      self->slot_base[s] = at;
      at += self->pass_samples * self->plan->slot_floats[s];
    }
  self->scratch_base = at;
}

static gboolean
alloc_arena (EpdVkUnet *self,
             gsize      pass_samples,
             GError   **error)
{
  free_arena (self);
  self->arena = epd_vk_buffer_new (self->context, pass_samples * self->per_sample * sizeof (float),
                                   EPD_VK_MEMORY_DEVICE, error);
  if (self->arena == NULL)
    return FALSE;
  epd_vk_buffer_set_name (self->arena, "unet arena");
  for (guint k = 0; k < N_KERNELS; k++)
    {
      epd_vk_kernel_bind (self->kernels[k], EPD_UNET_WEIGHTS, self->weights);
      epd_vk_kernel_bind (self->kernels[k], EPD_UNET_ARENA, self->arena);
    }
  self->pass_samples = pass_samples;
  layout_arena (self);
  return TRUE;
}

/* The staging buffers of passes 0 .. n_passes - 1, each pass_samples deep. */
static gboolean
alloc_staging (EpdVkUnet *self,
               guint      n_passes,
               GError   **error)
{
  gsize out_floats = value_floats (self, self->plan->output);

  while (self->stage_in->len < n_passes)
    {
      EpdVkBuffer *in = epd_vk_buffer_new (self->context, self->pass_samples * self->stage_in_floats * sizeof (float),
                                           EPD_VK_MEMORY_HOST, error);
      EpdVkBuffer *out = in == NULL ? NULL : epd_vk_buffer_new (self->context,
                                                                self->pass_samples * out_floats * sizeof (float),
                                                                EPD_VK_MEMORY_HOST, error);

      if (out == NULL)
        {
          g_clear_pointer (&in, epd_vk_buffer_free);
          return FALSE;
        }
      epd_vk_buffer_set_name (in, "unet staging in");
      epd_vk_buffer_set_name (out, "unet staging out");
      g_ptr_array_add (self->stage_in, in);
      g_ptr_array_add (self->stage_out, out);
    }
  return TRUE;
}

static gboolean
ensure_capacity (EpdVkUnet *self,
                 gsize      batch,
                 guint     *n_passes,
                 GError   **error)
{
  gsize limit = MIN (device_range (self), MAX_ARENA_BYTES);
  gsize most = limit / (self->per_sample * sizeof (float));
  gsize want;

  if (most == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "one sample's activations (%" G_GSIZE_FORMAT " bytes) "
                   "exceed the arena's limit of %" G_GSIZE_FORMAT " bytes", self->per_sample * sizeof (float), limit);
      return FALSE;
    }
  if (self->max_pass > 0)
    most = MIN (most, self->max_pass);
  want = MIN (batch, most);
  /* A smaller batch reuses a larger arena; a larger one grows it up to the limit. */
  if (want > self->pass_samples || self->pass_samples > most)
    if (!alloc_arena (self, want, error))
      return FALSE;
  *n_passes = (guint) ((batch + self->pass_samples - 1) / self->pass_samples);
  return alloc_staging (self, *n_passes, error);
}

/* ---- recording ------------------------------------------------------------------ */

static guint32
groups_for (gsize  needed,
            guint32 limit)
{
  return (guint32) CLAMP (needed, 1, limit);
}

/* Offsets and counts fit: they index buffers of at most maxStorageBufferRange
 * (< 4 GiB) bytes, and weights are checked at creation. */
static guint32
u32 (gsize v)
{
  return (guint32) v;
}

static UnetPush *
next_push (EpdVkUnet *self)
{
  g_array_set_size (self->pushes, self->pushes->len + 1);
  return &g_array_index (self->pushes, UnetPush, self->pushes->len - 1);
}

/* Push pointers are resolved at submission, once the array stops growing. */
static void
add_dispatch (EpdVkUnet *self,
              guint      kernel,
              guint32    gx,
              guint32    gy,
              guint32    gz)
{
  EpdVkStep step = {
    .kernel = self->kernels[kernel],
    .push = GSIZE_TO_POINTER (self->pushes->len - 1),
    .push_size = kernel_info[kernel].push_size,
    .groups = { gx, gy, gz },
  };

  g_array_append_val (self->steps, step);
}

static void
add_copy (EpdVkUnet   *self,
          EpdVkBuffer *src,
          gsize        src_float,
          EpdVkBuffer *dst,
          gsize        dst_float,
          gsize        n_floats)
{
  EpdVkStep step = {
    .src = src, .dst = dst, .size = n_floats * sizeof (float),
    .src_offset = src_float * sizeof (float), .dst_offset = dst_float * sizeof (float),
  };

  g_array_append_val (self->steps, step);
}

static gsize
value_base (EpdVkUnet *self,
            guint      value)
{
  return self->slot_base[self->plan->values[value].slot];
}

static const guint32 *
max_groups (EpdVkUnet *self)
{
  return self->max_groups;
}

static void
record_conv (EpdVkUnet       *self,
             const EpdUnetOp *op,
             gsize            n)
{
  const EpdUnetValue *in = &self->plan->values[op->in[0]], *out = &self->plan->values[op->out];
  gboolean linear = op->kind == EPD_UNET_OP_LINEAR;
  guint k = linear ? 1 : op->kernel;
  EpdVkUnetConvPush *pc = &next_push (self)->conv;
  gsize cols = n * out->h * out->w;

  *pc = (EpdVkUnetConvPush) {
    .in_off = u32 (value_base (self, op->in[0])), .out_off = u32 (value_base (self, op->out)),
    .weight_off = u32 (op->weight), .n = u32 (n), .ci = in->c, .h = in->h, .w = in->w,
    .co = out->c, .ho = out->h, .wo = out->w, .stride = linear ? 1 : op->stride,
    .pad_top = linear ? 0 : op->pad_top, .pad_left = linear ? 0 : op->pad_left,
    .alpha = linear ? 1.0f : op->alpha,
  };
  if (op->bias != EPD_UNET_NONE)
    {
      pc->bias_off = u32 (op->bias);
      pc->flags |= EPD_UNET_CONV_HAS_BIAS;
    }
  if (!linear && op->residual != EPD_UNET_NONE)
    {
      pc->res_off = u32 (value_base (self, op->residual));
      pc->flags |= EPD_UNET_CONV_HAS_RESIDUAL;
    }
  add_dispatch (self, k == 1 ? K_CONV1 : K_CONV3,
                groups_for ((cols + EPD_UNET_TILE_N - 1) / EPD_UNET_TILE_N, max_groups (self)[0]),
                groups_for ((out->c + EPD_UNET_TILE_M - 1) / EPD_UNET_TILE_M, max_groups (self)[1]), 1);
}

static void
record_group_norm (EpdVkUnet       *self,
                   const EpdUnetOp *op,
                   gsize            n)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  EpdVkUnetNormPush *pc = &next_push (self)->norm;

  *pc = (EpdVkUnetNormPush) {
    .in_off = u32 (value_base (self, op->in[0])), .out_off = u32 (value_base (self, op->out)),
    .weight_off = u32 (op->weight), .bias_off = u32 (op->bias), .n = u32 (n), .c = v->c,
    .p = v->h * v->w, .groups = op->groups, .silu = op->silu ? 1 : 0, .eps = op->eps,
  };
  add_dispatch (self, K_NORM, groups_for (n * op->groups, max_groups (self)[0]), 1, 1);
}

static guint32
elt_mode (EpdUnetOpKind kind)
{
  switch (kind)
    {
    case EPD_UNET_OP_SILU: return EPD_UNET_ELT_SILU;
    case EPD_UNET_OP_ADD: return EPD_UNET_ELT_ADD;
    case EPD_UNET_OP_CHANNEL_BIAS: return EPD_UNET_ELT_CHANNEL_BIAS;
    case EPD_UNET_OP_SCALE_SHIFT: return EPD_UNET_ELT_SCALE_SHIFT;
    case EPD_UNET_OP_AFFINE:
    default: return EPD_UNET_ELT_AFFINE;
    }
}

static void
record_elementwise (EpdVkUnet       *self,
                    const EpdUnetOp *op,
                    gsize            n)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  gboolean vector = op->kind == EPD_UNET_OP_CHANNEL_BIAS || op->kind == EPD_UNET_OP_SCALE_SHIFT;
  EpdVkUnetEltPush *pc = &next_push (self)->elt;
  gsize count = n * epd_unet_value_floats (v);

  *pc = (EpdVkUnetEltPush) {
    .mode = elt_mode (op->kind), .count = u32 (count), .in0_off = u32 (value_base (self, op->in[0])),
    .out_off = u32 (value_base (self, op->out)), .c = v->c, .p = v->h * v->w,
    .silu = vector && op->silu ? 1 : 0, .alpha = op->alpha, .beta = op->beta,
  };
  if (op->in[1] != EPD_UNET_NONE)
    {
      pc->in1_off = u32 (value_base (self, op->in[1]));
      pc->vec_c = self->plan->values[op->in[1]].c;
      pc->offset = vector ? op->offset : 0;
    }
  add_dispatch (self, K_ELT, groups_for ((count + EPD_UNET_GROUP_SIZE - 1) / EPD_UNET_GROUP_SIZE, max_groups (self)[0]),
                1, 1);
}

static void
record_concat (EpdVkUnet       *self,
               const EpdUnetOp *op,
               gsize            n)
{
  const EpdUnetValue *a = &self->plan->values[op->in[0]], *b = &self->plan->values[op->in[1]];
  EpdVkUnetConcatPush *pc = &next_push (self)->concat;
  gsize count = n * value_floats (self, op->out);

  *pc = (EpdVkUnetConcatPush) {
    .in0_off = u32 (value_base (self, op->in[0])), .in1_off = u32 (value_base (self, op->in[1])),
    .out_off = u32 (value_base (self, op->out)), .n = u32 (n), .c0 = a->c, .c1 = b->c, .p = a->h * a->w,
  };
  add_dispatch (self, K_CONCAT, groups_for ((count + EPD_UNET_GROUP_SIZE - 1) / EPD_UNET_GROUP_SIZE, max_groups (self)[0]),
                1, 1);
}

static void
record_upsample (EpdVkUnet       *self,
                 const EpdUnetOp *op,
                 gsize            n)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  EpdVkUnetUpsamplePush *pc = &next_push (self)->upsample;
  gsize count = n * value_floats (self, op->out);

  *pc = (EpdVkUnetUpsamplePush) {
    .in_off = u32 (value_base (self, op->in[0])), .out_off = u32 (value_base (self, op->out)),
    .n = u32 (n), .c = v->c, .h = v->h, .w = v->w,
  };
  add_dispatch (self, K_UPSAMPLE,
                groups_for ((count + EPD_UNET_GROUP_SIZE - 1) / EPD_UNET_GROUP_SIZE, max_groups (self)[0]), 1, 1);
}

static void
add_matmul (EpdVkUnet                 *self,
            const EpdVkUnetMatmulPush *push)
{
  const guint32 *most = max_groups (self);

  next_push (self)->matmul = *push;
  add_dispatch (self, K_MATMUL, groups_for ((push->n + EPD_UNET_TILE_N - 1) / EPD_UNET_TILE_N, most[0]),
                groups_for ((push->m + EPD_UNET_TILE_M - 1) / EPD_UNET_TILE_M, most[1]),
                groups_for (push->batches, most[2]));
}

/* Scores S = scale Q^T K per (sample, head) into the scratch, their softmax
 * over the keys, then out = V A^T. */
static void
record_attention (EpdVkUnet       *self,
                  const EpdUnetOp *op,
                  gsize            n)
{
  const EpdUnetValue *v = &self->plan->values[op->in[0]];
  guint32 p = v->h * v->w, hd = op->head_dim, heads = op->heads, d = heads * hd;
  guint32 qkv = u32 (value_base (self, op->in[0])), scratch = u32 (self->scratch_base);
  EpdVkUnetSoftmaxPush *soft;

  add_matmul (self, &(EpdVkUnetMatmulPush) {
    .m = p, .n = p, .k = hd, .inner = heads, .batches = u32 (n * heads),
    .a_off = qkv, .a_outer = 3 * d * p, .a_inner = hd * p, .a_row = 1, .a_col = p,
    .b_off = qkv + d * p, .b_outer = 3 * d * p, .b_inner = hd * p, .b_row = p, .b_col = 1,
    .c_off = scratch, .c_outer = heads * p * p, .c_inner = p * p, .c_row = p, .c_col = 1,
    .alpha = op->scale,
  });
  soft = &next_push (self)->softmax;
  *soft = (EpdVkUnetSoftmaxPush) { .off = scratch, .rows = u32 (n * heads * p), .len = p };
  add_dispatch (self, K_SOFTMAX, groups_for (n * heads * p, max_groups (self)[0]), 1, 1);
  add_matmul (self, &(EpdVkUnetMatmulPush) {
    .m = hd, .n = p, .k = p, .inner = heads, .batches = u32 (n * heads),
    .a_off = qkv + 2 * d * p, .a_outer = 3 * d * p, .a_inner = hd * p, .a_row = p, .a_col = 1,
    .b_off = scratch, .b_outer = heads * p * p, .b_inner = p * p, .b_row = 1, .b_col = p,
    .c_off = u32 (value_base (self, op->out)), .c_outer = d * p, .c_inner = hd * p, .c_row = p, .c_col = 1,
    .alpha = 1.0f,
  });
}

static void
record_op (EpdVkUnet       *self,
           const EpdUnetOp *op,
           gsize            n,
           EpdVkBuffer     *stage_in)
{
  const HostValue *hv;

  switch (op->kind)
    {
    case EPD_UNET_OP_CONV2D:
    case EPD_UNET_OP_LINEAR:
      record_conv (self, op, n);
      break;
    case EPD_UNET_OP_GROUP_NORM:
      record_group_norm (self, op, n);
      break;
    case EPD_UNET_OP_CONCAT:
      record_concat (self, op, n);
      break;
    case EPD_UNET_OP_UPSAMPLE:
      record_upsample (self, op, n);
      break;
    case EPD_UNET_OP_ATTENTION:
      record_attention (self, op, n);
      break;
    case EPD_UNET_OP_TIME_EMBED:
      /* Computed on the host (see the header), copied in at its place in the plan. */
      hv = find_host_value (self, op->out);
      add_copy (self, stage_in, self->pass_samples * hv->stage_off, self->arena, value_base (self, op->out),
                n * value_floats (self, op->out));
      break;
    case EPD_UNET_OP_SILU:
    case EPD_UNET_OP_ADD:
    case EPD_UNET_OP_CHANNEL_BIAS:
    case EPD_UNET_OP_SCALE_SHIFT:
    case EPD_UNET_OP_AFFINE:
    default:
      record_elementwise (self, op, n);
      break;
    }
}

/* One pass of n samples: the host values in, every op, the output out. */
static void
record_pass (EpdVkUnet *self,
             guint      pass,
             gsize      n)
{
  const EpdUnetPlan *plan = self->plan;
  EpdVkBuffer *in = g_ptr_array_index (self->stage_in, pass), *out = g_ptr_array_index (self->stage_out, pass);

  for (guint i = 0; i < 2; i++)
    {
      const HostValue *hv = &g_array_index (self->host_values, HostValue, i);

      add_copy (self, in, self->pass_samples * hv->stage_off, self->arena, value_base (self, hv->value),
                n * value_floats (self, hv->value));
    }
  for (guint i = 0; i < plan->n_ops; i++)
    record_op (self, &plan->ops[i], n, in);
  add_copy (self, self->arena, value_base (self, plan->output), out, 0, n * value_floats (self, plan->output));
}

/* ---- host values ---------------------------------------------------------------- */

/* diffusers' get_timestep_embedding in float64, as the CPU path computes it. */
static void
time_embed (const EpdUnetOp *op,
            guint            dim,
            float            t,
            float           *row)
{
  guint half = dim / 2;

  for (guint i = 0; i < half; i++)
    {
      double f = exp (-log (10000.0) * i / (half - (double) op->freq_shift)), a = t * f;

      row[op->flip_sin_to_cos ? half + i : i] = (float) sin (a);
      row[op->flip_sin_to_cos ? i : half + i] = (float) cos (a);
    }
  if (dim % 2)
    row[dim - 1] = 0.0f;
}

static const EpdUnetOp *
embed_op (EpdVkUnet *self,
          guint      value)
{
  for (guint i = 0; i < self->plan->n_ops; i++)
    if (self->plan->ops[i].kind == EPD_UNET_OP_TIME_EMBED && self->plan->ops[i].out == value)
      return &self->plan->ops[i];
  g_return_val_if_reached (NULL);
}

/* Samples s0 .. s0 + n - 1 into a pass's staging buffer: value by value,
 * each pass_samples deep. */
static void
write_stage_in (EpdVkUnet   *self,
                float       *stage,
                gsize        s0,
                gsize        n,
                const float *input,
                const float *timesteps)
{
  gsize in_floats = value_floats (self, self->plan->input);

  memcpy (stage, input + s0 * in_floats, n * in_floats * sizeof (float));
  memcpy (stage + self->pass_samples * in_floats, timesteps + s0, n * sizeof (float));
  for (guint i = 2; i < self->host_values->len; i++)
    {
      const HostValue *hv = &g_array_index (self->host_values, HostValue, i);
      const EpdUnetOp *op = embed_op (self, hv->value);
      guint dim = self->plan->values[hv->value].c;

      for (gsize j = 0; j < n; j++)
        time_embed (op, dim, timesteps[s0 + j], stage + self->pass_samples * hv->stage_off + j * dim);
    }
}

/* ---- running -------------------------------------------------------------------- */

static gboolean
submit (EpdVkUnet    *self,
        GCancellable *cancellable,
        GError      **error)
{
  EpdVkStep *steps = (EpdVkStep *) self->steps->data;

  for (guint i = 0; i < self->steps->len; i++)
    if (steps[i].kernel != NULL)
      steps[i].push = &g_array_index (self->pushes, UnetPush, GPOINTER_TO_SIZE (steps[i].push));
  if (!epd_vk_context_submit (self->context, steps, self->steps->len, cancellable, error))
    return FALSE;
  self->n_submits++;
  return TRUE;
}

gboolean
epd_vk_unet_run (EpdVkUnet    *self,
                 gsize         batch,
                 const float  *input,
                 const float  *timesteps,
                 float        *output,
                 GCancellable *cancellable,
                 GError      **error)
{
  gsize out_floats = value_floats (self, self->plan->output);
  guint n_passes;

  g_return_val_if_fail (self != NULL, FALSE);
  if (batch == 0)
    return TRUE;
  /* A cancelled run may have left a submission reading these buffers. */
  if (!epd_vk_context_wait_pending (self->context, cancellable, error) ||
      !ensure_capacity (self, batch, &n_passes, error))
    return FALSE;
  g_array_set_size (self->steps, 0);
  g_array_set_size (self->pushes, 0);
  for (guint p = 0; p < n_passes; p++)
    {
      gsize s0 = p * self->pass_samples, n = MIN (self->pass_samples, batch - s0);

      write_stage_in (self, epd_vk_buffer_get_mapped (g_ptr_array_index (self->stage_in, p)), s0, n, input,
                      timesteps);
      record_pass (self, p, n);
    }
  if (!submit (self, cancellable, error))
    return FALSE;
  for (guint p = 0; p < n_passes; p++)
    {
      gsize s0 = p * self->pass_samples, n = MIN (self->pass_samples, batch - s0);

      memcpy (output + s0 * out_floats, epd_vk_buffer_get_mapped (g_ptr_array_index (self->stage_out, p)),
              n * out_floats * sizeof (float));
    }
  return TRUE;
}

gboolean
epd_vk_unet_check_rows (const double *x,
                        gsize         n_x,
                        GError      **error)
{
  for (gsize i = 0; i < n_x; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "UNet denoiser: x[%" G_GSIZE_FORMAT "] is %g, not finite",
                     i, x[i]);
        return FALSE;
      }
  return TRUE;
}

gboolean
epd_vk_unet_denoise (EpdVkUnet    *self,
                     EpdUnet      *model,
                     const double *x,
                     const double *sigma,
                     gsize         batch,
                     double       *out,
                     GCancellable *cancellable,
                     GError      **error)
{
  gsize dim = epd_denoiser_get_dim (EPD_DENOISER (model));
  gsize out_floats = value_floats (self, self->plan->output);
  g_autofree float *net_in = NULL, *net_out = NULL, *timesteps = NULL;

  net_in = g_try_new (float, MAX (batch * dim, 1));
  net_out = g_try_new (float, MAX (batch * out_floats, 1));
  timesteps = g_try_new (float, MAX (batch, 1));
  if (net_in == NULL || net_out == NULL || timesteps == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "UNet denoiser: not enough memory for a batch of %"
                   G_GSIZE_FORMAT, batch);
      return FALSE;
    }
  epd_unet_prepare_batch (model, x, sigma, batch, net_in, timesteps);
  if (!epd_vk_unet_run (self, batch, net_in, timesteps, net_out, cancellable, error))
    return FALSE;
  epd_unet_finish_batch (model, x, sigma, batch, net_out, out);
  return TRUE;
}

void
epd_vk_unet_release (EpdVkUnet *self)
{
  free_arena (self);
}

guint64
epd_vk_unet_get_n_submits (EpdVkUnet *self)
{
  return self->n_submits;
}

gsize
epd_vk_unet_get_pass_samples (EpdVkUnet *self)
{
  return self->pass_samples;
}

void
epd_vk_unet_set_max_pass_samples (EpdVkUnet *self,
                                  gsize      samples)
{
  self->max_pass = samples;
}

void
epd_vk_unet_set_max_groups (EpdVkUnet *self,
                            guint32    groups)
{
  const guint32 *device = epd_vk_context_get_limits (self->context)->maxComputeWorkGroupCount;

  for (guint d = 0; d < 3; d++)
    self->max_groups[d] = groups > 0 ? MIN (groups, device[d]) : device[d];
}
