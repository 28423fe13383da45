/* SPDX-License-Identifier: MIT
 * test-unet.c: diffusers UNet2DModel folders on the CPU against the float64
 * torch references of scripts/make-unet-fixtures, the sigma -> timestep map,
 * and the refusal of malformed checkpoints and configs. */
#include "epd-model.h"
#include "epd-safetensors.h"
#include "epd-unet.h"
#include "epd-unet-config.h"
#include "epd-unet-private.h"
#include "epd-test-unet.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const char *const fixtures[] = { "grey-attn", "rgb/unet", "f32-sample" };

static void
test_network (gconstpointer data)
{
  const char *name = data;
  g_autoptr(EpdUnet) unet = epd_test_unet_load (name);
  g_autoptr(EpdArray) x = epd_test_unet_reference (name, "net_x.npy");
  g_autoptr(EpdArray) t = epd_test_unet_reference (name, "net_t.npy");
  g_autoptr(EpdArray) ref = epd_test_unet_reference (name, "net_out.npy");
  g_autoptr(EpdUnetCpu) cpu = epd_unet_cpu_new (epd_unet_get_plan (unet));
  g_autoptr(GError) error = NULL;
  gsize n = epd_array_size (x), b = x->shape[0];
  g_autofree float *xf = g_new (float, n), *tf = g_new (float, b), *out = g_new (float, n);
  g_autofree double *od = g_new (double, n);
  double err;

  for (gsize i = 0; i < n; i++)
    xf[i] = (float) x->data[i];
  for (gsize i = 0; i < b; i++)
    tf[i] = (float) t->data[i];
  g_assert_true (epd_unet_cpu_run (cpu, b, xf, tf, out, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    od[i] = out[i];
  err = epd_test_relative_error (od, ref->data, n);
  g_test_message ("%s: raw network, max relative error %.3g", name, err);
  g_assert_cmpfloat (err, <=, 1e-5);
}

static void
test_denoise (gconstpointer data)
{
  const char *name = data;
  g_autoptr(EpdUnet) unet = epd_test_unet_load (name);
  g_autoptr(EpdArray) x = epd_test_unet_reference (name, "x.npy");
  g_autoptr(EpdArray) sigma = epd_test_unet_reference (name, "sigma.npy");
  g_autoptr(EpdArray) ref = epd_test_unet_reference (name, "denoised.npy");
  g_autoptr(GError) error = NULL;
  gsize n = epd_array_size (x), b = x->shape[0];
  guint c = x->shape[1], p = x->shape[2] * x->shape[3], side, channels;
  g_autofree double *rows = g_new (double, n), *out = g_new (double, n), *ref_rows = g_new (double, n);

  g_assert_true (epd_denoiser_get_image_shape (EPD_DENOISER (unet), &side, &channels));
  g_assert_cmpuint (side * side, ==, p);
  g_assert_cmpuint (channels, ==, c);
  g_assert_cmpuint (epd_denoiser_get_dim (EPD_DENOISER (unet)), ==, c * p);
  epd_test_nchw_to_rows (x->data, b, c, p, rows);
  epd_test_nchw_to_rows (ref->data, b, c, p, ref_rows);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), rows, sigma->data, b, out, &error));
  g_assert_no_error (error);
  for (gsize r = 0; r < b; r++)
    {
      double err = epd_test_relative_error (out + r * c * p, ref_rows + r * c * p, c * p);

      g_test_message ("%s: D(x, %g), max relative error %.3g", name, sigma->data[r], err);
      g_assert_cmpfloat (err, <=, 1e-5);
    }
}

/* The timestep is exactly i at sigma_i, monotone in between, clamped outside. */
static void
test_timestep_map (void)
{
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  guint n;
  const double *sigmas = epd_unet_get_sigmas (unet, &n);
  double lo, hi, prev = -1.0;

  g_assert_cmpuint (n, ==, 1000);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat (epd_unet_sigma_to_timestep (unet, sigmas[i]), ==, (double) i);
  for (guint i = 0; i + 1 < n; i++)
    {
      double mid = sqrt (sigmas[i] * sigmas[i + 1]), t = epd_unet_sigma_to_timestep (unet, mid);

      g_assert_cmpfloat (fabs (t - (i + 0.5)), <, 1e-9);
      g_assert_cmpfloat (t, >, prev);
      prev = t;
    }
  epd_unet_get_sigma_range (unet, &lo, &hi);
  g_assert_cmpfloat (lo, ==, sigmas[0]);
  g_assert_cmpfloat (hi, ==, sigmas[n - 1]);
  g_assert_cmpfloat (epd_unet_sigma_to_timestep (unet, lo / 10), ==, 0.0);
  g_assert_cmpfloat (epd_unet_sigma_to_timestep (unet, hi * 10), ==, n - 1.0);
}

/* A batch of 70 (two chunks, each split over the executor's threads) repeats
 * bit for bit; rows alone agree with it to float32 rounding (GEMMs of other
 * widths may round differently). */
