/* SPDX-License-Identifier: MIT */
/* epd-vk-buffer.h: storage buffers on a Vulkan device.
 *
 * DEVICE buffers live where the device computes: device-local memory on a
 * discrete GPU (not mapped: fill them with epd_vk_buffer_upload() or a copy
 * step from a HOST buffer), host-visible memory mapped directly on a CPU
 * implementation or an integrated GPU (no staging copy). HOST buffers are
 * always mapped, for staging. */
#pragma once

#include "epd-vk-context.h"

G_BEGIN_DECLS

typedef enum {
  EPD_VK_MEMORY_DEVICE,
  EPD_VK_MEMORY_HOST,
} EpdVkMemory;

/* Fails (EPD_ERROR_DEVICE) when size exceeds the device's largest storage
 * buffer (maxStorageBufferRange) or memory runs out. */
EpdVkBuffer *epd_vk_buffer_new        (EpdVkContext  *context,
                                       gsize          size,
                                       EpdVkMemory    where,
                                       GError       **error);
void         epd_vk_buffer_free       (EpdVkBuffer   *self);
gsize        epd_vk_buffer_get_size   (EpdVkBuffer   *self);
/* The mapped memory, or NULL for a device-local buffer. */
gpointer     epd_vk_buffer_get_mapped (EpdVkBuffer   *self);
/* Writes size bytes at the start: a memcpy when mapped, else through a
 * temporary staging buffer and one submission. */
gboolean     epd_vk_buffer_upload     (EpdVkBuffer   *self,
                                       const void    *data,
                                       gsize          size,
                                       GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdVkBuffer, epd_vk_buffer_free)

G_END_DECLS
