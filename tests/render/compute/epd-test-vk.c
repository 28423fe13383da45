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
