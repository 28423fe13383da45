/* SPDX-License-Identifier: MIT */
/* epd-cmd-bench.c: `epd bench`, denoiser throughput per device.
 *
 * For each model and device: the time of one denoise() call of B rows (the
 * median of --repeat calls after a warm-up), samples/s, achieved GFLOP/s and
 * GB/s. For the empirical model on the CPU, each timed call alternates with
 * the plain way of doing the same work on the same shapes, two full-shape
 * OpenBLAS GEMMs (dgemm; sgemm for a CPU implementation of Vulkan, which runs
 * on the same CPU; for a UNet the CPU executor's own GEMMs as bare sgemm
 * calls), and the table gives the median of their ratio with its range: a
 * loaded machine slows both alike. A GPU is compared with its
 * published fp32 peak when the card is known. Then the latency argument of
 * the paper: K parallel points as one call of K*B rows against K calls of B
 * rows. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "epd-cli.h"
#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-model-open.h"
#include "epd-vk-denoiser.h"
#include "epd-unet.h"

typedef struct
{
  char     **models;
  char      *device;
  char      *batches;
  int        points;
  int        repeat;
  gboolean   markdown;
  double     copy_gbs;
} BenchArgs;

/* The same work as one call, the plain way, OpenBLAS with its own threads:
 * for the empirical model G = X.Y^T and O = G.Y on the data set, full shape;
 * for a UNet the CPU executor's own GEMMs (epd_unet_cpu_gemms()) as bare
 * sgemm calls, without the im2col, normalisation and element-wise work
 * around them. */
typedef struct
{
  gboolean     single;
  gsize        n, rows;
  guint        dim;
  double      *y, *x, *g, *o;
  float       *yf, *xf, *gf, *of;
  EpdUnetPlan *plan;        /* a UNet's (borrowed), or NULL */
  GArray      *gemms;       /* its GEMMs for gemms_rows samples */
  gsize        gemms_rows;
  float       *a, *b, *c;   /* the largest operands of any of them */
} Reference;

/* Published fp32 (non-tensor) peaks, TFLOP/s, matched on the Vulkan name;
 * the first match wins. */
static const struct { const char *name; double tflops; } known_gpus[] = {
  { "H100 PCIe", 51.2 },
  { "H100", 66.9 },       /* SXM5 */
  { "H200", 66.9 },
  { "A100", 19.5 },
  { "L40S", 91.6 },
  { "L40", 90.5 },
  { "L4", 30.3 },         /* after L40S and L40, which contain "L4" */
  { "RTX 4090", 82.6 },
  { "Tesla T4", 8.1 },
};

/* Best of three copies of 256 MiB, in GB/s of bytes read plus written. */
static double
measure_copy (void)
{
  const gsize n = (gsize) 256 << 20;
  g_autofree char *src = g_malloc (n);
  g_autofree char *dst = g_malloc (n);
  double best = G_MAXDOUBLE;

  memset (src, 1, n);
  memset (dst, 0, n);
  for (int r = 0; r < 3; r++)
    {
      gint64 start = g_get_monotonic_time ();

      memcpy (dst, src, n);
      best = MIN (best, (g_get_monotonic_time () - start) / 1e6);
    }
  return 2.0 * n / best / 1e9;
}

/* FLOPs per row and bytes of model data read per call. */
static void
model_cost (EpdDenoiser *denoiser,
            double      *flops_per_row,
            double      *bytes_per_call)
{
  EpdDenoiser *cpu = EPD_IS_VK_DENOISER (denoiser) ? epd_vk_denoiser_get_cpu (EPD_VK_DENOISER (denoiser)) : denoiser;
  double word = 4.0;  /* the data set's float pixels, on both paths */
  double dim = epd_denoiser_get_dim (cpu);

  *flops_per_row = *bytes_per_call = 0.0;
  if (EPD_IS_EMPIRICAL (cpu))
    {
      /* x.y_i and sum_i p_i y_i: two products of 2 N dim. */
      double n = (double) epd_empirical_get_n (EPD_EMPIRICAL (cpu));
      *flops_per_row = 4.0 * n * dim;
      *bytes_per_call = n * dim * word;
    }
  else if (EPD_IS_GMM (cpu))
    {
      /* Per component: the distance (3 dim) and the posterior mean (4 dim). */
      double k = epd_gmm_get_n_components (EPD_GMM (cpu));
      *flops_per_row = 7.0 * k * dim;
      *bytes_per_call = k * (dim + 2.0) * word;
    }
  else if (EPD_IS_UNET (cpu))
    {
      EpdUnetPlan *plan = epd_unet_get_plan (EPD_UNET (cpu));

      *flops_per_row = epd_unet_plan_flops (plan);
      *bytes_per_call = plan->n_weights * 4.0;
    }
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof (double), compare_doubles);
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* CPU seconds of every thread of the process so far. */
static double
process_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Median seconds of `repeat` rounds of `calls` calls of `rows` rows each
 * (x, sigma and out hold calls * rows rows), after a warm-up call if warm;
 * cpu_seconds (may be NULL) gets the median CPU time per round of all the
 * process's threads, which a loaded machine does not inflate. */
