/* SPDX-License-Identifier: MIT */
/* epd-vk-denoiser.c: Gaussian-mixture, empirical and UNet denoisers in Vulkan compute. */
#include "epd-vk-denoiser.h"
#include "epd-vk-private.h"
#include "epd-kernel-interface.h"

#include <math.h>
#include <string.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-unet.h"
#include "epd-vk-unet.h"

/* Images per partial sum of the empirical weighted sum (a multiple of 16). */
#define EMP_CHUNK 512
/* Rows per pass of the empirical kernels and workgroups of the GMM kernel,
 * and the floats of one scratch buffer (256 MiB): they bound the device
 * memory a call needs, not the batch. */
#define MAX_PASS_ROWS 4096
#define MAX_SCRATCH_FLOATS ((gsize) 64 << 20)

enum { EMP_LOGITS, EMP_SOFTMAX, EMP_WEIGHTED, EMP_REDUCE, N_KERNELS };
enum { GMM_LOG_WEIGHT, GMM_MEANS, GMM_VAR, EMP_Y = 0, EMP_HALF_NORM, N_PARAMS = 3 };


struct _EpdVkDenoiser
{
  GObject        parent_instance;

  EpdVkContext  *context;
  EpdDenoiser   *cpu;
  /* Both made once and never freed before the denoiser: describe() returns
   * one of them from any thread, without the lock (see the header). */
  char          *label;
  char          *fallback_label;
  GMutex         lock;      /* one denoise() at a time: buffers, counters */
  guint          dim;
  gboolean       is_gmm;
  guint          k;          /* GMM components */
  gsize          n;          /* training images */
  gsize          pass_rows;  /* rows per pass of the scratch buffers */
  EpdVkBuffer   *params[N_PARAMS];
  EpdVkKernel   *kernels[N_KERNELS];
  EpdVkUnet     *unet;       /* a UNet's executor (epd-vk-unet.c), or NULL */

  /* Per call, grown to the largest batch seen (scratch: to one pass of it). */
  gsize          capacity;
  EpdVkBuffer   *x, *row_param, *out;        /* row_param: sigma (GMM) or 1/sigma^2 */
  EpdVkBuffer   *stage_x, *stage_row, *stage_out; /* discrete GPUs only */
  EpdVkBuffer   *scratch, *row_sum, *partial;

  guint64        n_submits;
  gint           fell_back;   /* atomic: read by describe() without the lock */
  gboolean       noticed;     /* a per-call fallback was reported once */
};

static void epd_vk_denoiser_iface_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdVkDenoiser, epd_vk_denoiser, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, epd_vk_denoiser_iface_init))

static void
free_io (EpdVkDenoiser *self)
{
  g_clear_pointer (&self->x, epd_vk_buffer_free);
  g_clear_pointer (&self->row_param, epd_vk_buffer_free);
  g_clear_pointer (&self->out, epd_vk_buffer_free);
  g_clear_pointer (&self->stage_x, epd_vk_buffer_free);
  g_clear_pointer (&self->stage_row, epd_vk_buffer_free);
  g_clear_pointer (&self->stage_out, epd_vk_buffer_free);
  g_clear_pointer (&self->scratch, epd_vk_buffer_free);
  g_clear_pointer (&self->row_sum, epd_vk_buffer_free);
  g_clear_pointer (&self->partial, epd_vk_buffer_free);
  self->capacity = 0;
  if (self->unet != NULL)
    epd_vk_unet_release (self->unet);
}

static void
epd_vk_denoiser_finalize (GObject *object)
{
  EpdVkDenoiser *self = EPD_VK_DENOISER (object);

  free_io (self);
  g_clear_pointer (&self->unet, epd_vk_unet_free);
  for (guint i = 0; i < N_PARAMS; i++)
    g_clear_pointer (&self->params[i], epd_vk_buffer_free);
  for (guint i = 0; i < N_KERNELS; i++)
    g_clear_pointer (&self->kernels[i], epd_vk_kernel_free);
  g_clear_object (&self->context);
  g_clear_object (&self->cpu);
  g_free (self->label);
  g_free (self->fallback_label);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (epd_vk_denoiser_parent_class)->finalize (object);
}

