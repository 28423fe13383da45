/* SPDX-License-Identifier: MIT
 * epd-unet.c: a diffusers UNet2DModel folder as a denoiser D(x, sigma). */
#include "epd-unet.h"

#include <math.h>
#include <string.h>

#include "epd-blas.h"
#include "epd-file.h"
#include "epd-unet-private.h"

/* Rows per network run: bounds the activations (the 35.7 M-parameter CIFAR-10
 * network needs ~3 MB per sample). */
#define MAX_CHUNK 64
/* Most parts a run's rows are split into, one thread and executor each. */
#define MAX_PARTS 16

struct _EpdUnet
{
  GObject           parent_instance;

  char             *label;
  EpdUnetConfig     config;
  EpdUnetScheduler  scheduler;
  EpdUnetPlan      *plan;
  double           *sigmas;      /* [T], increasing */
  double           *log_sigmas;
  guint             dim;
  GMutex            lock;        /* guards cpu */
  EpdUnetCpu       *cpu[MAX_PARTS];
};

static void epd_unet_denoiser_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdUnet, epd_unet, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, epd_unet_denoiser_init))

static void
epd_unet_finalize (GObject *object)
{
  EpdUnet *self = EPD_UNET (object);

  g_free (self->label);
  g_clear_pointer (&self->plan, epd_unet_plan_unref);
  for (guint i = 0; i < MAX_PARTS; i++)
    g_clear_pointer (&self->cpu[i], epd_unet_cpu_free);
  g_free (self->sigmas);
  g_free (self->log_sigmas);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (epd_unet_parent_class)->finalize (object);
}

static void
epd_unet_class_init (EpdUnetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_unet_finalize;
}

static void
epd_unet_init (EpdUnet *self)
{
  g_mutex_init (&self->lock);
}

/* ---- loading ------------------------------------------------------------------ */

static gboolean
load_config (EpdUnet     *self,
             const char  *dir,
             GError     **error)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  gsize length;

  if (!epd_file_read_capped (path, EPD_FILE_MAX_JSON, &text, &length, error))
    return FALSE;
  return epd_unet_config_parse (text, length, path, &self->config, error);
}

/* scheduler_config.json beside the model, or in ../scheduler/ (a pipeline
 * folder's layout); neither: DDPMScheduler's defaults. */
static gboolean
load_scheduler (EpdUnet     *self,
                const char  *dir,
                GError     **error)
{
  g_autofree char *beside = g_build_filename (dir, "scheduler_config.json", NULL);
  g_autofree char *pipeline = g_build_filename (dir, "..", "scheduler", "scheduler_config.json", NULL);
  const char *path = g_file_test (beside, G_FILE_TEST_EXISTS) ? beside
                     : g_file_test (pipeline, G_FILE_TEST_EXISTS) ? pipeline : NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  if (path != NULL && !epd_file_read_capped (path, EPD_FILE_MAX_JSON, &text, &length, error))
    return FALSE;
  return epd_unet_scheduler_parse (text, length, path, &self->scheduler, error);
}

static gboolean
make_sigmas (EpdUnet  *self,
             GError  **error)
{
  guint n = self->scheduler.num_train_timesteps;
  g_autofree double *abar = epd_unet_scheduler_alphas_cumprod (&self->scheduler);

  self->sigmas = g_new (double, n);
  self->log_sigmas = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      self->sigmas[i] = sqrt ((1.0 - abar[i]) / abar[i]);
      self->log_sigmas[i] = log (self->sigmas[i]);
      if (!isfinite (self->log_sigmas[i]) || (i > 0 && !(self->log_sigmas[i] > self->log_sigmas[i - 1])))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                       "scheduler: sigma_%u = %g does not make an increasing, finite, positive table", i,
                       self->sigmas[i]);
          return FALSE;
        }
    }
  return TRUE;
}

EpdUnet *
epd_unet_load (const char  *dir,
               GError     **error)
{
  g_autoptr(EpdUnet) self = g_object_new (EPD_TYPE_UNET, NULL);
  g_autofree char *weights = g_build_filename (dir, "diffusion_pytorch_model.safetensors", NULL);
  g_autoptr(EpdSafetensors) tensors = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: not a folder (a diffusers UNet2DModel folder holds "
                   "config.json and diffusion_pytorch_model.safetensors)", dir);
      return NULL;
    }
  if (!load_config (self, dir, error) || !load_scheduler (self, dir, error) || !make_sigmas (self, error))
    return NULL;
  tensors = epd_safetensors_open (weights, error);
  if (tensors == NULL)
    return NULL;
  self->plan = epd_unet_plan_compile (&self->config, tensors, error);
  if (self->plan == NULL)
    return NULL;
  self->dim = self->config.in_channels * self->config.sample_size * self->config.sample_size;
  self->cpu[0] = epd_unet_cpu_new (self->plan);
  self->label = g_strdup_printf ("unet:%s (%" G_GSIZE_FORMAT " parameters, CPU, OpenBLAS float32)", dir,
                                 self->plan->n_parameters);
  return g_steal_pointer (&self);
}