static gboolean
time_calls (EpdDenoiser  *denoiser,
            const double *x,
            const double *sigma,
            gsize         rows,
            guint         calls,
            guint         repeat,
            gboolean      warm,
            double       *out,
            double       *seconds,
            double       *cpu_seconds,
            GError      **error)
{
  g_autofree double *times = g_new (double, repeat), *cpu = g_new (double, repeat);
  guint dim = epd_denoiser_get_dim (denoiser);

  /* Warm-up: buffers grow and pipelines settle outside the timing. */
  if (warm && !epd_denoiser_denoise (denoiser, x, sigma, rows, out, error))
    return FALSE;
  for (guint r = 0; r < repeat; r++)
    {
      gint64 start = g_get_monotonic_time (), elapsed;
      double cpu_start = process_cpu_seconds ();
      guint iterations = 0;

      /* Short calls are repeated for at least 2 ms: the clock counts microseconds. */
      do
        {
          for (guint c = 0; c < calls; c++)
            if (!epd_denoiser_denoise (denoiser, x + c * rows * dim, sigma + c * rows, rows, out + c * rows * dim,
                                       error))
              return FALSE;
          iterations++;
          elapsed = g_get_monotonic_time () - start;
        }
      while (elapsed < 2000);
      times[r] = elapsed / 1e6 / iterations;
      cpu[r] = (process_cpu_seconds () - cpu_start) / iterations;
    }
  *seconds = median (times, repeat);
  if (cpu_seconds != NULL)
    *cpu_seconds = median (cpu, repeat);
  return TRUE;
}

static void
reference_free (Reference *ref)
{
  g_free (ref->y);
  g_free (ref->x);
  g_free (ref->g);
  g_free (ref->o);
  g_free (ref->yf);
  g_free (ref->xf);
  g_free (ref->gf);
  g_free (ref->of);
  g_clear_pointer (&ref->gemms, g_array_unref);
  g_free (ref->a);
  g_free (ref->b);
  g_free (ref->c);
  g_free (ref);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reference, reference_free)

/* A UNet's reference: buffers for the largest GEMM of up to rows samples. */
static Reference *
unet_reference_new (EpdUnet *unet,
                    gsize    rows)
{
  Reference *ref = g_new0 (Reference, 1);
  gsize a = 1, b = 1, c = 1;

  ref->single = TRUE;
  ref->plan = epd_unet_get_plan (unet);
  ref->gemms = epd_unet_cpu_gemms (ref->plan, rows);
  ref->gemms_rows = rows;
  for (guint i = 0; i < ref->gemms->len; i++)
    {
      const EpdUnetGemm *g = &g_array_index (ref->gemms, EpdUnetGemm, i);

      a = MAX (a, g->m * g->k);
      b = MAX (b, g->k * g->n);
      c = MAX (c, g->m * g->n);
    }
  ref->a = g_new0 (float, a);
  ref->b = g_new0 (float, b);
  ref->c = g_new0 (float, c);
  return ref;
}