static void
epd_vk_denoiser_class_init (EpdVkDenoiserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_vk_denoiser_finalize;
}

static void
epd_vk_denoiser_init (EpdVkDenoiser *self)
{
  g_mutex_init (&self->lock);
}

static EpdVkBuffer *
upload_floats (EpdVkContext *context,
               const char   *name,
               const float  *data,
               gsize         n,
               GError      **error)
{
  g_autoptr(EpdVkBuffer) buffer = epd_vk_buffer_new (context, n * sizeof (float), EPD_VK_MEMORY_DEVICE, error);

  if (buffer == NULL || !epd_vk_buffer_upload (buffer, data, n * sizeof (float), error))
    return NULL;
  epd_vk_buffer_set_name (buffer, name);
  return g_steal_pointer (&buffer);
}

static float *
floats_from_doubles (const double *values,
                     gsize         n)
{
  float *out = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = (float) values[i];
  return out;
}

static gboolean
setup_gmm (EpdVkDenoiser *self,
           EpdGmm        *gmm,
           GError       **error)
{
  const double *weights = epd_gmm_get_weights (gmm);
  const double *stds = epd_gmm_get_stds (gmm);
  g_autofree float *log_weight = g_new (float, self->k);
  g_autofree float *var = g_new (float, self->k);
  g_autofree float *means = floats_from_doubles (epd_gmm_get_means (gmm), (gsize) self->k * self->dim);

  for (guint c = 0; c < self->k; c++)
    {
      log_weight[c] = (float) log (weights[c]);
      var[c] = (float) (stds[c] * stds[c]);
    }
  self->params[GMM_LOG_WEIGHT] = upload_floats (self->context, "gmm log weights", log_weight, self->k, error);
  if (self->params[GMM_LOG_WEIGHT] == NULL)
    return FALSE;
  self->params[GMM_MEANS] = upload_floats (self->context, "gmm means", means, (gsize) self->k * self->dim, error);
  if (self->params[GMM_MEANS] == NULL)
    return FALSE;
  self->params[GMM_VAR] = upload_floats (self->context, "gmm variances", var, self->k, error);
  if (self->params[GMM_VAR] == NULL)
    return FALSE;
  self->kernels[0] = epd_vk_kernel_new (self->context, "gmm-denoise", EPD_GMM_N_BINDINGS, sizeof (EpdGmmPush), error);
  return self->kernels[0] != NULL;
}

static gsize
emp_n_chunks (EpdVkDenoiser *self)
{
  return (self->n + EMP_CHUNK - 1) / EMP_CHUNK;
}

static gboolean
setup_empirical (EpdVkDenoiser *self,
                 EpdEmpirical  *empirical,
                 GError       **error)
{
  static const struct { const char *name; guint n_bindings; } kernels[N_KERNELS] = {
    { "emp-logits", EPD_EMP_LOGITS_N_BINDINGS }, { "emp-softmax", EPD_EMP_SOFTMAX_N_BINDINGS },
    { "emp-weighted", EPD_EMP_WEIGHTED_N_BINDINGS }, { "emp-reduce", EPD_EMP_REDUCE_N_BINDINGS },
  };
  const float *data = epd_empirical_get_data (empirical);
  gsize range = epd_vk_context_get_max_buffer_range (self->context);
  g_autofree float *half_norm = g_new (float, self->n);

  for (gsize i = 0; i < self->n; i++)
    {
      double sum = 0.0;

      for (guint j = 0; j < self->dim; j++)
        sum += (double) data[i * self->dim + j] * data[i * self->dim + j];
      half_norm[i] = (float) (0.5 * sum);
    }
  self->params[EMP_Y] = upload_floats (self->context, "emp images", data, self->n * self->dim, error);
  if (self->params[EMP_Y] == NULL)
    {
      g_prefix_error (error, "the training images: ");
      return FALSE;
    }
  self->params[EMP_HALF_NORM] = upload_floats (self->context, "emp half norms", half_norm, self->n, error);
  if (self->params[EMP_HALF_NORM] == NULL)
    return FALSE;
  for (guint i = 0; i < N_KERNELS; i++)
    if ((self->kernels[i] = epd_vk_kernel_new (self->context, kernels[i].name, kernels[i].n_bindings,
                                               sizeof (EpdEmpPush), error)) == NULL)
      return FALSE;
  /* The logits [rows][n] and partial sums [chunks][rows][dim] of one pass
   * must each fit one storage buffer. */
  range = MIN (range, MAX_SCRATCH_FLOATS * sizeof (float));
  self->pass_rows = MIN (MAX_PASS_ROWS, range / (self->n * sizeof (float)));
  self->pass_rows = MIN (self->pass_rows, range / (emp_n_chunks (self) * self->dim * sizeof (float)));
  if (self->pass_rows == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%s cannot hold one row of logits over %" G_GSIZE_FORMAT " images",
                   epd_vk_context_get_info (self->context)->name, self->n);
      return FALSE;
    }
  return TRUE;
}

