/* SPDX-License-Identifier: MIT */
/* test-vk-solve.c: whole EPD solves on the CPU and on Vulkan end together.
 *
 * The float32 device path follows the float64 path through every step, from
 * sigma 80 to 0.002; the samples must agree to SOLVE_TOL relative to their
 * scale (measured on lavapipe: 1.1e-6 for ring8, 6e-8 for the data set,
 * 2.7e-7 for the grey-attn UNet fixture; see
 * --verbose). Each EPD step's K points must reach the device as one
 * submission: submissions == latency NFE. */
#include <math.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-unet.h"
#include "epd-vk-denoiser.h"
#include "epd-vk-private.h"

#define SOLVE_TOL 1e-4

static void
solve_both (EpdDenoiser *cpu,
            guint        batch,
            guint        steps,
            guint        n_points,
            gboolean     afs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkContext) context = epd_vk_context_new ("vulkan", &error);
  g_autoptr(EpdVkDenoiser) vk = NULL;
  g_autoptr(EpdTable) table = epd_table_new ("epd", steps, n_points);
  guint dim = epd_denoiser_get_dim (cpu);
  g_autofree double *z = epd_random_latents (3, batch, dim);
  g_autofree double *x0 = g_new (double, batch * dim);
  g_autofree double *want = g_new (double, batch * dim);
  g_autofree double *got = g_new (double, batch * dim);
  EpdSolveOptions options;
  EpdNfe nfe_cpu, nfe_vk;
  double worst = 0.0;

  g_assert_no_error (error);
  vk = epd_vk_denoiser_new (context, cpu, &error);
  g_assert_no_error (error);
  epd_solve_options_init (&options);
  options.solver = EPD_SOLVER_EPD;
  options.steps = steps;
  options.table = table;
  options.afs = afs;
  epd_solve_init_from_noise (&options, z, batch * dim, x0);
  g_assert_true (epd_solve (cpu, &options, x0, batch, want, NULL, &nfe_cpu, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (epd_solve (EPD_DENOISER (vk), &options, x0, batch, got, NULL, &nfe_vk, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nfe_vk.latency, ==, nfe_cpu.latency);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, nfe_vk.latency);
  for (guint r = 0; r < batch; r++)
    {
      double scale = 1.0, err = 0.0;

      for (guint j = 0; j < dim; j++)
        {
          scale = MAX (scale, fabs (want[r * dim + j]));
          err = MAX (err, fabs (got[r * dim + j] - want[r * dim + j]));
        }
      worst = MAX (worst, err / scale);
    }
  g_test_message ("%s: EPD K=%u, %u steps, %u samples: relative difference %.3g",
                  epd_denoiser_describe (EPD_DENOISER (vk)), n_points, steps, batch, worst);
  g_assert_cmpfloat (worst, <, SOLVE_TOL);
}

static void
test_solve_gmm (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", &error);

  g_assert_no_error (error);
  solve_both (EPD_DENOISER (gmm), 64, 5, 2, TRUE);
}

static void
test_solve_empirical (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  g_autofree float *pixels = g_new (float, 64 * 16);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDataset) dataset = NULL;
  g_autoptr(EpdEmpirical) empirical = NULL;

  for (guint i = 0; i < 64 * 16; i++)
    pixels[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  dataset = epd_dataset_new_from_data ("solve", pixels, NULL, 64, 4, 1, &error);
  g_assert_no_error (error);
  empirical = epd_empirical_new (dataset);
  solve_both (EPD_DENOISER (empirical), 8, 4, 3, FALSE);
}

/* A UNet fixture (tests/data/unet): the network runs once per step for both points. */
static void
test_solve_unet (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "unet", "grey-attn", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdUnet) unet = epd_unet_load (dir, &error);

  g_assert_no_error (error);
  solve_both (EPD_DENOISER (unet), 3, 3, 2, FALSE);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk/solve/gmm", test_solve_gmm);
  g_test_add_func ("/vk/solve/empirical", test_solve_empirical);
  g_test_add_func ("/vk/solve/unet", test_solve_unet);
  status = g_test_run ();
  /* Registered again with EPD_VK_VALIDATION=1: whole solves, teardown
   * included, must leave the validation layer silent. */
  if (status == 0 && epd_vk_get_n_validation_messages () != 0)
    {
      g_printerr ("the validation layer reported %u messages\n", epd_vk_get_n_validation_messages ());
      return 1;
    }
  return status;
}