/* ---- the sigma wrapper ---------------------------------------------------------- */

EpdUnetPlan *
epd_unet_get_plan (EpdUnet *self)
{
  return self->plan;
}

const double *
epd_unet_get_sigmas (EpdUnet *self,
                     guint   *n)
{
  *n = self->scheduler.num_train_timesteps;
  return self->sigmas;
}

EpdUnetPrediction
epd_unet_get_prediction (EpdUnet *self)
{
  return self->scheduler.prediction_type;
}

void
epd_unet_get_sigma_range (EpdUnet *self,
                          double  *sigma_min,
                          double  *sigma_max)
{
  *sigma_min = self->sigmas[0];
  *sigma_max = self->sigmas[self->scheduler.num_train_timesteps - 1];
}

double
epd_unet_sigma_to_timestep (EpdUnet *self,
                            double   sigma)
{
  const double *ls = self->log_sigmas;
  guint n = self->scheduler.num_train_timesteps, lo = 0, hi = n - 1;
  double s = log (sigma);

  if (!(s > ls[0]))
    return 0.0;
  if (s >= ls[n - 1])
    return n - 1;
  /* ls[lo] <= s < ls[hi] */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (ls[mid] <= s)
        lo = mid;
      else
        hi = mid;
    }
  return lo + (s - ls[lo]) / (ls[hi] - ls[lo]);
}

void
epd_unet_prepare_batch (EpdUnet      *self,
                        const double *x,
                        const double *sigma,
                        gsize         batch,
                        float        *net_in,
                        float        *timesteps)
{
  guint c = self->config.in_channels, p = self->config.sample_size * self->config.sample_size;

  for (gsize n = 0; n < batch; n++)
    {
      double c_in = 1.0 / sqrt (1.0 + sigma[n] * sigma[n]);
      const double *row = x + n * self->dim;
      float *dst = net_in + n * self->dim;

      timesteps[n] = (float) epd_unet_sigma_to_timestep (self, sigma[n]);
      for (guint ch = 0; ch < c; ch++)
        for (guint j = 0; j < p; j++)
          dst[ch * p + j] = (float) (row[j * c + ch] * c_in);
    }
}

void
epd_unet_finish_batch (EpdUnet      *self,
                       const double *x,
                       const double *sigma,
                       gsize         batch,
                       const float  *net_out,
                       double       *out)
{
  guint c = self->config.in_channels, p = self->config.sample_size * self->config.sample_size;

  for (gsize n = 0; n < batch; n++)
    {
      double s = sigma[n], s2 = s * s;
      const double *row = x + n * self->dim;
      const float *net = net_out + n * self->dim;
      double *dst = out + n * self->dim;

      for (guint ch = 0; ch < c; ch++)
        for (guint j = 0; j < p; j++)
          {
            gsize i = (gsize) j * c + ch;
            double f = net[ch * p + j];

            switch (self->scheduler.prediction_type)
              {
              case EPD_UNET_PREDICT_V:
                dst[i] = row[i] / (1.0 + s2) - s / sqrt (1.0 + s2) * f;
                break;
              case EPD_UNET_PREDICT_SAMPLE:
                dst[i] = f;
                break;
              case EPD_UNET_PREDICT_EPSILON:
              default:
                dst[i] = row[i] - s * f;
                break;
              }
          }
    }
}

/* ---- the denoiser --------------------------------------------------------------- */

static gboolean
check_rows (EpdUnet       *self,
            const double  *x,
            const double  *sigma,
            gsize          batch,
            GError       **error)
{
  for (gsize r = 0; r < batch; r++)
    if (!(sigma[r] > 0.0) || !isfinite (sigma[r]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "UNet denoiser: sigma[%" G_GSIZE_FORMAT "] is %g, not a positive number", r, sigma[r]);
        return FALSE;
      }
  for (gsize i = 0; i < batch * self->dim; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "UNet denoiser: x[%" G_GSIZE_FORMAT "] is %g, not finite", i, x[i]);
        return FALSE;
      }
  return TRUE;
}

/* One thread's share of a run: its rows on its own executor. */
typedef struct
{
  EpdUnetCpu  *cpu;
  gsize        rows;
  const float *input;
  const float *timesteps;
  float       *output;
  GError      *error;
  gboolean     ok;
} Part;

static gpointer
run_part (gpointer data)
{
  Part *part = data;

  epd_unet_cpu_serial_begin ();
  part->ok = epd_unet_cpu_run (part->cpu, part->rows, part->input, part->timesteps, part->output,
                               &part->error);
  epd_unet_cpu_serial_end ();
  return NULL;
}

/* Small GEMMs split over OpenBLAS's threads spin more than they compute (16
 * images at NFE 5 ran 1.25 s on two threads against 1.40 s on one), so rows
 * are split instead: each thread runs its part of the batch on an executor of
 * its own, with serial BLAS and loops. Called with the lock held. */