/* The CPU model's description without its device part, e.g. "gmm:ring8". */
static char *
model_name (EpdDenoiser *cpu)
{
  const char *text = epd_denoiser_describe (cpu);
  const char *paren = strstr (text, " (");

  return paren != NULL ? g_strndup (text, paren - text) : g_strdup (text);
}

EpdVkDenoiser *
epd_vk_denoiser_new (EpdVkContext *context,
                     EpdDenoiser  *cpu_model,
                     GError      **error)
{
  g_autoptr(EpdVkDenoiser) self = NULL;
  g_autofree char *name = NULL;
  gboolean ok;

  g_return_val_if_fail (EPD_IS_VK_CONTEXT (context), NULL);
  g_return_val_if_fail (EPD_IS_DENOISER (cpu_model), NULL);
  if (!EPD_IS_GMM (cpu_model) && !EPD_IS_EMPIRICAL (cpu_model) && !EPD_IS_UNET (cpu_model))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "no Vulkan kernel for the model %s",
                   epd_denoiser_describe (cpu_model));
      return NULL;
    }
  /* The kernels run 256 invocations per workgroup; Vulkan only promises 128. */
  if (epd_vk_context_get_limits (context)->maxComputeWorkGroupInvocations < 256)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "%s runs at most %u invocations per workgroup; "
                   "the kernels need 256", epd_vk_context_get_info (context)->name,
                   epd_vk_context_get_limits (context)->maxComputeWorkGroupInvocations);
      return NULL;
    }
  self = g_object_new (EPD_TYPE_VK_DENOISER, NULL);
  self->context = g_object_ref (context);
  self->cpu = g_object_ref (cpu_model);
  self->dim = epd_denoiser_get_dim (cpu_model);
  self->is_gmm = EPD_IS_GMM (cpu_model);
  if (EPD_IS_UNET (cpu_model))
    ok = (self->unet = epd_vk_unet_new (context, epd_unet_get_plan (EPD_UNET (cpu_model)), error)) != NULL;
  else if (self->is_gmm)
    {
      self->k = epd_gmm_get_n_components (EPD_GMM (cpu_model));
      /* The per-row component scratch [rows][k] must fit one buffer. */
      self->pass_rows = MAX (1, MIN (MAX_PASS_ROWS, epd_vk_context_get_max_buffer_range (context) /
                                                    ((gsize) self->k * sizeof (float))));
      ok = setup_gmm (self, EPD_GMM (cpu_model), error);
    }
  else
    {
      self->n = epd_empirical_get_n (EPD_EMPIRICAL (cpu_model));
      ok = setup_empirical (self, EPD_EMPIRICAL (cpu_model), error);
    }
  if (!ok)
    return NULL;
  name = model_name (cpu_model);
  self->label = g_strdup_printf ("%s on %s (Vulkan, float32)", name, epd_vk_context_get_info (context)->name);
  self->fallback_label = g_strdup_printf ("%s (Vulkan failed: CPU fallback)", epd_denoiser_describe (cpu_model));
  return g_steal_pointer (&self);
}

