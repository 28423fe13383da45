/* test-vk-cli.c: `epd devices` and `epd bench` as a user runs them. */
#include <string.h>

#include "epd-test-cli.h"

static void
test_devices (void)
{
  g_auto(EpdTestRun) run = { 0 };

  epd_test_cli_run (&run, NULL, "devices", NULL);
  g_assert_cmpint (run.status, ==, 0);
  /* CI: lavapipe is listed as a CPU implementation, and auto stays on the CPU. */
  g_assert_nonnull (strstr (run.out, "llvmpipe"));
  g_assert_nonnull (strstr (run.out, "Vulkan 1."));
  g_assert_nonnull (strstr (run.out, "auto: the CPU path"));
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

  epd_test_cli_run (&run, NULL, "bench", "--model", "gmm:ring8", "--device", "vulkan", "--batch", "1,3",
                    "--points", "2", "--repeat", "1", "--markdown", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "dgemm"));
  g_assert_nonnull (strstr (run.out, "gmm:ring8 on llvmpipe"));
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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk/cli/devices", test_devices);
  g_test_add_func ("/vk/cli/devices-without-vulkan", test_devices_without_vulkan);
  g_test_add_func ("/vk/cli/bench", test_bench);
  g_test_add_func ("/vk/cli/bench-errors", test_bench_errors);
  return g_test_run ();
}
