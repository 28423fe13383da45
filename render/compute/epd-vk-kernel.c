/* SPDX-License-Identifier: MIT */
/* epd-vk-kernel.c: compute pipelines from the embedded SPIR-V. */
#include "epd-vk-private.h"
#include "epd-render-resources.h"

struct _EpdVkKernel
{
  EpdVkContext          *context;
  VkShaderModule         module;
  VkDescriptorSetLayout  set_layout;
  VkPipelineLayout       layout;
  VkPipeline             pipeline;
  VkDescriptorPool       pool;
  VkDescriptorSet        set;
  guint                  push_size;
};

static gboolean
create_module (EpdVkKernel *self,
               const char  *name,
               GError     **error)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);
  g_autofree char *path = g_strdup_printf ("/org/epd-studio/render/shaders/%s.spv", name);
  g_autoptr(GBytes) code = g_resource_lookup_data (epd_render_get_resource (), path,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  VkShaderModuleCreateInfo info = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO };

  if (code == NULL)
    return FALSE;
  /* GResource data is aligned for any type, as SPIR-V words need. */
  info.pCode = g_bytes_get_data (code, &info.codeSize);
  EPD_VK_CHECK (CreateShaderModule, (epd_vk_context_get_device (self->context), &info, NULL, &self->module));
  return TRUE;

error:
  return FALSE;
}

static gboolean
create_layouts (EpdVkKernel *self,
                guint        n_bindings,
                GError     **error)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);
  VkDevice device = epd_vk_context_get_device (self->context);
  g_autofree VkDescriptorSetLayoutBinding *bindings = g_new0 (VkDescriptorSetLayoutBinding, n_bindings);
  VkDescriptorSetLayoutCreateInfo set_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = n_bindings,
    .pBindings = bindings,
  };
  VkPushConstantRange push = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .size = self->push_size,
  };
  VkPipelineLayoutCreateInfo layout_info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &self->set_layout,
    .pushConstantRangeCount = self->push_size > 0 ? 1 : 0,
    .pPushConstantRanges = &push,
  };

  for (guint i = 0; i < n_bindings; i++)
    bindings[i] = (VkDescriptorSetLayoutBinding) {
      .binding = i,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  EPD_VK_CHECK (CreateDescriptorSetLayout, (device, &set_info, NULL, &self->set_layout));
  EPD_VK_CHECK (CreatePipelineLayout, (device, &layout_info, NULL, &self->layout));
  return TRUE;

error:
  return FALSE;
}

static gboolean
create_pipeline (EpdVkKernel *self,
                 GError     **error)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);
  VkComputePipelineCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = self->module,
      .pName = "main",
    },
    .layout = self->layout,
  };

  EPD_VK_CHECK (CreateComputePipelines, (epd_vk_context_get_device (self->context),
                                         epd_vk_context_get_pipeline_cache (self->context),
                                         1, &info, NULL, &self->pipeline));
  return TRUE;

error:
  return FALSE;
}

static gboolean
create_set (EpdVkKernel *self,
             guint        n_bindings,
             GError     **error)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);
  VkDevice device = epd_vk_context_get_device (self->context);
  VkDescriptorPoolSize size = {
    .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    .descriptorCount = n_bindings,
  };
  VkDescriptorPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
    .maxSets = 1,
    .poolSizeCount = 1,
    .pPoolSizes = &size,
  };
  VkDescriptorSetAllocateInfo alloc = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorSetCount = 1,
    .pSetLayouts = &self->set_layout,
  };

  EPD_VK_CHECK (CreateDescriptorPool, (device, &pool_info, NULL, &self->pool));
  alloc.descriptorPool = self->pool;
  EPD_VK_CHECK (AllocateDescriptorSets, (device, &alloc, &self->set));
  return TRUE;

error:
  return FALSE;
}

static void
name_objects (EpdVkKernel *self,
              const char  *name)
{
  EpdVkContext *c = self->context;

  epd_vk_context_set_name (c, VK_OBJECT_TYPE_SHADER_MODULE, (guint64) self->module, name);
  epd_vk_context_set_name (c, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, (guint64) self->set_layout, name);
  epd_vk_context_set_name (c, VK_OBJECT_TYPE_PIPELINE_LAYOUT, (guint64) self->layout, name);
  epd_vk_context_set_name (c, VK_OBJECT_TYPE_PIPELINE, (guint64) self->pipeline, name);
  /* Not the descriptor set: it is freed with its pool, and lavapipe then
   * leaks the name it copied. */
  epd_vk_context_set_name (c, VK_OBJECT_TYPE_DESCRIPTOR_POOL, (guint64) self->pool, name);
}

EpdVkKernel *
epd_vk_kernel_new (EpdVkContext *context,
                   const char   *name,
                   guint         n_bindings,
                   guint         push_size,
                   GError      **error)
{
  g_autoptr(EpdVkKernel) self = g_new0 (EpdVkKernel, 1);

  g_return_val_if_fail (n_bindings > 0, NULL);
  self->context = g_object_ref (context);
  self->push_size = push_size;
  if (!create_module (self, name, error) || !create_layouts (self, n_bindings, error) ||
      !create_pipeline (self, error) || !create_set (self, n_bindings, error))
    {
      g_prefix_error (error, "shader %s: ", name);
      return NULL;
    }
  name_objects (self, name);
  return g_steal_pointer (&self);
}

void
epd_vk_kernel_free (EpdVkKernel *self)
{
  const EpdVkFuncs *vk;
  VkDevice device;

  if (self == NULL)
    return;
  vk = epd_vk_context_get_funcs (self->context);
  device = epd_vk_context_get_device (self->context);
  /* Destroying the pool frees its sets. */
  if (self->pool != VK_NULL_HANDLE)
    vk->DestroyDescriptorPool (device, self->pool, NULL);
  if (self->pipeline != VK_NULL_HANDLE)
    vk->DestroyPipeline (device, self->pipeline, NULL);
  if (self->layout != VK_NULL_HANDLE)
    vk->DestroyPipelineLayout (device, self->layout, NULL);
  if (self->set_layout != VK_NULL_HANDLE)
    vk->DestroyDescriptorSetLayout (device, self->set_layout, NULL);
  if (self->module != VK_NULL_HANDLE)
    vk->DestroyShaderModule (device, self->module, NULL);
  g_object_unref (self->context);
  g_free (self);
}

void
epd_vk_kernel_bind (EpdVkKernel *self,
                    guint        binding,
                    EpdVkBuffer *buffer)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);
  VkDescriptorBufferInfo info = {
    .buffer = epd_vk_buffer_get_handle (buffer),
    .range = VK_WHOLE_SIZE,
  };
  VkWriteDescriptorSet write = {
    .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
    .dstSet = self->set,
    .dstBinding = binding,
    .descriptorCount = 1,
    .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    .pBufferInfo = &info,
  };

  vk->UpdateDescriptorSets (epd_vk_context_get_device (self->context), 1, &write, 0, NULL);
}

void
epd_vk_kernel_record (EpdVkKernel     *self,
                      VkCommandBuffer  commands,
                      const void      *push,
                      guint32          push_size)
{
  const EpdVkFuncs *vk = epd_vk_context_get_funcs (self->context);

  g_return_if_fail (push_size == self->push_size);
  vk->CmdBindPipeline (commands, VK_PIPELINE_BIND_POINT_COMPUTE, self->pipeline);
  vk->CmdBindDescriptorSets (commands, VK_PIPELINE_BIND_POINT_COMPUTE, self->layout, 0, 1,
                             &self->set, 0, NULL);
  if (push_size > 0)
    vk->CmdPushConstants (commands, self->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
}