/* name: for debuggers and validation messages (VK_EXT_debug_utils). */
static EpdVkBuffer *
new_buffer (EpdVkDenoiser *self,
            const char    *name,
            gsize          n_floats,
            EpdVkMemory    where,
            GError       **error)
{
  EpdVkBuffer *buffer = epd_vk_buffer_new (self->context, n_floats * sizeof (float), where, error);

  if (buffer != NULL)
    epd_vk_buffer_set_name (buffer, name);
  return buffer;
}

static void
bind_all (EpdVkDenoiser *self)
{
  EpdVkKernel **k = self->kernels;

  if (self->is_gmm)
    {
      epd_vk_kernel_bind (k[0], EPD_GMM_X, self->x);
      epd_vk_kernel_bind (k[0], EPD_GMM_SIGMA, self->row_param);
      epd_vk_kernel_bind (k[0], EPD_GMM_LOG_WEIGHT, self->params[GMM_LOG_WEIGHT]);
      epd_vk_kernel_bind (k[0], EPD_GMM_MEANS, self->params[GMM_MEANS]);
      epd_vk_kernel_bind (k[0], EPD_GMM_VAR, self->params[GMM_VAR]);
      epd_vk_kernel_bind (k[0], EPD_GMM_SCRATCH, self->scratch);
      epd_vk_kernel_bind (k[0], EPD_GMM_OUT, self->out);
      return;
    }
  epd_vk_kernel_bind (k[EMP_LOGITS], EPD_EMP_LOGITS_X, self->x);
  epd_vk_kernel_bind (k[EMP_LOGITS], EPD_EMP_LOGITS_Y, self->params[EMP_Y]);
  epd_vk_kernel_bind (k[EMP_LOGITS], EPD_EMP_LOGITS_HALF_NORM, self->params[EMP_HALF_NORM]);
  epd_vk_kernel_bind (k[EMP_LOGITS], EPD_EMP_LOGITS_INV_VAR, self->row_param);
  epd_vk_kernel_bind (k[EMP_LOGITS], EPD_EMP_LOGITS_OUT, self->scratch);
  epd_vk_kernel_bind (k[EMP_SOFTMAX], EPD_EMP_SOFTMAX_LOGITS, self->scratch);
  epd_vk_kernel_bind (k[EMP_SOFTMAX], EPD_EMP_SOFTMAX_ROW_SUM, self->row_sum);
  epd_vk_kernel_bind (k[EMP_WEIGHTED], EPD_EMP_WEIGHTED_WEIGHTS, self->scratch);
  epd_vk_kernel_bind (k[EMP_WEIGHTED], EPD_EMP_WEIGHTED_Y, self->params[EMP_Y]);
  epd_vk_kernel_bind (k[EMP_WEIGHTED], EPD_EMP_WEIGHTED_PARTIAL, self->partial);
  epd_vk_kernel_bind (k[EMP_REDUCE], EPD_EMP_REDUCE_PARTIAL, self->partial);
  epd_vk_kernel_bind (k[EMP_REDUCE], EPD_EMP_REDUCE_ROW_SUM, self->row_sum);
  epd_vk_kernel_bind (k[EMP_REDUCE], EPD_EMP_REDUCE_OUT, self->out);
}

/* Scratch for one pass of `rows` rows (at most pass_rows). */
static gboolean
alloc_scratch (EpdVkDenoiser *self,
               gsize          rows,
               GError       **error)
{
  if (self->is_gmm)
    self->scratch = new_buffer (self, "gmm scratch", rows * self->k, EPD_VK_MEMORY_DEVICE, error);
  else
    {
      self->scratch = new_buffer (self, "emp logits", rows * self->n, EPD_VK_MEMORY_DEVICE, error);
      if (self->scratch != NULL)
        self->row_sum = new_buffer (self, "emp row sums", rows, EPD_VK_MEMORY_DEVICE, error);
      if (self->row_sum != NULL)
        self->partial = new_buffer (self, "emp partial sums", emp_n_chunks (self) * rows * self->dim, EPD_VK_MEMORY_DEVICE, error);
    }
  return self->scratch != NULL && (self->is_gmm || self->partial != NULL);
}

