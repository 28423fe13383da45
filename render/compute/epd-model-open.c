/* SPDX-License-Identifier: MIT */
/* epd-model-open.c: a model spec on the compute device that fits.
 *
 * Policy: "cpu" is the CPU path. "auto" takes a real GPU (discrete, then
 * integrated) and otherwise stays on the CPU: a CPU implementation of Vulkan
 * such as lavapipe computes these kernels far slower than OpenBLAS does. When
 * the kernel shows no GPU device node, "auto" does not even create a Vulkan
 * instance (which loads every installed driver).
 * "vulkan", an INDEX or a NAME must name an existing device, else it is an
 * error (a typo should not silently run elsewhere); once the device is chosen,
 * any failure to use it (creating the device, holding the model) falls back
 * to the CPU path with a notice. */
#include "epd-model-open.h"

#include <string.h>

#include "epd-model.h"
#include "epd-vk-denoiser.h"

static char *
cpu_notice (EpdDenoiser *cpu,
            const char  *why)
{
  return g_strdup_printf ("device: %s%s%s", epd_denoiser_describe (cpu), why ? ": " : "", why ? why : "");
}

/* The position of the device to use, or -1 for the CPU path with *why set. */
static int
choose_device (const char  *device,
               char       **why,
               GError     **error)
{
  g_autofree char *reason = NULL;
  g_autoptr(GError) list_error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  guint position;
  int chosen;

  /* The common case, no GPU: decided without loading a Vulkan driver. */
  if (g_str_equal (device, "auto") && !epd_vk_auto_may_find_gpu (why))
    return -1;
  devices = epd_vk_list_devices (&reason, &list_error);
  if (devices == NULL && g_str_equal (device, "auto"))
    {
      *why = g_strdup_printf ("Vulkan failed, using the CPU path (%s)", list_error->message);
      return -1;
    }
  if (devices == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&list_error));
      return -2;
    }
  if (g_str_equal (device, "auto"))
    {
      chosen = epd_vk_choose_auto (devices);
      if (chosen < 0)
        *why = epd_vk_explain_auto (devices, reason);
      return chosen < 0 ? -1 : (int) ((EpdVkDeviceInfo *) g_ptr_array_index (devices, chosen))->index;
    }
  if (!epd_vk_select_device (devices, device, &position, error))
    {
      if (reason != NULL)
        g_prefix_error (error, "%s; ", reason);
      return -2;
    }
  return (int) ((EpdVkDeviceInfo *) g_ptr_array_index (devices, position))->index;
}

EpdDenoiser *
epd_model_open (const char  *spec,
                const char  *device,
                char       **notice,
                GError     **error)
{
  g_autoptr(EpdDenoiser) cpu = NULL;
  g_autoptr(EpdVkContext) context = NULL;
  g_autoptr(EpdVkDenoiser) vk = NULL;
  g_autoptr(GError) vk_error = NULL;
  g_autofree char *why = NULL;
  g_autofree char *index = NULL;
  int chosen;

  device = device != NULL ? device : "auto";
  if ((cpu = epd_model_from_spec (spec, error)) == NULL)
    return NULL;
  if (g_str_equal (device, "cpu"))
    chosen = -1;
  else if ((chosen = choose_device (device, &why, error)) == -2)
    return NULL;
  if (chosen >= 0)
    {
      index = g_strdup_printf ("%d", chosen);
      context = epd_vk_context_new (index, &vk_error);
      if (context != NULL)
        vk = epd_vk_denoiser_new (context, cpu, &vk_error);
      if (vk == NULL)
        why = g_strdup_printf ("Vulkan failed, using the CPU path (%s)", vk_error->message);
    }
  if (vk != NULL)
    {
      if (notice != NULL)
        *notice = g_strdup_printf ("device: %s", epd_denoiser_describe (EPD_DENOISER (vk)));
      return EPD_DENOISER (g_steal_pointer (&vk));
    }
  if (notice != NULL)
    *notice = cpu_notice (cpu, why);
  return g_steal_pointer (&cpu);
}

char *
epd_cpu_device_name (void)
{
  g_autofree char *cpuinfo = NULL;
  g_autofree char *model = NULL;

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (cpuinfo, "\n", -1);

      for (guint i = 0; lines[i] != NULL && model == NULL; i++)
        if (g_str_has_prefix (lines[i], "model name") && strchr (lines[i], ':') != NULL)
          model = g_strstrip (g_strdup (strchr (lines[i], ':') + 1));
    }
  return g_strdup_printf ("%s, %u threads", model != NULL ? model : "unknown processor",
                          g_get_num_processors ());
}
