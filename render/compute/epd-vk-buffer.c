/* SPDX-License-Identifier: MIT */
/* epd-vk-buffer.c: storage buffers and their memory. */
#include "epd-vk-private.h"

#include <string.h>

struct _EpdVkBuffer
{
  EpdVkContext   *context;
  VkBuffer        buffer;
  VkDeviceMemory  memory;
  gsize           size;
  gpointer        mapped;
};

/* Device buffers of a unified device are mapped like staging buffers. */
static gboolean
wants_mapping (EpdVkContext *context,
               EpdVkMemory   where)
{
  return where == EPD_VK_MEMORY_HOST || epd_vk_context_is_unified (context);
}

static int
choose_memory_type (EpdVkContext *context,
                    guint32       type_bits,
                    EpdVkMemory   where)
{
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

  if (!wants_mapping (context, where))
    return epd_vk_context_find_memory_type (context, type_bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
  return epd_vk_context_find_memory_type (context, type_bits, host,
                                          where == EPD_VK_MEMORY_HOST ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT
                                                                      : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
}

static gboolean
check_size (EpdVkContext *context,
            gsize         size,
            GError      **error)
{
  gsize range = epd_vk_context_get_max_buffer_range (context);

  if (size <= range)
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE,
               "a buffer of %" G_GSIZE_FORMAT " bytes exceeds the largest storage buffer of %s (%" G_GSIZE_FORMAT " bytes)",
               size, epd_vk_context_get_info (context)->name, range);
  return FALSE;
}

EpdVkBuffer *
epd_vk_buffer_new (EpdVkContext *context,
                   gsize         size,
                   EpdVkMemory   where,
                   GError      **error)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (context);
  VkDevice device = epd_vk_context_get_device (context);
  g_autoptr(EpdVkBuffer) self = g_new0 (EpdVkBuffer, 1);
  VkBufferCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = MAX (size, 4),
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
             VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryAllocateInfo alloc = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
  VkMemoryRequirements needs;
  int type;

  self->context = g_object_ref (context);
  self->size = size;
  if (!check_size (context, info.size, error))
    return NULL;
  EPD_VK_CHECK (CreateBuffer, (device, &info, NULL, &self->buffer));
  vk->GetBufferMemoryRequirements (device, self->buffer, &needs);
  type = choose_memory_type (context, needs.memoryTypeBits, where);
  if (type < 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%s has no suitable memory type for a %s buffer",
                   epd_vk_context_get_info (context)->name, where == EPD_VK_MEMORY_HOST ? "staging" : "storage");
      return NULL;
    }
  alloc.allocationSize = needs.size;
  alloc.memoryTypeIndex = (guint32) type;
  EPD_VK_CHECK (AllocateMemory, (device, &alloc, NULL, &self->memory));
  EPD_VK_CHECK (BindBufferMemory, (device, self->buffer, self->memory, 0));
  if (wants_mapping (context, where))
    EPD_VK_CHECK (MapMemory, (device, self->memory, 0, VK_WHOLE_SIZE, 0, &self->mapped));
  return g_steal_pointer (&self);

error:
  return NULL;
}

void
epd_vk_buffer_free (EpdVkBuffer *self)
{
  const EpdVkFuncs *vk;
  VkDevice device;

  if (self == NULL)
    return;
  vk = epd_vk_context_get_funcs (self->context);
  device = epd_vk_context_get_device (self->context);
  if (self->mapped != NULL)
    vk->UnmapMemory (device, self->memory);
  if (self->buffer != VK_NULL_HANDLE)
    vk->DestroyBuffer (device, self->buffer, NULL);
  if (self->memory != VK_NULL_HANDLE)
    vk->FreeMemory (device, self->memory, NULL);
  g_object_unref (self->context);
  g_free (self);
}

gsize
epd_vk_buffer_get_size (EpdVkBuffer *self)
{
  return self->size;
}

gpointer
epd_vk_buffer_get_mapped (EpdVkBuffer *self)
{
  return self->mapped;
}

VkBuffer
epd_vk_buffer_get_handle (EpdVkBuffer *self)
{
  return self->buffer;
}

gboolean
epd_vk_buffer_upload (EpdVkBuffer *self,
                      const void  *data,
                      gsize        size,
                      GError     **error)
{
  g_autoptr(EpdVkBuffer) staging = NULL;
  EpdVkStep copy = { .size = size };

  g_return_val_if_fail (size <= self->size, FALSE);
  if (self->mapped != NULL)
    {
      memcpy (self->mapped, data, size);
      return TRUE;
    }
  staging = epd_vk_buffer_new (self->context, size, EPD_VK_MEMORY_HOST, error);
  if (staging == NULL)
    return FALSE;
  memcpy (staging->mapped, data, size);
  copy.src = staging;
  copy.dst = self;
  return epd_vk_context_submit (self->context, &copy, 1, NULL, error);
}

void
epd_vk_buffer_set_name (EpdVkBuffer *self,
                        const char  *name)
{
  epd_vk_context_set_name (self->context, VK_OBJECT_TYPE_BUFFER, (guint64) self->buffer, name);
  epd_vk_context_set_name (self->context, VK_OBJECT_TYPE_DEVICE_MEMORY, (guint64) self->memory, name);
}
