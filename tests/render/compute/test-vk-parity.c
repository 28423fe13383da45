/* SPDX-License-Identifier: MIT */
/* test-vk-parity.c: the Vulkan kernels against the float64 CPU models.
 *
 * Runs on any Vulkan device ("vulkan": lavapipe in CI); sizes are tiny because
 * lavapipe is slow. Registered twice: plain, and with EPD_VK_VALIDATION=1,
 * where every test also asserts that the Khronos validation layer reported
 * nothing.
 *
 * Tolerances (float32 kernels): the error is measured per row relative to
 * the row's scale max(1, max|x|, max|D|), and must stay below PARITY_TOL.
 * Measured on lavapipe (Mesa 22.3.6): at most 1.1e-6 for the GMM and 2.1e-6
 * for the empirical denoiser (printed with --verbose); PARITY_TOL leaves a
 * margin for devices with other rounding (fused multiply-adds, fast exp). */
#include <math.h>
#include <string.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-test-vk.h"
#include "epd-vk-denoiser.h"
#include "epd-vk-private.h"

#define PARITY_TOL 2e-5

/* Messages the deliberate misuse below provoked. */
static guint n_provoked;

static const double sigmas[] = { 0.002, 0.005, 0.02, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0, 80.0 };

/* Largest error per row relative to the row's scale. */
static double
parity_error (const double *a,
              const double *b,
              const double *x,
              gsize         batch,
              guint         dim)
{
  double worst = 0.0;

  for (gsize r = 0; r < batch; r++)
    {
      double scale = 1.0, err = 0.0;

      for (guint j = 0; j < dim; j++)
        {
          gsize i = r * dim + j;
          scale = MAX (scale, MAX (fabs (x[i]), MAX (fabs (a[i]), fabs (b[i]))));
          err = MAX (err, fabs (a[i] - b[i]));
          g_assert_true (isfinite (a[i]));
        }
      worst = MAX (worst, err / scale);
    }
  return worst;
}

/* Rows near data points (x = y + sigma n) and far from them, over all sigmas. */
static void
make_inputs (GRand        *rand,
             const double *centres,
             guint         n_centres,
             guint         dim,
             gsize         batch,
             double       *x,
             double       *sigma)
{
  for (gsize r = 0; r < batch; r++)
    {
      guint c = g_rand_int_range (rand, 0, (gint32) n_centres);

      sigma[r] = sigmas[r % G_N_ELEMENTS (sigmas)];
      for (guint j = 0; j < dim; j++)
        x[r * dim + j] = (r % 3 == 2 ? g_rand_double_range (rand, -3.0, 3.0) : centres[c * dim + j]) +
                         sigma[r] * epd_random_normal (rand);
    }
}

static double
compare_models (EpdVkContext *context,
                EpdDenoiser  *cpu,
                const double *centres,
                guint         n_centres,
                gsize         batch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint dim = epd_denoiser_get_dim (cpu);
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, cpu, &error);
  g_autofree double *x = g_new (double, batch * dim);
  g_autofree double *sigma = g_new (double, batch);
  g_autofree double *want = g_new (double, batch * dim);
  g_autofree double *got = g_new (double, batch * dim);
  double err;

  g_assert_no_error (error);
  make_inputs (rand, centres, n_centres, dim, batch, x, sigma);
  g_assert_true (epd_denoiser_denoise (cpu, x, sigma, batch, want, &error));
  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, batch, got, &error));
  g_assert_no_error (error);
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  err = parity_error (got, want, x, batch, dim);
  g_test_message ("%s, batch %" G_GSIZE_FORMAT ": relative error %.3g", epd_denoiser_describe (EPD_DENOISER (vk)),
                  batch, err);
  g_assert_cmpfloat (err, <, PARITY_TOL);
  return err;
}