/* A UNet's GEMMs for rows samples as bare sgemm calls. */
static void
unet_reference_call (Reference *ref,
                     gsize      rows)
{
  if (ref->gemms_rows != rows)
    {
      g_array_unref (ref->gemms);
      ref->gemms = epd_unet_cpu_gemms (ref->plan, rows);
      ref->gemms_rows = rows;
    }
  for (guint i = 0; i < ref->gemms->len; i++)
    {
      const EpdUnetGemm *g = &g_array_index (ref->gemms, EpdUnetGemm, i);

      for (gsize r = 0; r < g->count; r++)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) g->m, (int) g->n, (int) g->k,
                     1.0f, ref->a, (int) g->k, ref->b, (int) g->n, 0.0f, ref->c, (int) g->n);
    }
}

/* The reference for up to rows rows of the empirical model or a UNet, or
 * NULL (other models, GPUs). */
static Reference *
reference_new (EpdDenoiser *denoiser,
               gsize        rows)
{
  EpdDenoiser *cpu = EPD_IS_VK_DENOISER (denoiser) ? epd_vk_denoiser_get_cpu (EPD_VK_DENOISER (denoiser)) : denoiser;
  g_autoptr(Reference) ref = NULL;
  const float *data;

  if ((!EPD_IS_EMPIRICAL (cpu) && !EPD_IS_UNET (cpu)) ||
      (EPD_IS_VK_DENOISER (denoiser) &&
       epd_vk_context_get_info (epd_vk_denoiser_get_context (EPD_VK_DENOISER (denoiser)))->type != EPD_VK_DEVICE_CPU))
    return NULL;
  if (EPD_IS_UNET (cpu))
    return unet_reference_new (EPD_UNET (cpu), rows);
  ref = g_new0 (Reference, 1);
  ref->single = EPD_IS_VK_DENOISER (denoiser);
  ref->n = epd_empirical_get_n (EPD_EMPIRICAL (cpu));
  ref->dim = epd_empirical_get_dim (EPD_EMPIRICAL (cpu));
  ref->rows = rows;
  data = epd_empirical_get_data (EPD_EMPIRICAL (cpu));
  if (ref->single)
    {
      ref->yf = g_memdup2 (data, ref->n * ref->dim * sizeof (float));
      ref->xf = g_new0 (float, rows * ref->dim);
      ref->gf = g_new (float, rows * ref->n);
      ref->of = g_new (float, rows * ref->dim);
      return g_steal_pointer (&ref);
    }
  ref->y = g_new (double, ref->n * ref->dim);
  for (gsize i = 0; i < ref->n * ref->dim; i++)
    ref->y[i] = data[i];
  ref->x = g_new0 (double, rows * ref->dim);
  ref->g = g_new (double, rows * ref->n);
  ref->o = g_new (double, rows * ref->dim);
  return g_steal_pointer (&ref);
}

static void
reference_call (Reference *ref,
                gsize      rows)
{
  int b = (int) rows, n = (int) ref->n, d = (int) ref->dim;

  if (ref->plan != NULL)
    {
      unet_reference_call (ref, rows);
      return;
    }
  if (ref->single)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, b, n, d, 1.0f, ref->xf, d, ref->yf, d, 0.0f, ref->gf, n);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, b, d, n, 1.0f, ref->gf, n, ref->yf, d, 0.0f, ref->of, d);
      return;
    }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, b, n, d, 1.0, ref->x, d, ref->y, d, 0.0, ref->g, n);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, b, d, n, 1.0, ref->g, n, ref->y, d, 0.0, ref->o, d);
}

/* Seconds per reference call of rows rows, over at least 2 ms. */
static double
time_reference (Reference *ref,
                gsize      rows)
{
  gint64 start = g_get_monotonic_time (), elapsed;
  guint iterations = 0;

  do
    {
      reference_call (ref, rows);
      iterations++;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < 2000);
  return elapsed / 1e6 / iterations;
}

/* A GPU's published fp32 peak in GFLOP/s, or NAN. */
static double
published_peak (EpdDenoiser *denoiser)
{
  const EpdVkDeviceInfo *info;

  if (!EPD_IS_VK_DENOISER (denoiser))
    return NAN;
  info = epd_vk_context_get_info (epd_vk_denoiser_get_context (EPD_VK_DENOISER (denoiser)));
  for (guint i = 0; info->type != EPD_VK_DEVICE_CPU && i < G_N_ELEMENTS (known_gpus); i++)
    if (strstr (info->name, known_gpus[i].name) != NULL)
      return known_gpus[i].tflops * 1000.0;
  return NAN;
}

