/* SPDX-License-Identifier: MIT */
/* epd-cmd-devices.c: `epd devices`, the compute devices and what auto picks. */
#include "epd-cli.h"
#include "epd-model-open.h"
#include "epd-vk-context.h"

static void
print_device (const EpdVkDeviceInfo *info,
              gboolean               is_auto)
{
  g_autofree char *api = epd_vk_api_version_to_string (info->api_version);
  g_autofree char *memory = g_format_size_full (info->device_memory, G_FORMAT_SIZE_IEC_UNITS);

  g_print ("  %-5u %-40s %-10s Vulkan %-9s %10s%s%s\n", info->index, info->name,
           epd_vk_device_type_to_string (info->type), api, memory,
           info->usable ? "" : "  (unusable: no Vulkan 1.1 compute)", is_auto ? "  <- auto" : "");
}

int
epd_cmd_devices (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- list compute devices");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *cpu = epd_cpu_device_name ();
  g_autofree char *why = NULL;
  int chosen;

  g_option_context_set_description (context,
    "Lists the CPU path and every Vulkan device, with the index, name and type\n"
    "that --device accepts (auto, cpu, vulkan, INDEX or part of a NAME).\n"
    "auto takes a discrete GPU, then an integrated one, and otherwise the CPU path:\n"
    "a CPU implementation of Vulkan (Mesa's lavapipe) is only used when asked for.");
  if (!epd_cli_parse (context, &argc, &argv, &error))
    return epd_cli_fail (error);
  if ((devices = epd_vk_list_devices (&reason, &error)) == NULL)
    return epd_cli_fail (error);
  chosen = epd_vk_choose_auto (devices);
  g_print ("  %-5s %-40s %-10s %s\n", "INDEX", "NAME", "TYPE", "API / MEMORY");
  g_print ("  %-5s %-40s %-10s float64, OpenBLAS%s\n", "cpu", cpu, "cpu", chosen < 0 ? "  <- auto" : "");
  for (guint i = 0; i < devices->len; i++)
    print_device (g_ptr_array_index (devices, i), (int) i == chosen);
  if (devices->len == 0)
    g_print ("no Vulkan devices (%s)\n", reason != NULL ? reason : "none found");
  why = epd_vk_explain_auto (devices, reason);
  if (why != NULL)
    g_print ("auto: the CPU path, %s\n", why);
  else
    g_print ("auto: %s\n", ((EpdVkDeviceInfo *) g_ptr_array_index (devices, chosen))->name);
  return 0;
}
