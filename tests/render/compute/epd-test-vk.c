/* SPDX-License-Identifier: MIT
 *
 * epd-test-vk.c: the machine's Vulkan devices, for the tests' expectations. */
#include "epd-test-vk.h"

char *
epd_test_vk_device_name (const char *selector)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = epd_vk_list_devices (NULL, &error);
  guint position;

  g_assert_no_error (error);
  if (g_str_equal (selector, "auto"))
    {
      int chosen = epd_vk_choose_auto (devices);

      return chosen < 0 ? NULL : g_strdup (((EpdVkDeviceInfo *) g_ptr_array_index (devices, chosen))->name);
    }
  if (!epd_vk_select_device (devices, selector, &position, NULL))
    return NULL;
  return g_strdup (((EpdVkDeviceInfo *) g_ptr_array_index (devices, position))->name);
}

EpdVkContext *
epd_test_vk_open_context (void)
{
  g_autoptr(GError) error = NULL;
  EpdVkContext *context = epd_vk_context_new ("vulkan", &error);

  /* CI has lavapipe (mesa-vulkan-drivers): these tests must run, not skip. */
  g_assert_no_error (error);
  if (g_strcmp0 (g_getenv ("EPD_VK_VALIDATION"), "1") == 0)
    g_assert_true (epd_vk_context_has_validation (context));
  return context;
}

void
epd_test_vk_assert_no_messages (EpdVkContext *context)
{
  guint n = 0;
  const char * const *messages = epd_vk_context_get_messages (context, &n);

  for (guint i = 0; i < n; i++)
    g_printerr ("validation: %s\n", messages[i]);
  g_assert_cmpuint (n, ==, 0);
}