static void
print_header (const BenchArgs *args)
{
  if (args->markdown)
    g_print ("| device | batch | µs/call | CPU µs/call | samples/s | GFLOP/s | GB/s | %% of the reference (range) |\n"
             "|---|---:|---:|---:|---:|---:|---:|---:|\n");
  else
    g_print ("  %-40s %6s %11s %11s %11s %9s %8s  %s\n", "device", "batch", "µs/call", "CPU µs/call", "samples/s",
             "GFLOP/s", "GB/s", "% of the reference (range)");
}

/* "93.1 (88.0-97.2)": the median of ref/model time ratios and their range. */
static char *
format_share (const double *t_model,
              const double *t_ref,
              guint         repeat)
{
  g_autofree double *ratio = g_new (double, repeat);

  for (guint r = 0; r < repeat; r++)
    ratio[r] = 100.0 * t_ref[r] / t_model[r];
  qsort (ratio, repeat, sizeof (double), compare_doubles);
  return g_strdup_printf ("%.1f (%.1f-%.1f)", median (ratio, repeat), ratio[0], ratio[repeat - 1]);
}

/* Model and reference calls alternate, so a load on the machine hits both. */
static gboolean
time_interleaved (const BenchArgs *args,
                  EpdDenoiser     *denoiser,
                  Reference       *ref,
                  const double    *x,
                  const double    *sigma,
                  guint            rows,
                  double          *out,
                  double          *seconds,
                  double          *cpu_seconds,
                  char           **share,
                  GError         **error)
{
  g_autofree double *t_model = g_new (double, args->repeat), *t_ref = g_new (double, args->repeat);
  g_autofree double *cpu_model = g_new (double, args->repeat);

  if (!epd_denoiser_denoise (denoiser, x, sigma, rows, out, error))
    return FALSE;
  if (ref != NULL)
    reference_call (ref, rows);
  for (int r = 0; r < args->repeat; r++)
    {
      if (!time_calls (denoiser, x, sigma, rows, 1, 1, FALSE, out, &t_model[r], &cpu_model[r], error))
        return FALSE;
      if (ref != NULL)
        t_ref[r] = time_reference (ref, rows);
    }
  *share = ref != NULL ? format_share (t_model, t_ref, args->repeat) : NULL;
  *seconds = median (t_model, args->repeat);
  *cpu_seconds = median (cpu_model, args->repeat);
  return TRUE;
}

static gboolean
bench_throughput (const BenchArgs *args,
                  EpdDenoiser     *denoiser,
                  const char      *device_name,
                  const guint     *batches,
                  guint            n_batches,
                  const double    *x,
                  const double    *sigma,
                  double          *out,
                  GError         **error)
{
  double flops, bytes, peak = published_peak (denoiser);
  guint max_batch = 0;
  g_autoptr(Reference) ref = NULL;

  for (guint i = 0; i < n_batches; i++)
    max_batch = MAX (max_batch, batches[i]);
  ref = reference_new (denoiser, max_batch);
  model_cost (denoiser, &flops, &bytes);
  for (guint i = 0; i < n_batches; i++)
    {
      double t, cpu, gflops, gbs;
      g_autofree char *share = NULL;

      if (!time_interleaved (args, denoiser, ref, x, sigma, batches[i], out, &t, &cpu, &share, error))
        return FALSE;
      gflops = flops * batches[i] / t / 1e9;
      gbs = bytes / t / 1e9;
      if (share == NULL)
        share = isnan (peak) ? g_strdup ("-") : g_strdup_printf ("%.1f", 100.0 * gflops / peak);
      g_print (args->markdown ? "| %s | %u | %.1f | %.1f | %.0f | %.3f | %.3f | %s |\n"
                              : "  %-40s %6u %11.1f %11.1f %11.0f %9.3f %8.3f  %s\n",
               device_name, batches[i], t * 1e6, cpu * 1e6, batches[i] / t, gflops, gbs, share);
    }
  if (ref != NULL && ref->plan != NULL)
    g_print ("%s  reference: the CPU executor's GEMMs at each batch (%u shapes at the largest) as bare "
             "OpenBLAS sgemm calls, alternating with the timed calls\n", args->markdown ? "\n" : "",
             ref->gemms->len);
  else if (ref != NULL)
    g_print ("%s  reference: the same shapes as two full-shape OpenBLAS %s calls, X.Y^T then G.Y, "
             "alternating with the timed calls\n", args->markdown ? "\n" : "", ref->single ? "sgemm" : "dgemm");
  else if (!isnan (peak))
    g_print ("%s  reference: the card's published fp32 peak, %.1f TFLOP/s\n", args->markdown ? "\n" : "", peak / 1000.0);
  return TRUE;
}