/* Buffers for batch rows, and scratch for one pass of up to batch rows. */
static gboolean
ensure_capacity (EpdVkDenoiser *self,
                 gsize          batch,
                 GError       **error)
{
  gboolean staged = epd_vk_buffer_get_mapped (self->params[0]) == NULL;

  if (batch <= self->capacity)
    return TRUE;
  free_io (self);
  if (!alloc_scratch (self, MIN (batch, self->pass_rows), error))
    return FALSE;
  if ((self->x = new_buffer (self, "x", batch * self->dim, EPD_VK_MEMORY_DEVICE, error)) == NULL ||
      (self->row_param = new_buffer (self, "sigma", batch, EPD_VK_MEMORY_DEVICE, error)) == NULL ||
      (self->out = new_buffer (self, "out", batch * self->dim, EPD_VK_MEMORY_DEVICE, error)) == NULL)
    return FALSE;
  if (staged &&
      ((self->stage_x = new_buffer (self, "staging x", batch * self->dim, EPD_VK_MEMORY_HOST, error)) == NULL ||
       (self->stage_row = new_buffer (self, "staging sigma", batch, EPD_VK_MEMORY_HOST, error)) == NULL ||
       (self->stage_out = new_buffer (self, "staging out", batch * self->dim, EPD_VK_MEMORY_HOST, error)) == NULL))
    return FALSE;
  bind_all (self);
  self->capacity = batch;
  return TRUE;
}

static gboolean
check_sigma (EpdVkDenoiser *self,
             const double  *sigma,
             gsize          batch,
             GError       **error)
{
  for (gsize b = 0; b < batch; b++)
    if (!isfinite (sigma[b]) || sigma[b] < 0.0 || (!self->is_gmm && sigma[b] == 0.0))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "sigma[%" G_GSIZE_FORMAT "] = %g: must be %s and finite",
                     b, sigma[b], self->is_gmm ? "non-negative" : "positive");
        return FALSE;
      }
  return TRUE;
}

/* x and the per-row parameter into device (or staging) memory. */
static void
write_inputs (EpdVkDenoiser *self,
              const double  *x,
              const double  *sigma,
              gsize          batch)
{
  float *xf = epd_vk_buffer_get_mapped (self->stage_x != NULL ? self->stage_x : self->x);
  float *rf = epd_vk_buffer_get_mapped (self->stage_row != NULL ? self->stage_row : self->row_param);

  for (gsize i = 0; i < batch * self->dim; i++)
    xf[i] = (float) x[i];
  for (gsize b = 0; b < batch; b++)
    rf[b] = (float) (self->is_gmm ? sigma[b] : 1.0 / (sigma[b] * sigma[b]));
}

static void
read_output (EpdVkDenoiser *self,
             gsize          batch,
             double        *out)
{
  const float *of = epd_vk_buffer_get_mapped (self->stage_out != NULL ? self->stage_out : self->out);

  for (gsize i = 0; i < batch * self->dim; i++)
    out[i] = of[i];
}

static guint32
div_up (gsize a,
        gsize b)
{
  return (guint32) ((a + b - 1) / b);
}

static void
add_copy (GArray      *steps,
          EpdVkBuffer *src,
          EpdVkBuffer *dst,
          gsize        size)
{
  EpdVkStep step = { .src = src, .dst = dst, .size = size };

  g_array_append_val (steps, step);
}

static void
add_dispatch (GArray      *steps,
              EpdVkKernel *kernel,
              const void  *push,
              guint32      push_size,
              guint32      gx,
              guint32      gy,
              guint32      gz)
{
  EpdVkStep step = { .kernel = kernel, .push = push, .push_size = push_size, .groups = { gx, gy, gz } };

  g_array_append_val (steps, step);
}

/* One pass over rows row0 .. row0 + rows - 1: logits, softmax, partial
 * weighted sums, their reduction. */
static void
add_empirical_pass (EpdVkDenoiser *self,
                    GArray        *steps,
                    EpdEmpPush       *push)
{
  guint32 max_groups = epd_vk_context_get_limits (self->context)->maxComputeWorkGroupCount[0];

  add_dispatch (steps, self->kernels[EMP_LOGITS], push, sizeof *push,
                div_up (self->n, 64), div_up (push->rows, 32), 1);
  add_dispatch (steps, self->kernels[EMP_SOFTMAX], push, sizeof *push, MIN (push->rows, max_groups), 1, 1);
  add_dispatch (steps, self->kernels[EMP_WEIGHTED], push, sizeof *push,
                div_up (self->dim, 64), div_up (push->rows, 16), (guint32) emp_n_chunks (self));
  add_dispatch (steps, self->kernels[EMP_REDUCE], push, sizeof *push,
                MIN (div_up ((gsize) push->rows * self->dim, 256), max_groups), 1, 1);
}