static void
test_batch_consistency (void)
{
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  g_autoptr(GError) error = NULL;
  guint d = epd_denoiser_get_dim (EPD_DENOISER (unet));
  enum { B = 70 };
  g_autofree double *x = g_new (double, B * d), *all = g_new (double, B * d), *again = g_new (double, B * d);
  g_autofree double *one = g_new (double, d);
  double s[B];
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (guint i = 0; i < B * d; i++)
    x[i] = g_rand_double_range (rand, -2, 2);
  for (guint r = 0; r < B; r++)
    s[r] = 0.05 * (r + 1);
  /* With T threads each chunk is split into T parts on executors of their own. */
  g_test_message ("executor threads: %u", epd_unet_cpu_threads ());
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x, s, B, all, &error));
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x, s, B, again, &error));
  g_assert_cmpmem (again, B * d * sizeof (double), all, B * d * sizeof (double));
  for (guint r = 0; r < B; r += 23)
    {
      double err;

      g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), x + r * d, s + r, 1, one, &error));
      err = epd_test_relative_error (one, all + r * d, d);
      g_test_message ("row %u alone against the batch: relative difference %.3g", r, err);
      g_assert_cmpfloat (err, <=, 1e-6);
    }
}

/* Central difference of D along (v, dsigma) with step h (relative to sigma). */
static void
central_difference (EpdUnet      *unet,
                    const double *x,
                    const double *v,
                    double        sigma,
                    double        dsigma,
                    double        h,
                    double       *out)
{
  guint d = epd_denoiser_get_dim (EPD_DENOISER (unet));
  g_autofree double *xs = g_new (double, 2 * d), *ys = g_new (double, 2 * d);
  double e = h * sigma, s[2] = { sigma + e * dsigma, sigma - e * dsigma };
  g_autoptr(GError) error = NULL;

  for (guint j = 0; j < d; j++)
    {
      xs[j] = x[j] + e * v[j];
      xs[d + j] = x[j] - e * v[j];
    }
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (unet), xs, s, 2, ys, &error));
  g_assert_no_error (error);
  for (guint j = 0; j < d; j++)
    out[j] = (ys[j] - ys[d + j]) / (2 * e);
}

/* The float32 network's finite-difference JVP uses a step that float32 rounding does
 * not swamp: it agrees with a difference at 3x the step, while the float64 models'
 * step (1e-6) is far noisier. Along x only: along sigma, D has the kinks of the
 * piecewise-linear sigma -> timestep map, where no step is exact. */
static void
test_fd_jvp (void)
{
  g_autoptr(EpdUnet) unet = epd_test_unet_load ("grey-attn");
  g_autoptr(GError) error = NULL;
  guint d = epd_denoiser_get_dim (EPD_DENOISER (unet));
  g_autofree double *x = g_new (double, d), *v = g_new (double, d), *out = g_new (double, d);
  g_autofree double *jvp = g_new (double, d), *wide = g_new (double, d), *tiny = g_new (double, d);
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  double sigma = 0.7, dsigma = 0.0, err_wide, err_tiny;

  for (guint j = 0; j < d; j++)
    {
      x[j] = g_rand_double_range (rand, -1, 1);
      v[j] = g_rand_double_range (rand, -1, 1);
    }
  g_assert_false (epd_denoiser_has_exact_jvp (EPD_DENOISER (unet)));
  g_assert_true (epd_denoiser_denoise_jvp (EPD_DENOISER (unet), x, &sigma, v, &dsigma, 1, out, jvp, &error));
  g_assert_no_error (error);
  central_difference (unet, x, v, sigma, dsigma, 3e-3, wide);
  central_difference (unet, x, v, sigma, dsigma, 1e-6, tiny);
  err_wide = epd_test_relative_error (jvp, wide, d);
  err_tiny = epd_test_relative_error (tiny, wide, d);
  g_test_message ("JVP against a 3x wider step: %.3g; the 1e-6 step against it: %.3g", err_wide, err_tiny);
  g_assert_cmpfloat (err_wide, <, 1e-2);
  g_assert_cmpfloat (err_tiny, >, 3 * err_wide);
}

/* The CPU executor's GEMMs (epd bench's reference) do the network's
 * multiply-adds, no more and no less, at any batch: the remainder chunk of
 * a batch that its column chunks do not divide included. */
static void
test_cpu_gemms (void)
{
  static const gsize batches[] = { 1, 3, 16, 37, 300 };

  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++)
    {
      g_autoptr(EpdUnet) unet = epd_test_unet_load (fixtures[f]);
      EpdUnetPlan *plan = epd_unet_get_plan (unet);

      for (guint i = 0; i < G_N_ELEMENTS (batches); i++)
        {
          g_autoptr(GArray) gemms = epd_unet_cpu_gemms (plan, batches[i]);
          double flops = 0.0;

          g_assert_cmpuint (gemms->len, >, 0);
          for (guint j = 0; j < gemms->len; j++)
            {
              const EpdUnetGemm *g = &g_array_index (gemms, EpdUnetGemm, j);

              g_assert_cmpuint (g->m * g->n * g->k * g->count, >, 0);
              flops += 2.0 * g->m * g->n * g->k * g->count;
            }
          g_assert_cmpfloat (flops, ==, batches[i] * epd_unet_plan_flops (plan));
        }
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *net = g_strdup_printf ("/unet/network/%s", fixtures[i]);
      g_autofree char *den = g_strdup_printf ("/unet/denoise/%s", fixtures[i]);

      g_test_add_data_func (net, fixtures[i], test_network);
      g_test_add_data_func (den, fixtures[i], test_denoise);
    }
  g_test_add_func ("/unet/timestep-map", test_timestep_map);
  g_test_add_func ("/unet/batch-consistency", test_batch_consistency);
  g_test_add_func ("/unet/fd-jvp", test_fd_jvp);
  g_test_add_func ("/unet/cpu-gemms", test_cpu_gemms);
  return g_test_run ();
}