static gboolean
run_parts (EpdUnet     *self,
           gsize        rows,
           const float *net_in,
           const float *timesteps,
           float       *net_out,
           GError     **error)
{
  guint n = (guint) MIN (MIN (epd_unet_cpu_threads (), MAX_PARTS), rows);
  Part parts[MAX_PARTS];
  GThread *threads[MAX_PARTS] = { NULL };
  gboolean ok = TRUE;

  if (n <= 1)
    return epd_unet_cpu_run (self->cpu[0], rows, net_in, timesteps, net_out, error);
  for (guint i = 0; i < n; i++)
    {
      gsize r0 = rows * i / n, r1 = rows * (i + 1) / n;

      if (self->cpu[i] == NULL)
        self->cpu[i] = epd_unet_cpu_new (self->plan);
      parts[i] = (Part) { self->cpu[i], r1 - r0, net_in + r0 * self->dim, timesteps + r0,
                          net_out + r0 * self->dim, NULL, FALSE };
    }
  epd_blas_serial_begin ();
  /* A thread that cannot start leaves its part to the caller. */
  for (guint i = 1; i < n; i++)
    threads[i] = g_thread_try_new ("epd-unet", run_part, &parts[i], NULL);
  run_part (&parts[0]);
  for (guint i = 1; i < n; i++)
    if (threads[i] != NULL)
      g_thread_join (threads[i]);
    else
      run_part (&parts[i]);
  epd_blas_serial_end ();
  for (guint i = 0; i < n; i++)
    {
      if (!parts[i].ok && ok)
        g_propagate_error (error, g_steal_pointer (&parts[i].error));
      ok = ok && parts[i].ok;
      g_clear_error (&parts[i].error);
    }
  return ok;
}

static gboolean
run_chunk (EpdUnet       *self,
           const double  *x,
           const double  *sigma,
           gsize          rows,
           float         *net_in,
           float         *timesteps,
           float         *net_out,
           double        *out,
           GError       **error)
{
  gboolean ok;

  epd_unet_prepare_batch (self, x, sigma, rows, net_in, timesteps);
  g_mutex_lock (&self->lock);
  ok = run_parts (self, rows, net_in, timesteps, net_out, error);
  g_mutex_unlock (&self->lock);
  if (ok)
    epd_unet_finish_batch (self, x, sigma, rows, net_out, out);
  return ok;
}

static gboolean
epd_unet_denoise (EpdDenoiser  *denoiser,
                  const double *x,
                  const double *sigma,
                  gsize         batch,
                  double       *out,
                  GError      **error)
{
  EpdUnet *self = EPD_UNET (denoiser);
  gsize chunk = MIN (batch, MAX_CHUNK), d = self->dim;
  g_autofree float *net_in = NULL, *net_out = NULL, *timesteps = NULL;

  if (!check_rows (self, x, sigma, batch, error))
    return FALSE;
  net_in = g_try_new (float, chunk * d);
  net_out = g_try_new (float, chunk * d);
  timesteps = g_try_new (float, MAX (chunk, 1));
  if (batch > 0 && (net_in == NULL || net_out == NULL || timesteps == NULL))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "UNet denoiser: not enough memory for a batch");
      return FALSE;
    }
  for (gsize r0 = 0; r0 < batch; r0 += chunk)
    if (!run_chunk (self, x + r0 * d, sigma + r0, MIN (chunk, batch - r0), net_in, timesteps, net_out,
                    out + r0 * d, error))
      return FALSE;
  return TRUE;
}

static guint
epd_unet_get_dim (EpdDenoiser *denoiser)
{
  return EPD_UNET (denoiser)->dim;
}

static const char *
epd_unet_describe (EpdDenoiser *denoiser)
{
  return EPD_UNET (denoiser)->label;
}

static gboolean
epd_unet_get_image_shape (EpdDenoiser *denoiser,
                          guint       *side,
                          guint       *channels)
{
  EpdUnet *self = EPD_UNET (denoiser);

  *side = self->config.sample_size;
  *channels = self->config.in_channels;
  return TRUE;
}

/* The network runs in float32 (relative rounding ~1e-7, more after many layers): a
 * central difference with the float64 models' step 1e-6 would be mostly rounding
 * noise, so the step is near the float32 optimum, eps^(1/3). */
static double
epd_unet_fd_step (EpdDenoiser *denoiser)
{
  return 1e-3;
}

static gboolean
epd_unet_get_sigma_range_iface (EpdDenoiser *denoiser,
                                double      *sigma_min,
                                double      *sigma_max)
{
  epd_unet_get_sigma_range (EPD_UNET (denoiser), sigma_min, sigma_max);
  return TRUE;
}

static void
epd_unet_denoiser_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = epd_unet_get_dim;
  iface->describe = epd_unet_describe;
  iface->denoise = epd_unet_denoise;
  iface->get_image_shape = epd_unet_get_image_shape;
  iface->fd_step = epd_unet_fd_step;
  iface->get_sigma_range = epd_unet_get_sigma_range_iface;
}