static gboolean
run_device (EpdVkDenoiser *self,
            const double  *x,
            const double  *sigma,
            gsize          batch,
            double        *out,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GArray) steps = g_array_new (FALSE, TRUE, sizeof (EpdVkStep));
  gsize n_passes = (batch + self->pass_rows - 1) / self->pass_rows;
  g_autofree EpdEmpPush *emp = g_new0 (EpdEmpPush, n_passes);
  EpdGmmPush gmm = { (guint32) batch, self->k, self->dim };
  gsize x_bytes = batch * self->dim * sizeof (float);

  /* A cancelled call may have left a submission reading these buffers. */
  if (!epd_vk_context_wait_pending (self->context, cancellable, error) || !ensure_capacity (self, batch, error))
    return FALSE;
  write_inputs (self, x, sigma, batch);
  if (self->stage_x != NULL)
    {
      add_copy (steps, self->stage_x, self->x, x_bytes);
      add_copy (steps, self->stage_row, self->row_param, batch * sizeof (float));
    }
  if (self->is_gmm)
    add_dispatch (steps, self->kernels[0], &gmm, sizeof gmm, (guint32) MIN (batch, self->pass_rows), 1, 1);
  else
    for (gsize p = 0; p < n_passes; p++)
      {
        emp[p] = (EpdEmpPush) { (guint32) (p * self->pass_rows),
                             (guint32) MIN (self->pass_rows, batch - p * self->pass_rows),
                             (guint32) self->n, self->dim, EMP_CHUNK };
        add_empirical_pass (self, steps, &emp[p]);
      }
  if (self->stage_out != NULL)
    add_copy (steps, self->out, self->stage_out, x_bytes);
  if (!epd_vk_context_submit (self->context, (EpdVkStep *) steps->data, steps->len, cancellable, error))
    return FALSE;
  self->n_submits++;
  read_output (self, batch, out);
  return TRUE;
}

/* The most rows one submission takes: x and out, [rows][dim] floats each,
 * must fit one storage buffer. Larger batches go as several submissions. */
static gsize
max_call_rows (EpdVkDenoiser *self)
{
  return MAX (1, epd_vk_context_get_max_buffer_range (self->context) / ((gsize) self->dim * sizeof (float)));
}