static EpdGmm *
random_gmm (guint k,
            guint dim)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autofree double *weights = g_new (double, k);
  g_autofree double *means = g_new (double, k * dim);
  g_autofree double *stds = g_new (double, k);
  g_autoptr(GError) error = NULL;
  double total = 0.0;
  EpdGmm *gmm;

  for (guint c = 0; c < k; c++)
    total += weights[c] = g_rand_double_range (rand, 0.1, 1.0);
  for (guint c = 0; c < k; c++)
    {
      weights[c] /= total;
      stds[c] = g_rand_double_range (rand, 0.02, 0.5);
      for (guint j = 0; j < dim; j++)
        means[c * dim + j] = g_rand_double_range (rand, -2.0, 2.0);
    }
  gmm = epd_gmm_new (k, dim, weights, means, stds, "parity", &error);
  g_assert_no_error (error);
  return gmm;
}

static void
test_gmm_parity (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  const struct { guint k, dim; gsize batch; } cases[] = {
    { 8, 2, 40 },      /* the 2-D presets' shape */
    { 70, 5, 23 },     /* more components than a workgroup has threads */
    { 3, 100, 9 },     /* more dimensions than threads */
    { 4, 3, 4100 },    /* more rows than workgroups: the grid loops */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EpdGmm) gmm = random_gmm (cases[i].k, cases[i].dim);

      compare_models (context, EPD_DENOISER (gmm), epd_gmm_get_means (gmm), cases[i].k, cases[i].batch);
    }
  epd_test_vk_assert_no_messages (context);
}

static EpdEmpirical *
random_empirical (gsize  n,
                  guint  side,
                  guint  channels,
                  double **centres)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  guint dim = side * side * channels;
  g_autofree float *pixels = g_new (float, n * dim);
  g_autoptr(GError) error = NULL;
  EpdDataset *dataset;
  EpdEmpirical *empirical;

  *centres = g_new (double, n * dim);
  for (gsize i = 0; i < n * dim; i++)
    (*centres)[i] = pixels[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  dataset = epd_dataset_new_from_data ("parity", pixels, NULL, n, side, channels, &error);
  g_assert_no_error (error);
  empirical = epd_empirical_new (dataset);
  epd_dataset_unref (dataset);
  return empirical;
}

static void
test_empirical_parity (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  const struct { gsize n; guint side, channels; gsize batch; } cases[] = {
    { 64, 4, 1, 8 },      /* the brief's tiny case: 64 images of 16 pixels */
    { 1100, 3, 3, 37 },   /* three weighted-sum chunks, ragged tiles */
    { 50, 3, 1, 4100 },   /* two passes of rows in one submission */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree double *centres = NULL;
      g_autoptr(EpdEmpirical) empirical = random_empirical (cases[i].n, cases[i].side, cases[i].channels, &centres);

      compare_models (context, EPD_DENOISER (empirical), centres, (guint) cases[i].n, cases[i].batch);
    }
  epd_test_vk_assert_no_messages (context);
}

/* The discrete-GPU path: device-local buffers, filled and read through
 * staging buffers and copy steps in the same submission. */
static void
test_staged_parity (void)
{
  g_autoptr(EpdVkContext) context = NULL;
  g_autoptr(EpdGmm) gmm = random_gmm (8, 2);
  g_autofree double *centres = NULL;
  g_autoptr(EpdEmpirical) empirical = random_empirical (64, 4, 1, &centres);

  g_setenv ("EPD_VK_STAGING", "1", TRUE);
  context = epd_test_vk_open_context ();
  g_unsetenv ("EPD_VK_STAGING");
  compare_models (context, EPD_DENOISER (gmm), epd_gmm_get_means (gmm), 8, 40);
  compare_models (context, EPD_DENOISER (empirical), centres, 64, 8);
  epd_test_vk_assert_no_messages (context);
}

/* At the smallest sigma the softmax is one-hot: the output is the nearest
 * training image itself, to float32 rounding. */
static void
test_empirical_sharp (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autofree double *centres = NULL;
  g_autoptr(EpdEmpirical) empirical = random_empirical (64, 4, 1, &centres);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (empirical), &error);
  double x[16 * 4], sigma[4], out[16 * 4];

  g_assert_no_error (error);
  for (guint r = 0; r < 4; r++)
    {
      sigma[r] = 0.002;
      for (guint j = 0; j < 16; j++)
        x[r * 16 + j] = centres[(10 * r + 3) * 16 + j] + 0.001 * ((j % 2) ? 1 : -1);
    }
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, 4, out, &error));
  g_assert_no_error (error);
  for (guint r = 0; r < 4; r++)
    for (guint j = 0; j < 16; j++)
      g_assert_cmpfloat_with_epsilon (out[r * 16 + j], centres[(10 * r + 3) * 16 + j], 1e-6);
  epd_test_vk_assert_no_messages (context);
}

