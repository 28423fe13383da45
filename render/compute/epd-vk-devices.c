/* SPDX-License-Identifier: MIT */
/* epd-vk-devices.c: what "auto", "vulkan", an INDEX or a NAME means on a list
 * of devices. Pure policy on EpdVkDeviceInfo, built with or without Vulkan. */
#include "epd-vk-context.h"

#include <string.h>

void
epd_vk_device_info_free (EpdVkDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info);
}

const char *
epd_vk_device_type_to_string (EpdVkDeviceType type)
{
  switch (type)
    {
    case EPD_VK_DEVICE_INTEGRATED: return "integrated";
    case EPD_VK_DEVICE_DISCRETE: return "discrete";
    case EPD_VK_DEVICE_VIRTUAL: return "virtual";
    case EPD_VK_DEVICE_CPU: return "cpu";
    case EPD_VK_DEVICE_OTHER:
    default: return "other";
    }
}

char *
epd_vk_api_version_to_string (guint32 version)
{
  /* VK_MAKE_API_VERSION's layout, spelt out so this file needs no Vulkan headers. */
  return g_strdup_printf ("%u.%u.%u", (version >> 22) & 0x7fu, (version >> 12) & 0x3ffu, version & 0xfffu);
}

/* Higher is better; CPU implementations rank last. */
static int
type_rank (EpdVkDeviceType type)
{
  switch (type)
    {
    case EPD_VK_DEVICE_DISCRETE: return 4;
    case EPD_VK_DEVICE_INTEGRATED: return 3;
    case EPD_VK_DEVICE_VIRTUAL: return 2;
    case EPD_VK_DEVICE_OTHER: return 1;
    case EPD_VK_DEVICE_CPU:
    default: return 0;
    }
}

static int
choose_best (GPtrArray *devices,
             gboolean   allow_cpu)
{
  int best = -1;

  for (guint i = 0; i < devices->len; i++)
    {
      const EpdVkDeviceInfo *info = g_ptr_array_index (devices, i);

      if (!info->usable || (!allow_cpu && info->type == EPD_VK_DEVICE_CPU))
        continue;
      if (best < 0 ||
          type_rank (info->type) > type_rank (((EpdVkDeviceInfo *) g_ptr_array_index (devices, best))->type))
        best = (int) i;
    }
  return best;
}

int
epd_vk_choose_auto (GPtrArray *devices)
{
  return choose_best (devices, FALSE);
}

char *
epd_vk_explain_auto (GPtrArray  *devices,
                     const char *reason)
{
  if (epd_vk_choose_auto (devices) >= 0)
    return NULL;
  for (guint i = 0; i < devices->len; i++)
    {
      const EpdVkDeviceInfo *info = g_ptr_array_index (devices, i);

      if (info->type == EPD_VK_DEVICE_CPU)
        return g_strdup_printf ("no GPU; the Vulkan device %s is a CPU implementation, slower than "
                                "the OpenBLAS path (use --device vulkan to run on it anyway)", info->name);
    }
  return g_strdup_printf ("no Vulkan GPU (%s)", reason != NULL ? reason : "none usable");
}

static gboolean
dri_render_node_present (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/dev/dri", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "renderD"))
      return TRUE;
  return FALSE;
}

gboolean
epd_vk_gpu_node_present (void)
{
  const char *nodes = g_getenv ("EPD_GPU_NODES");
  g_auto(GStrv) paths = NULL;

  if (nodes == NULL)
    return dri_render_node_present () || g_file_test ("/dev/nvidia0", G_FILE_TEST_EXISTS) ||
           g_file_test ("/dev/dxg", G_FILE_TEST_EXISTS);
  paths = g_strsplit (nodes, ":", -1);
  for (guint i = 0; paths[i] != NULL; i++)
    if (*paths[i] != '\0' && g_file_test (paths[i], G_FILE_TEST_EXISTS))
      return TRUE;
  return FALSE;
}

static gboolean
select_failed (GError    **error,
               const char *selector,
               const char *why)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "no Vulkan device '%s': %s (see `epd devices`)",
               selector, why);
  return FALSE;
}

gboolean
epd_vk_select_device (GPtrArray  *devices,
                      const char *selector,
                      guint      *position,
                      GError    **error)
{
  guint64 index;
  int found = -1;

  if (devices->len == 0)
    return select_failed (error, selector, "there are no Vulkan devices");
  if (g_str_equal (selector, "auto") || g_str_equal (selector, "vulkan"))
    found = choose_best (devices, g_str_equal (selector, "vulkan"));
  else if (g_ascii_string_to_unsigned (selector, 10, 0, G_MAXUINT, &index, NULL))
    {
      if (index >= devices->len)
        return select_failed (error, selector, "index out of range");
      found = (int) index;
    }
  else
    {
      g_autofree char *needle = g_utf8_casefold (selector, -1);

      for (guint i = 0; i < devices->len && found < 0; i++)
        {
          const EpdVkDeviceInfo *info = g_ptr_array_index (devices, i);
          g_autofree char *name = g_utf8_casefold (info->name, -1);

          if (strstr (name, needle) != NULL)
            found = (int) i;
        }
    }
  if (found < 0)
    return select_failed (error, selector, g_str_equal (selector, "auto")
                          ? "no GPU (CPU implementations are only used when asked for)"
                          : "no device matches");
  if (!((EpdVkDeviceInfo *) g_ptr_array_index (devices, found))->usable)
    return select_failed (error, selector, "it lacks Vulkan 1.1 or a compute queue");
  *position = (guint) found;
  return TRUE;
}