/* The paper's latency argument: K points in one call against one point. */
static gboolean
bench_points (const BenchArgs *args,
              EpdDenoiser     *denoiser,
              const char      *device_name,
              const guint     *batches,
              guint            n_batches,
              const double    *x,
              const double    *sigma,
              double          *out,
              GError         **error)
{
  guint k = (guint) args->points;

  if (args->markdown)
    g_print ("\n| device | B | 1 point: 1 call of B, µs | %u points: 1 call of %uB, µs | %u points: %u calls of B, µs "
             "| 1 call / 1 point |\n|---|---:|---:|---:|---:|---:|\n", k, k, k, k);
  else
    g_print ("\n  %u parallel points: one call of %u*B rows against %u calls of B rows\n"
             "  %-40s %6s %12s %14s %14s %10s\n", k, k, k, "device", "B", "1 point µs", "1 call µs", "K calls µs",
             "ratio");
  for (guint i = 0; i < n_batches; i++)
    {
      double one, fused, separate;

      if (!time_calls (denoiser, x, sigma, batches[i], 1, args->repeat, TRUE, out, &one, NULL, error) ||
          !time_calls (denoiser, x, sigma, k * batches[i], 1, args->repeat, TRUE, out, &fused, NULL, error) ||
          !time_calls (denoiser, x, sigma, batches[i], k, args->repeat, TRUE, out, &separate, NULL, error))
        return FALSE;
      g_print (args->markdown ? "| %s | %u | %.1f | %.1f | %.1f | %.2f |\n"
                              : "  %-40s %6u %12.1f %14.1f %14.1f %10.2f\n",
               device_name, batches[i], one * 1e6, fused * 1e6, separate * 1e6, fused / MAX (one, 1e-9));
    }
  return TRUE;
}


/* "cpu" and every usable Vulkan device for --device all. */
static GPtrArray *
device_list (const char *device,
             GError    **error)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) devices = NULL;

  if (!g_str_equal (device, "all"))
    {
      g_ptr_array_add (list, g_strdup (device));
      return list;
    }
  g_ptr_array_add (list, g_strdup ("cpu"));
  if ((devices = epd_vk_list_devices (NULL, error)) == NULL)
    {
      g_ptr_array_unref (list);
      return NULL;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      const EpdVkDeviceInfo *info = g_ptr_array_index (devices, i);

      if (info->usable)
        g_ptr_array_add (list, g_strdup_printf ("%u", info->index));
    }
  return list;
}

