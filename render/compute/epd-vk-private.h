/* SPDX-License-Identifier: MIT */
/* epd-vk-private.h: what the Vulkan engine's own files share.
 *
 * The loader is opened at run time (dlopen of libvulkan.so.1), so a machine
 * without Vulkan still runs every CPU path; all entry points go through the
 * function table below. EPD_VK_CHECK names the failing call in the GError and
 * jumps to the function's single `error:` label. */
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "epd-vk-context.h"
#include "epd-vk-buffer.h"
#include "epd-vk-kernel.h"

G_BEGIN_DECLS

/* Entry points that need no instance. */
#define EPD_VK_GLOBAL_FUNCS(X) \
  X (CreateInstance) \
  X (EnumerateInstanceLayerProperties) \
  X (EnumerateInstanceExtensionProperties)

#define EPD_VK_INSTANCE_FUNCS(X) \
  X (DestroyInstance) \
  X (EnumeratePhysicalDevices) \
  X (GetPhysicalDeviceProperties) \
  X (GetPhysicalDeviceMemoryProperties) \
  X (GetPhysicalDeviceQueueFamilyProperties) \
  X (CreateDevice) \
  X (GetDeviceProcAddr)

#define EPD_VK_DEVICE_FUNCS(X) \
  X (DestroyDevice) \
  X (GetDeviceQueue) \
  X (DeviceWaitIdle) \
  X (CreateBuffer) \
  X (DestroyBuffer) \
  X (GetBufferMemoryRequirements) \
  X (AllocateMemory) \
  X (FreeMemory) \
  X (BindBufferMemory) \
  X (MapMemory) \
  X (UnmapMemory) \
  X (CreateCommandPool) \
  X (DestroyCommandPool) \
  X (AllocateCommandBuffers) \
  X (FreeCommandBuffers) \
  X (BeginCommandBuffer) \
  X (EndCommandBuffer) \
  X (ResetCommandBuffer) \
  X (CmdBindPipeline) \
  X (CmdBindDescriptorSets) \
  X (CmdPushConstants) \
  X (CmdDispatch) \
  X (CmdPipelineBarrier) \
  X (CmdCopyBuffer) \
  X (CreateFence) \
  X (DestroyFence) \
  X (ResetFences) \
  X (WaitForFences) \
  X (QueueSubmit) \
  X (CreateShaderModule) \
  X (DestroyShaderModule) \
  X (CreatePipelineCache) \
  X (DestroyPipelineCache) \
  X (GetPipelineCacheData) \
  X (CreateComputePipelines) \
  X (DestroyPipeline) \
  X (CreatePipelineLayout) \
  X (DestroyPipelineLayout) \
  X (CreateDescriptorSetLayout) \
  X (DestroyDescriptorSetLayout) \
  X (CreateDescriptorPool) \
  X (DestroyDescriptorPool) \
  X (AllocateDescriptorSets) \
  X (UpdateDescriptorSets)

#define EPD_VK_DECLARE_FUNC(name) PFN_vk##name name;

typedef struct
{
  EPD_VK_GLOBAL_FUNCS (EPD_VK_DECLARE_FUNC)
  EPD_VK_INSTANCE_FUNCS (EPD_VK_DECLARE_FUNC)
  EPD_VK_DEVICE_FUNCS (EPD_VK_DECLARE_FUNC)
  /* Only with the debug-utils extension (names: where present; the
   * messenger: EPD_VK_VALIDATION=1). */
  PFN_vkCreateDebugUtilsMessengerEXT  CreateDebugUtilsMessengerEXT;
  PFN_vkDestroyDebugUtilsMessengerEXT DestroyDebugUtilsMessengerEXT;
  PFN_vkSetDebugUtilsObjectNameEXT    SetDebugUtilsObjectNameEXT;
} EpdVkFuncs;

/* Sets error to "NAME failed: VK_ERROR_..." in the EPD_ERROR_DEVICE domain. */
void         epd_vk_set_error        (GError     **error,
                                      const char  *call,
                                      VkResult     result);
const char  *epd_vk_result_to_string (VkResult     result);

/* Needs `vk` (const EpdVkFuncs *), `error` and an `error:` label in scope. */
#define EPD_VK_CHECK(fn, args) \
  G_STMT_START { \
    VkResult epd_vk_res_ = vk->fn args; \
    if (epd_vk_res_ != VK_SUCCESS) \
      { \
        epd_vk_set_error (error, "vk" #fn, epd_vk_res_); \
        goto error; \
      } \
  } G_STMT_END

const EpdVkFuncs *epd_vk_context_get_funcs           (EpdVkContext *self);
VkDevice          epd_vk_context_get_device          (EpdVkContext *self);
VkPipelineCache   epd_vk_context_get_pipeline_cache  (EpdVkContext *self);
const VkPhysicalDeviceLimits *epd_vk_context_get_limits (EpdVkContext *self);
/* The memory type for `properties` (all required), or -1. preferred bits
 * are taken when a type has them as well. */
int               epd_vk_context_find_memory_type    (EpdVkContext          *self,
                                                      guint32                type_bits,
                                                      VkMemoryPropertyFlags  required,
                                                      VkMemoryPropertyFlags  preferred);
/* TRUE when host-visible memory is what the device computes on (a CPU or an
 * integrated GPU), so buffers are mapped directly and no staging copy is made. */
gboolean          epd_vk_context_is_unified          (EpdVkContext *self);

/* Names a Vulkan object for debuggers and validation messages
 * (VK_EXT_debug_utils); does nothing where the extension is missing. */
void              epd_vk_context_set_name            (EpdVkContext *self,
                                                      VkObjectType  type,
                                                      guint64       handle,
                                                      const char   *name);
/* TRUE when the instance has VK_EXT_debug_utils, so objects get names. */
gboolean          epd_vk_context_has_debug_names     (EpdVkContext *self);
void              epd_vk_buffer_set_name             (EpdVkBuffer  *self,
                                                      const char   *name);

/* Marks the device lost, as a VK_ERROR_DEVICE_LOST would: for the tests of
 * the CPU fallback, which no real driver failure can trigger on demand. */
void              epd_vk_context_simulate_loss       (EpdVkContext *self);
/* The next submission fails with result, as the driver would report it
 * (VK_ERROR_DEVICE_LOST also marks the device lost). */
void              epd_vk_context_simulate_failure    (EpdVkContext *self,
                                                      VkResult      result);
/* While hang is TRUE, fences never signal (a hung device). */
void              epd_vk_context_simulate_hang       (EpdVkContext *self,
                                                      gboolean      hang);
/* Pretends maxStorageBufferRange is bytes, so tests can exceed it with small
 * inputs. Set it before creating buffers or denoisers. */
void              epd_vk_context_limit_buffer_range  (EpdVkContext *self,
                                                      gsize         bytes);

/* Validation messages of every context so far, including those reported
 * while destroying a device (e.g. objects left alive). */
guint             epd_vk_get_n_validation_messages   (void);

VkBuffer          epd_vk_buffer_get_handle           (EpdVkBuffer  *self);
/* Binds the pipeline, descriptor set and push constants (no dispatch). */
void              epd_vk_kernel_record               (EpdVkKernel     *self,
                                                      VkCommandBuffer  commands,
                                                      const void      *push,
                                                      guint32          push_size);

G_END_DECLS
