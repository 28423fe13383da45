/* SPDX-License-Identifier: MIT */
/* epd-vk-context.h: a Vulkan compute device.
 *
 * An EpdVkContext owns an instance, one logical device with a compute queue,
 * a command pool, a pipeline cache and a fence. Work is submitted as a list of
 * steps (dispatches and buffer copies) recorded into one command buffer with a
 * barrier between consecutive steps, so a denoiser call is one submission.
 *
 * Device choice: "auto" takes the best real GPU (discrete, then integrated,
 * then virtual) and never a CPU implementation such as Mesa's lavapipe, which
 * computes far slower than the CPU path; "vulkan" takes the best device of any
 * kind, lavapipe included; an INDEX as listed by epd_vk_list_devices(), or a
 * case-insensitive substring of a device NAME, takes that device.
 *
 * EPD_VK_VALIDATION=1 in the environment enables VK_LAYER_KHRONOS_validation
 * and a debug-utils messenger that records every warning and error, so tests
 * can assert that the layer reported nothing. EPD_VK_LOADER names the loader
 * library (default libvulkan.so.1). EPD_VK_STAGING=1 treats every device as
 * a discrete GPU (device-local buffers filled through staging copies). */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

typedef enum {
  EPD_VK_DEVICE_OTHER,
  EPD_VK_DEVICE_INTEGRATED,
  EPD_VK_DEVICE_DISCRETE,
  EPD_VK_DEVICE_VIRTUAL,
  EPD_VK_DEVICE_CPU,
} EpdVkDeviceType;

typedef struct
{
  guint            index;          /* position in the instance's enumeration */
  char            *name;
  EpdVkDeviceType  type;
  guint32          api_version;    /* VK_MAKE_API_VERSION encoding */
  guint64          device_memory;  /* bytes of the largest device-local heap */
  gboolean         usable;         /* Vulkan >= 1.1 with a compute queue */
} EpdVkDeviceInfo;

void              epd_vk_device_info_free      (EpdVkDeviceInfo *info);
/* "discrete", "integrated", "virtual", "cpu" or "other". */
const char       *epd_vk_device_type_to_string (EpdVkDeviceType  type);
/* A VK_MAKE_API_VERSION number as "1.3.230" (g_free() it). */
char             *epd_vk_api_version_to_string (guint32          version);

/* Every physical device, in enumeration order (EpdVkDeviceInfo elements,
 * freed with the array). No loader, no driver, or no device: an empty array,
 * and *reason (may be NULL) says why. Only fails on a broken driver. */
GPtrArray        *epd_vk_list_devices          (char           **reason,
                                                GError         **error);
/* What "auto" picks from such a list: the position in the array, or -1. */
int               epd_vk_choose_auto           (GPtrArray       *devices);
/* Whether the kernel shows a GPU: a DRM render node (/dev/dri/renderD*),
 * NVIDIA's /dev/nvidia0 or WSL's /dev/dxg. Without one no Vulkan device but a
 * CPU implementation can exist, so "auto" need not load the drivers (Mesa's
 * lavapipe brings LLVM: tens of ms and ~60 MiB a command). $EPD_GPU_NODES
 * (a ':'-separated list of paths) replaces the list, for tests. */
gboolean          epd_vk_gpu_node_present      (void);
/* FALSE, with *why, when "auto" is sure to stay on the CPU path without
 * creating a Vulkan instance: no GPU device node, or a build without Vulkan. */
gboolean          epd_vk_auto_may_find_gpu     (char           **why);
/* Why "auto" stays on the CPU path (g_free() it), or NULL when it picks a
 * device; reason is what epd_vk_list_devices() said, or NULL. */
char             *epd_vk_explain_auto          (GPtrArray       *devices,
                                                const char      *reason);
/* Resolves "auto", "vulkan", an INDEX or a NAME substring against devices. */
gboolean          epd_vk_select_device         (GPtrArray       *devices,
                                                const char      *selector,
                                                guint           *position,
                                                GError         **error);

#define EPD_TYPE_VK_CONTEXT (epd_vk_context_get_type ())
G_DECLARE_FINAL_TYPE (EpdVkContext, epd_vk_context, EPD, VK_CONTEXT, GObject)

/* selector as for epd_vk_select_device(). Errors (EPD_ERROR_DEVICE) name
 * the failing Vulkan call, or say that there is no loader or no device. */
EpdVkContext          *epd_vk_context_new          (const char    *selector,
                                                    GError       **error);
const EpdVkDeviceInfo *epd_vk_context_get_info     (EpdVkContext  *self);
/* TRUE once a submission reported VK_ERROR_DEVICE_LOST: nothing more runs. */
gboolean               epd_vk_context_is_lost      (EpdVkContext  *self);
gboolean               epd_vk_context_has_validation (EpdVkContext *self);
/* Warnings and errors from the validation layer so far (NULL-terminated). */
const char * const    *epd_vk_context_get_messages (EpdVkContext  *self,
                                                    guint         *n_messages);

typedef struct _EpdVkBuffer EpdVkBuffer;
typedef struct _EpdVkKernel EpdVkKernel;

/* One step of a submission: a dispatch of kernel with push constants, or
 * (kernel NULL) a copy of size bytes from src at src_offset to dst at
 * dst_offset. */
typedef struct
{
  EpdVkKernel  *kernel;
  const void   *push;
  guint32       push_size;
  guint32       groups[3];
  EpdVkBuffer  *src;
  EpdVkBuffer  *dst;
  gsize         size;
  gsize         src_offset;
  gsize         dst_offset;
} EpdVkStep;

/* Records the steps into one command buffer, submits it and waits, checking
 * cancellable (may be NULL) between slices of the wait, so a hung device
 * cannot hang a cancellable solve. A cancelled wait fails with
 * G_IO_ERROR_CANCELLED and leaves the submission pending: the next call waits
 * for it first (see epd_vk_context_wait_pending()). Callable from any thread
 * (a mutex serialises submissions). Errors: EPD_ERROR_DEVICE naming the call;
 * epd_vk_context_is_lost() says whether the device is gone for good. */
gboolean               epd_vk_context_submit       (EpdVkContext    *self,
                                                    const EpdVkStep *steps,
                                                    guint            n_steps,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
/* Waits (in slices, honouring cancellable) for a submission whose wait was
 * cancelled, so that its buffers can be written again. */
gboolean               epd_vk_context_wait_pending (EpdVkContext    *self,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
/* maxStorageBufferRange, or less where a test asked for less: the most bytes
 * one buffer may hold. */
gsize                  epd_vk_context_get_max_buffer_range (EpdVkContext *self);

G_END_DECLS
