/* SPDX-License-Identifier: MIT */
/* epd-vk-off.c: the compute engine of a build without Vulkan (-Dvulkan=false).
 *
 * The device list is empty and says why, so "auto" and `epd devices` report
 * the CPU path and an explicit Vulkan device is a clear error; no context or
 * Vulkan denoiser can be created, so their getters are never reached. */
#include "epd-vk-denoiser.h"

#define NO_VULKAN "this build has no Vulkan (meson -Dvulkan=false)"

struct _EpdVkContext
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (EpdVkContext, epd_vk_context, G_TYPE_OBJECT)

static void
epd_vk_context_class_init (EpdVkContextClass *klass)
{
}

static void
epd_vk_context_init (EpdVkContext *self)
{
}

struct _EpdVkDenoiser
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (EpdVkDenoiser, epd_vk_denoiser, G_TYPE_OBJECT)

static void
epd_vk_denoiser_class_init (EpdVkDenoiserClass *klass)
{
}

static void
epd_vk_denoiser_init (EpdVkDenoiser *self)
{
}

GPtrArray *
epd_vk_list_devices (char   **reason,
                     GError **error)
{
  if (reason != NULL)
    *reason = g_strdup (NO_VULKAN);
  return g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);
}

gboolean
epd_vk_auto_may_find_gpu (char **why)
{
  *why = g_strdup (NO_VULKAN);
  return FALSE;
}

EpdVkContext *
epd_vk_context_new (const char *selector,
                    GError    **error)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "no Vulkan device '%s': %s", selector, NO_VULKAN);
  return NULL;
}

const EpdVkDeviceInfo *
epd_vk_context_get_info (EpdVkContext *self)
{
  g_return_val_if_reached (NULL);
}

gboolean
epd_vk_context_is_lost (EpdVkContext *self)
{
  g_return_val_if_reached (TRUE);
}

gboolean
epd_vk_context_has_validation (EpdVkContext *self)
{
  g_return_val_if_reached (FALSE);
}

const char * const *
epd_vk_context_get_messages (EpdVkContext *self,
                             guint        *n_messages)
{
  g_return_val_if_reached (NULL);
}

gboolean
epd_vk_context_submit (EpdVkContext    *self,
                       const EpdVkStep *steps,
                       guint            n_steps,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%s", NO_VULKAN);
  return FALSE;
}

gboolean
epd_vk_context_wait_pending (EpdVkContext  *self,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_return_val_if_reached (FALSE);
}

gsize
epd_vk_context_get_max_buffer_range (EpdVkContext *self)
{
  g_return_val_if_reached (0);
}

EpdVkDenoiser *
epd_vk_denoiser_new (EpdVkContext  *context,
                     EpdDenoiser   *cpu_model,
                     GError       **error)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%s", NO_VULKAN);
  return NULL;
}

EpdVkContext *
epd_vk_denoiser_get_context (EpdVkDenoiser *self)
{
  g_return_val_if_reached (NULL);
}

EpdDenoiser *
epd_vk_denoiser_get_cpu (EpdVkDenoiser *self)
{
  g_return_val_if_reached (NULL);
}

gboolean
epd_vk_denoiser_fell_back (EpdVkDenoiser *self)
{
  g_return_val_if_reached (TRUE);
}

guint64
epd_vk_denoiser_get_n_submits (EpdVkDenoiser *self)
{
  g_return_val_if_reached (0);
}