static gboolean
bench_model (const BenchArgs *args,
             const char      *spec,
             GPtrArray       *devices,
             GArray          *batches,
             GError         **error)
{
  guint64 max_batch = 0;

  for (guint i = 0; i < batches->len; i++)
    max_batch = MAX (max_batch, g_array_index (batches, guint, i));
  for (guint d = 0; d < devices->len; d++)
    {
      g_autofree char *notice = NULL;
      g_autoptr(EpdDenoiser) denoiser = epd_model_open (spec, g_ptr_array_index (devices, d), &notice, error);
      gsize rows = (gsize) max_batch * (gsize) MAX (args->points, 1);
      g_autofree double *x = NULL, *sigma = NULL, *out = NULL;
      g_autofree char *label = NULL;
      guint dim;

      if (denoiser == NULL)
        return FALSE;
      if (!g_str_equal (g_ptr_array_index (devices, d), "cpu") && !EPD_IS_VK_DENOISER (denoiser))
        {
          g_print ("\n%s on device %s: skipped, %s\n", spec, (char *) g_ptr_array_index (devices, d), notice);
          continue;
        }
      dim = epd_denoiser_get_dim (denoiser);
      x = epd_random_latents (1, rows, dim);
      sigma = g_new (double, rows);
      out = g_new (double, rows * dim);
      for (gsize r = 0; r < rows; r++)
        {
          /* Noise levels spread over the solver's range, 80 down to 0.002. */
          sigma[r] = 80.0 * pow (0.002 / 80.0, (double) (r % 10) / 9.0);
          for (guint j = 0; j < dim; j++)
            x[r * dim + j] *= sigma[r];
        }
      label = EPD_IS_VK_DENOISER (denoiser)
              ? g_strdup_printf ("%s (Vulkan f32)",
                                 epd_vk_context_get_info (epd_vk_denoiser_get_context (EPD_VK_DENOISER (denoiser)))->name)
              : g_strdup (EPD_IS_UNET (denoiser) ? "CPU (OpenBLAS f32)" : "CPU (OpenBLAS f64)");
      g_print ("\n%s%s\n\n", args->markdown ? "#### " : "", epd_denoiser_describe (denoiser));
      print_header (args);
      if (!bench_throughput (args, denoiser, label, (guint *) batches->data,
                             batches->len, x, sigma, out, error) ||
          (args->points > 0 && !bench_points (args, denoiser, label, (guint *) batches->data,
                                              batches->len, x, sigma, out, error)))
        return FALSE;
    }
  return TRUE;
}

int
epd_cmd_bench (int    argc,
               char **argv)
{
  BenchArgs args = { .points = 2, .repeat = 5 };
  const GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING_ARRAY, &args.models,
      "model spec, repeatable (default: gmm:ring8 and dataset:fashion-mnist:1000)", "SPEC" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &args.device,
      "all (default: cpu and every Vulkan device), cpu, vulkan, INDEX or NAME", "DEVICE" },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &args.batches, "batch sizes (default 1,4,16,64,256)", "B,B,..." },
    { "points", 0, 0, G_OPTION_ARG_INT, &args.points, "parallel points K (default 2; 0 skips that table)", "K" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &args.repeat, "timed calls per figure, median reported (default 5)", "R" },
    { "markdown", 0, 0, G_OPTION_ARG_NONE, &args.markdown, "print Markdown tables", NULL },
    { NULL }
  };
  const char *default_models[] = { "gmm:ring8", "dataset:fashion-mnist:1000", NULL };
  g_autoptr(GOptionContext) context = g_option_context_new ("- measure denoiser throughput on each device");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) batches = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *cpu = epd_cpu_device_name ();
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Times denoise() calls (median of --repeat after a warm-up) and prints samples/s,\n"
    "GFLOP/s and GB/s of model data, and the CPU time of all the process's threads per call. For the empirical model on the CPU each timed call\n"
    "alternates with the same shapes done as two full-shape OpenBLAS GEMMs (dgemm; sgemm\n"
    "for lavapipe, which runs on the same CPU), for a UNet with the CPU executor's own\n"
    "GEMMs as bare sgemm calls: the last column is the median of the\n"
    "reference's time over the model's, in %, with its range over the --repeat pairs.\n"
    "A GPU is compared with its published fp32 peak when the card is known.\n"
    "Then K parallel points as one call of K*B rows against K calls of B rows.");
  if (!epd_cli_parse (context, &argc, &argv, &error) ||
      (batches = epd_parse_number_list ("batch", args.batches != NULL ? args.batches : "1,4,16,64,256",
                                         1, 1u << 20, &error)) == NULL)
    status = epd_cli_fail (error);
  else if (args.points < 0 || args.repeat < 1)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--points must be at least 0 and --repeat at least 1");
      status = epd_cli_fail (error);
    }
  else if ((devices = device_list (args.device != NULL ? args.device : "all", &error)) == NULL)
    status = epd_cli_fail (error);
  if (status == 0)
    {
      args.copy_gbs = measure_copy ();
      g_print ("machine: %s; measured: memcpy %.1f GB/s (256 MiB, read + write)\n", cpu, args.copy_gbs);
      for (const char * const *m = args.models ? (const char * const *) args.models : default_models;
           *m != NULL && status == 0; m++)
        if (!bench_model (&args, *m, devices, batches, &error))
          status = epd_cli_fail (error);
    }
  g_strfreev (args.models);
  g_free (args.device);
  g_free (args.batches);
  return status;
}
