/* SPDX-License-Identifier: MIT */
/* bench-vk-unet.c: a diffusers UNet2DModel folder on the CPU path and on a
 * Vulkan device, batch by batch (a benchmark, not a test: see BENCHMARKS.md).
 *
 *   bench-vk-unet DIR [--device SEL] [--batch 1,16,64] [--repeats N]
 *
 * For each batch size: the median wall time of one denoiser call (after a
 * warm-up call) on each path, the network's FLOP rate (convolutions, linear
 * layers and attention products counted from the plan, 2 per multiply-add),
 * the device/CPU time ratio and the relative difference max|vk - cpu| / max|cpu|. */
#include <math.h>
#include <stdlib.h>

#include "epd-unet.h"
#include "epd-vk-denoiser.h"

/* Multiply-adds x 2 of one sample's forward pass. */
static double
plan_flops (const EpdUnetPlan *plan)
{
  double flops = 0.0;

  for (guint i = 0; i < plan->n_ops; i++)
    {
      const EpdUnetOp *op = &plan->ops[i];
      const EpdUnetValue *in = &plan->values[op->in[0]], *out = &plan->values[op->out];
      double p = (double) in->h * in->w;

      if (op->kind == EPD_UNET_OP_CONV2D)
        flops += 2.0 * out->c * in->c * op->kernel * op->kernel * out->h * out->w;
      else if (op->kind == EPD_UNET_OP_LINEAR)
        flops += 2.0 * out->c * in->c;
      else if (op->kind == EPD_UNET_OP_ATTENTION)
        flops += 2.0 * 2.0 * op->heads * op->head_dim * p * p;
    }
  return flops;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Median seconds per call over repeats calls, after one warm-up call. */
static gboolean
time_calls (EpdDenoiser  *model,
            const double *x,
            const double *sigma,
            gsize         batch,
            guint         repeats,
            double       *out,
            double       *seconds,
            GError      **error)
{
  g_autofree double *times = g_new (double, repeats);

  if (!epd_denoiser_denoise (model, x, sigma, batch, out, error))
    return FALSE;
  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      if (!epd_denoiser_denoise (model, x, sigma, batch, out, error))
        return FALSE;
      times[r] = (g_get_monotonic_time () - t0) / 1e6;
    }
  qsort (times, repeats, sizeof (double), compare_doubles);
  *seconds = times[repeats / 2];
  return TRUE;
}

static double
relative_difference (const double *a,
                     const double *b,
                     gsize         n)
{
  double diff = 0.0, scale = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      diff = MAX (diff, fabs (a[i] - b[i]));
      scale = MAX (scale, fabs (b[i]));
    }
  return scale > 0.0 ? diff / scale : diff;
}

static gboolean
bench_batch (EpdDenoiser *cpu,
             EpdDenoiser *vk,
             double       flops,
             gsize        batch,
             guint        repeats,
             GError     **error)
{
  guint dim = epd_denoiser_get_dim (cpu);
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) batch);
  g_autofree double *x = g_new (double, batch * dim), *sigma = g_new (double, batch);
  g_autofree double *on_cpu = g_new (double, batch * dim), *on_vk = g_new (double, batch * dim);
  double lo, hi, t_cpu, t_vk;

  epd_unet_get_sigma_range (EPD_UNET (cpu), &lo, &hi);
  for (gsize r = 0; r < batch; r++)
    {
      /* Noise levels spread over the model's range in log sigma. */
      sigma[r] = lo * pow (hi / lo, (r + 0.5) / batch);
      for (guint j = 0; j < dim; j++)
        x[r * dim + j] = g_rand_double_range (rand, -1.0, 1.0) + sigma[r] * epd_random_normal (rand);
    }
  if (!time_calls (cpu, x, sigma, batch, repeats, on_cpu, &t_cpu, error) ||
      !time_calls (vk, x, sigma, batch, repeats, on_vk, &t_vk, error))
    return FALSE;
  g_print ("| %" G_GSIZE_FORMAT " | %.2f | %.2f | %.2f | %.2f | %.1f | %.2e |\n", batch,
           1e3 * t_cpu, flops * batch / t_cpu / 1e9, 1e3 * t_vk, flops * batch / t_vk / 1e9,
           t_vk / t_cpu, relative_difference (on_vk, on_cpu, batch * dim));
  return TRUE;
}

int
main (int argc, char *argv[])
{
  g_autofree char *device = g_strdup ("vulkan");
  g_autofree char *batches = g_strdup ("1,4,16");
  gint repeats = 5;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Vulkan device: vulkan, auto, INDEX or NAME", "SEL" },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &batches, "batch sizes, comma-separated", "B,..." },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "timed calls per path and batch", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdUnet) unet = NULL;
  g_autoptr(EpdVkContext) context = NULL;
  g_autoptr(EpdVkDenoiser) vk = NULL;
  g_auto(GStrv) list = NULL;
  double flops;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || argc != 2 || repeats < 1)
    {
      g_printerr ("bench-vk-unet: %s\n", error ? error->message : "usage: bench-vk-unet DIR [OPTIONS]");
      return 2;
    }
  if ((unet = epd_unet_load (argv[1], &error)) == NULL ||
      (context = epd_vk_context_new (device, &error)) == NULL ||
      (vk = epd_vk_denoiser_new (context, EPD_DENOISER (unet), &error)) == NULL)
    {
      g_printerr ("bench-vk-unet: %s\n", error->message);
      return 1;
    }
  flops = plan_flops (epd_unet_get_plan (unet));
  g_print ("%s: %.4g GFLOP per sample; %s\n\n", argv[1], flops / 1e9, epd_denoiser_describe (EPD_DENOISER (vk)));
  g_print ("| B | CPU ms/call | CPU GFLOP/s | Vulkan ms/call | Vulkan GFLOP/s | Vulkan/CPU time | rel. diff |\n");
  g_print ("|---|---|---|---|---|---|---|\n");
  list = g_strsplit (batches, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      guint64 batch;

      if (!g_ascii_string_to_unsigned (list[i], 10, 1, 1 << 20, &batch, &error) ||
          !bench_batch (EPD_DENOISER (unet), EPD_DENOISER (vk), flops, batch, (guint) repeats, &error))
        {
          g_printerr ("bench-vk-unet: %s\n", error->message);
          return 1;
        }
    }
  if (epd_vk_denoiser_fell_back (vk))
    {
      g_printerr ("bench-vk-unet: the device failed; the Vulkan column timed the CPU fallback\n");
      return 1;
    }
  return 0;
}
