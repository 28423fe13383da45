/* SPDX-License-Identifier: MIT
 *
 * test-vk-off.c: a build without Vulkan (-Dvulkan=false) lists no device and
 * says why, runs "auto" on the CPU path, and refuses an explicit device. */
#include <string.h>

#include "epd-model-open.h"
#include "epd-vk-denoiser.h"

static void
test_no_devices (void)
{
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = epd_vk_list_devices (&reason, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
  g_assert_nonnull (strstr (reason, "-Dvulkan=false"));
}

static void
test_open (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *notice = NULL;
  g_autoptr(EpdDenoiser) on_auto = epd_model_open ("gmm:ring8", "auto", &notice, &error);
  g_autoptr(EpdDenoiser) on_vulkan = NULL;
  g_autoptr(EpdVkContext) context = NULL;

  g_assert_no_error (error);
  g_assert_false (EPD_IS_VK_DENOISER (on_auto));
  g_assert_nonnull (strstr (notice, "-Dvulkan=false"));
  on_vulkan = epd_model_open ("gmm:ring8", "vulkan", NULL, &error);
  g_assert_null (on_vulkan);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_clear_error (&error);
  context = epd_vk_context_new ("0", &error);
  g_assert_null (context);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_assert_nonnull (strstr (error->message, "-Dvulkan=false"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk-off/no-devices", test_no_devices);
  g_test_add_func ("/vk-off/open", test_open);
  return g_test_run ();
}