static gboolean
run_device_split (EpdVkDenoiser *self,
                  const double  *x,
                  const double  *sigma,
                  gsize          batch,
                  double        *out,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gsize step = max_call_rows (self);

  /* A UNet splits its batch into passes itself, within one submission. */
  if (self->unet != NULL)
    return epd_vk_unet_denoise (self->unet, EPD_UNET (self->cpu), x, sigma, batch, out, cancellable, error);
  for (gsize row0 = 0; row0 < batch; row0 += step)
    {
      gsize rows = MIN (step, batch - row0);

      if (!run_device (self, x + row0 * self->dim, sigma + row0, rows, out + row0 * self->dim, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* A lost device is gone for good: every later call runs on the CPU model.
 * Any other failure (memory, a limit of the device) costs only this call. */
static void
note_failure (EpdVkDenoiser *self,
              const GError  *device_error)
{
  const char *name = epd_vk_context_get_info (self->context)->name;

  free_io (self);
  if (epd_vk_context_is_lost (self->context))
    {
      g_message ("Vulkan denoising on %s failed (%s): continuing on the CPU path", name, device_error->message);
      g_atomic_int_set (&self->fell_back, TRUE);
    }
  else if (!self->noticed)
    {
      g_message ("Vulkan denoising on %s failed (%s): this call ran on the CPU path; "
                 "later calls try the device again", name, device_error->message);
      self->noticed = TRUE;
    }
}

static gboolean
epd_vk_denoiser_denoise (EpdDenoiser  *denoiser,
                         const double *x,
                         const double *sigma,
                         gsize         batch,
                         double       *out,
                         GError      **error)
{
  EpdVkDenoiser *self = EPD_VK_DENOISER (denoiser);
  /* The interface has no cancellable: the caller's is the thread's current
   * one (epd_solve() pushes it). */
  GCancellable *cancellable = g_cancellable_get_current ();
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GError) device_error = NULL;

  /* Bad rows are the caller's error, not the device's: no fallback for them. */
  if (!check_sigma (self, sigma, batch, error) ||
      (self->unet != NULL && !epd_vk_unet_check_rows (x, batch * self->dim, error)))
    return FALSE;
  locker = g_mutex_locker_new (&self->lock);
  if (g_atomic_int_get (&self->fell_back))
    return epd_denoiser_denoise (self->cpu, x, sigma, batch, out, error);
  if (run_device_split (self, x, sigma, batch, out, cancellable, &device_error))
    return TRUE;
  /* Cancelling is not a device failure: the solve stops. */
  if (g_error_matches (device_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&device_error));
      return FALSE;
    }
  /* A failing device must not lose the user's solve: the CPU model goes on. */
  note_failure (self, device_error);
  return epd_denoiser_denoise (self->cpu, x, sigma, batch, out, error);
}

static gboolean
epd_vk_denoiser_denoise_jvp (EpdDenoiser  *denoiser,
                             const double *x,
                             const double *sigma,
                             const double *dx,
                             const double *dsigma,
                             gsize         batch,
                             double       *out,
                             double       *dout,
                             GError      **error)
{
  EpdVkDenoiser *self = EPD_VK_DENOISER (denoiser);

  return epd_denoiser_denoise_jvp (self->cpu, x, sigma, dx, dsigma, batch, out, dout, error);
}

static guint
epd_vk_denoiser_get_dim (EpdDenoiser *denoiser)
{
  return EPD_VK_DENOISER (denoiser)->dim;
}

static const char *
epd_vk_denoiser_describe (EpdDenoiser *denoiser)
{
  EpdVkDenoiser *self = EPD_VK_DENOISER (denoiser);

  return g_atomic_int_get (&self->fell_back) ? self->fallback_label : self->label;
}

static gboolean
epd_vk_denoiser_get_image_shape (EpdDenoiser *denoiser,
                                 guint       *side,
                                 guint       *channels)
{
  return epd_denoiser_get_image_shape (EPD_VK_DENOISER (denoiser)->cpu, side, channels);
}

/* A UNet's trained range: the schedule must not start where it was never trained. */
static gboolean
epd_vk_denoiser_get_sigma_range (EpdDenoiser *denoiser,
                                 double      *sigma_min,
                                 double      *sigma_max)
{
  return epd_denoiser_get_sigma_range (EPD_VK_DENOISER (denoiser)->cpu, sigma_min, sigma_max);
}

static void
epd_vk_denoiser_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = epd_vk_denoiser_get_dim;
  iface->describe = epd_vk_denoiser_describe;
  iface->denoise = epd_vk_denoiser_denoise;
  iface->denoise_jvp = epd_vk_denoiser_denoise_jvp;
  iface->get_image_shape = epd_vk_denoiser_get_image_shape;
  iface->get_sigma_range = epd_vk_denoiser_get_sigma_range;
}

EpdVkContext *
epd_vk_denoiser_get_context (EpdVkDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_VK_DENOISER (self), NULL);
  return self->context;
}

EpdDenoiser *
epd_vk_denoiser_get_cpu (EpdVkDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_VK_DENOISER (self), NULL);
  return self->cpu;
}

gboolean
epd_vk_denoiser_fell_back (EpdVkDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_VK_DENOISER (self), FALSE);
  return g_atomic_int_get (&self->fell_back);
}

guint64
epd_vk_denoiser_get_n_submits (EpdVkDenoiser *self)
{
  g_return_val_if_fail (EPD_IS_VK_DENOISER (self), 0);
  return self->n_submits + (self->unet != NULL ? epd_vk_unet_get_n_submits (self->unet) : 0);
}