/* K parallel points of B rows go out as one submission, not K. */
static void
test_one_submission_per_call (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdGmm) gmm = random_gmm (8, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (gmm), &error);
  double x[2 * 4 * 6] = { 0 }, sigma[4 * 6], out[2 * 4 * 6];

  g_assert_no_error (error);
  for (guint r = 0; r < G_N_ELEMENTS (sigma); r++)
    sigma[r] = 0.5 + r;
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, G_N_ELEMENTS (sigma), out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 1);
  epd_test_vk_assert_no_messages (context);
}

static void
test_bad_sigma (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autofree double *centres = NULL;
  g_autoptr(EpdEmpirical) empirical = random_empirical (8, 2, 1, &centres);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (empirical), &error);
  double x[8] = { 0 }, sigma[2] = { 1.0, 0.0 }, out[8];

  g_assert_no_error (error);
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, 2, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "sigma[1]"));
  g_clear_error (&error);
  sigma[1] = NAN;
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, 2, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  epd_test_vk_assert_no_messages (context);
}

/* Image shape and the exact JVP come from the CPU model (float64). */
static void
test_forwarding (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autofree double *centres = NULL;
  g_autoptr(EpdEmpirical) empirical = random_empirical (16, 3, 3, &centres);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (empirical), &error);
  double x[27], dx[27], sigma = 0.3, dsigma = 1.0, out[27], dout[27], want[27], dwant[27];
  guint side = 0, channels = 0;

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_get_image_shape (EPD_DENOISER (vk), &side, &channels));
  g_assert_cmpuint (side, ==, 3);
  g_assert_cmpuint (channels, ==, 3);
  g_assert_true (epd_denoiser_has_exact_jvp (EPD_DENOISER (vk)));
  for (guint j = 0; j < 27; j++)
    {
      x[j] = centres[27 + j] + 0.1 * (j % 3);
      dx[j] = (j % 2) ? 0.5 : -0.25;
    }
  g_assert_true (epd_denoiser_denoise_jvp (EPD_DENOISER (vk), x, &sigma, dx, &dsigma, 1, out, dout, &error));
  g_assert_true (epd_denoiser_denoise_jvp (EPD_DENOISER (empirical), x, &sigma, dx, &dsigma, 1, want, dwant, &error));
  g_assert_no_error (error);
  for (guint j = 0; j < 27; j++)
    {
      g_assert_cmpfloat (out[j], ==, want[j]);
      g_assert_cmpfloat (dout[j], ==, dwant[j]);
    }
  epd_test_vk_assert_no_messages (context);
}

/* A lost device moves the work to the CPU model: the call still succeeds,
 * with the float64 results, and the denoiser says so. */
static void
test_lost_device_fallback (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(EpdGmm) gmm = random_gmm (8, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkDenoiser) vk = epd_vk_denoiser_new (context, EPD_DENOISER (gmm), &error);
  double x[2 * 3] = { 0.1, 0.2, -1.0, 0.5, 2.0, -2.0 }, sigma[3] = { 0.01, 1.0, 50.0 }, got[6], want[6];

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, 3, got, &error));
  g_assert_false (epd_vk_denoiser_fell_back (vk));
  epd_vk_context_simulate_loss (context);
  g_assert_true (epd_vk_context_is_lost (context));
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (vk), x, sigma, 3, got, &error));
  g_assert_no_error (error);
  g_assert_true (epd_vk_denoiser_fell_back (vk));
  g_assert_nonnull (strstr (epd_denoiser_describe (EPD_DENOISER (vk)), "CPU fallback"));
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), x, sigma, 3, want, &error));
  for (guint i = 0; i < G_N_ELEMENTS (got); i++)
    g_assert_cmpfloat (got[i], ==, want[i]);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (vk), ==, 1);
  epd_test_vk_assert_no_messages (context);
}

