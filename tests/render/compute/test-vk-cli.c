/* SPDX-License-Identifier: MIT */
/* test-vk-cli.c: `epd devices`, `epd bench` and `epd eval` as a user runs them. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-test-cli.h"
#include "epd-test-vk.h"

static void
test_devices (void)
{
  g_auto(EpdTestRun) run = { 0 };

  g_autoptr(GPtrArray) devices = epd_vk_list_devices (NULL, NULL);
  g_autofree char *auto_name = epd_test_vk_device_name ("auto");
  g_autofree char *auto_line = NULL;

  epd_test_cli_run (&run, NULL, "devices", NULL);
  g_assert_cmpint (run.status, ==, 0);
  /* Every device the library sees is listed, and auto is what the library
   * chooses: a GPU's name, else the CPU path (lavapipe in CI is a CPU). */
  g_assert_cmpuint (devices->len, >, 0);
  for (guint i = 0; i < devices->len; i++)
    g_assert_nonnull (strstr (run.out, ((EpdVkDeviceInfo *) g_ptr_array_index (devices, i))->name));
  g_assert_nonnull (strstr (run.out, "Vulkan 1."));
  auto_line = auto_name != NULL ? g_strdup_printf ("auto: %s\n", auto_name) : g_strdup ("auto: the CPU path");
  g_assert_nonnull (strstr (run.out, auto_line));
}

static void
test_devices_without_vulkan (void)
{
  g_auto(EpdTestRun) run = { 0 };
  g_auto(EpdTestRun) no_loader = { 0 };
  const char *no_icd[] = { "VK_ICD_FILENAMES=/nonexistent", "VK_DRIVER_FILES=/nonexistent", NULL };
  const char *no_vulkan_loader[] = { "EPD_VK_LOADER=/nonexistent/libvulkan.so.1", NULL };

  epd_test_cli_run (&run, no_icd, "devices", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "no Vulkan devices (vkCreateInstance failed"));
  epd_test_cli_run (&no_loader, no_vulkan_loader, "devices", NULL);
  g_assert_cmpint (no_loader.status, ==, 0);
  g_assert_nonnull (strstr (no_loader.out, "no Vulkan loader"));
}

static void
test_bench (void)
{
  g_auto(EpdTestRun) run = { 0 };
  g_autofree char *name = epd_test_vk_device_name ("vulkan");
  g_autofree char *heading = g_strconcat ("gmm:ring8 on ", name, NULL);

  g_assert_nonnull (name);
  epd_test_cli_run (&run, NULL, "bench", "--model", "gmm:ring8", "--device", "vulkan", "--batch", "1,3",
                    "--points", "2", "--repeat", "1", "--markdown", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "% of the reference"));
  g_assert_nonnull (strstr (run.out, heading));
  g_assert_nonnull (strstr (run.out, "| samples/s |"));
  g_assert_nonnull (strstr (run.out, "2 points: 1 call of 2B"));
}

static void
test_bench_errors (void)
{
  g_auto(EpdTestRun) batch = { 0 };
  g_auto(EpdTestRun) device = { 0 };

  epd_test_cli_run (&batch, NULL, "bench", "--batch", "4,0", NULL);
  g_assert_cmpint (batch.status, ==, 2);
  g_assert_nonnull (strstr (batch.err, "epd: error: --batch expects numbers from 1 to 1048576 separated by commas (got '4,0')"));
  epd_test_cli_run (&device, NULL, "bench", "--model", "gmm:ring8", "--device", "no such gpu", "--batch", "1",
                    "--repeat", "1", NULL);
  g_assert_cmpint (device.status, ==, 1);
  g_assert_nonnull (strstr (device.err, "epd: error: no Vulkan device 'no such gpu'"));
}

/* A diffusers UNet folder evaluated on the Vulkan device: the notice names
 * it, and D matches the fixture's torch float64 reference. */
static void
test_eval_unet (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("EPD_SOURCE_ROOT"), "tests", "data", "unet", "rgb", NULL);
  g_autofree char *model = g_strdup_printf ("unet:%s/unet", dir);
  g_autofree char *x = g_build_filename (dir, "x.npy", NULL), *sigma = g_build_filename (dir, "sigma.npy", NULL);
  g_autofree char *ref_path = g_build_filename (dir, "denoised.npy", NULL);
  g_autofree char *name = g_strdup_printf ("epd-test-vk-cli-%d-%u.npy", getpid (), g_random_int ());
  g_autofree char *out = g_build_filename (g_get_tmp_dir (), name, NULL);
  g_autofree char *device = epd_test_vk_device_name ("vulkan");
  g_autofree char *notice = g_strdup_printf ("on %s (Vulkan, float32)", device);
  g_auto(EpdTestRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdArray) ref = epd_npy_load (ref_path, &error);
  g_autoptr(EpdArray) got = NULL;
  double diff = 0.0, scale = 0.0;

  g_assert_no_error (error);
  epd_test_cli_run (&run, NULL, "eval", "--model", model, "--device", "vulkan", "--x", x, "--sigma", sigma,
                    "--out", out, NULL);
  g_test_message ("%s", run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.err, notice));
  got = epd_npy_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_array_size (got), ==, epd_array_size (ref));
  for (gsize i = 0; i < epd_array_size (ref); i++)
    {
      diff = MAX (diff, fabs (got->data[i] - ref->data[i]));
      scale = MAX (scale, fabs (ref->data[i]));
    }
  g_test_message ("relative error against torch float64: %.3g", diff / scale);
  g_assert_cmpfloat (diff / scale, <=, 1e-4);
  g_remove (out);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk/cli/devices", test_devices);
  g_test_add_func ("/vk/cli/devices-without-vulkan", test_devices_without_vulkan);
  g_test_add_func ("/vk/cli/bench", test_bench);
  g_test_add_func ("/vk/cli/bench-errors", test_bench_errors);
  g_test_add_func ("/vk/cli/eval-unet", test_eval_unet);
  return g_test_run ();
}