/* The messenger really records: a buffer of size 0 is invalid usage, which
 * the layer must report (added only with EPD_VK_VALIDATION=1). */
static void
test_validation_reports (void)
{
  g_autoptr(EpdVkContext) context = NULL;
  const EpdVkFuncs *vk;
  VkBufferCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = 0,
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
  };
  VkBuffer buffer = VK_NULL_HANDLE;
  guint n = 0;

  context = epd_test_vk_open_context ();
  vk = epd_vk_context_get_funcs (context);
  vk->CreateBuffer (epd_vk_context_get_device (context), &info, NULL, &buffer);
  if (buffer != VK_NULL_HANDLE)
    vk->DestroyBuffer (epd_vk_context_get_device (context), buffer, NULL);
  epd_vk_context_get_messages (context, &n);
  g_assert_cmpuint (n, >, 0);
  n_provoked += n;
}

/* Objects carry names into validation messages: binding memory to a buffer
 * that has memory already is invalid usage, reported under the buffer's name. */
static void
test_debug_names (void)
{
  g_autoptr(EpdVkContext) context = epd_test_vk_open_context ();
  g_autoptr(GError) error = NULL;
  EpdVkBuffer *buffer = epd_vk_buffer_new (context, 256, EPD_VK_MEMORY_DEVICE, &error);
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (context);
  VkDevice device = epd_vk_context_get_device (context);
  VkMemoryRequirements needs;
  VkMemoryAllocateInfo alloc = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
  VkDeviceMemory memory = VK_NULL_HANDLE;
  const char * const *messages;
  gboolean named = FALSE;
  guint n = 0;

  g_assert_no_error (error);
  g_assert_true (epd_vk_context_has_debug_names (context));
  epd_vk_buffer_set_name (buffer, "epd-test named buffer");
  vk->GetBufferMemoryRequirements (device, epd_vk_buffer_get_handle (buffer), &needs);
  alloc.allocationSize = needs.size;
  alloc.memoryTypeIndex = (guint32) epd_vk_context_find_memory_type (context, needs.memoryTypeBits, 0, 0);
  g_assert_cmpint (vk->AllocateMemory (device, &alloc, NULL, &memory), ==, VK_SUCCESS);
  vk->BindBufferMemory (device, epd_vk_buffer_get_handle (buffer), memory, 0);
  vk->FreeMemory (device, memory, NULL);
  epd_vk_buffer_free (buffer);
  messages = epd_vk_context_get_messages (context, &n);
  g_assert_cmpuint (n, >, 0);
  for (guint i = 0; i < n; i++)
    named |= strstr (messages[i], "epd-test named buffer") != NULL;
  g_assert_true (named);
  n_provoked += n;
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk/parity/gmm", test_gmm_parity);
  g_test_add_func ("/vk/parity/empirical", test_empirical_parity);
  g_test_add_func ("/vk/parity/empirical-sharp", test_empirical_sharp);
  g_test_add_func ("/vk/parity/staged", test_staged_parity);
  g_test_add_func ("/vk/one-submission-per-call", test_one_submission_per_call);
  g_test_add_func ("/vk/bad-sigma", test_bad_sigma);
  g_test_add_func ("/vk/lost-device-fallback", test_lost_device_fallback);
  g_test_add_func ("/vk/forwarding", test_forwarding);
  if (g_strcmp0 (g_getenv ("EPD_VK_VALIDATION"), "1") == 0)
    {
      g_test_add_func ("/vk/validation-reports", test_validation_reports);
      g_test_add_func ("/vk/debug-names", test_debug_names);
    }
  status = g_test_run ();
  /* Teardown too must be clean: a Vulkan object left alive is reported when
   * its device is destroyed, after the tests' own checks. */
  if (status == 0 && epd_vk_get_n_validation_messages () != n_provoked)
    {
      g_printerr ("the validation layer reported %u messages (%u provoked on purpose)\n",
                  epd_vk_get_n_validation_messages (), n_provoked);
      return 1;
    }
  return status;
}
