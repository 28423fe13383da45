/* SPDX-License-Identifier: MIT */
/* epd-vk-context.c: instance, device choice, queue and submission. */
#include "epd-vk-private.h"
#include "epd-file.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
/* A hung device must not hang a cancellable solve: fences are waited for in
 * slices, and the cancellable is checked between them. */
#define FENCE_SLICE_NS ((guint64) 50 * 1000 * 1000)

struct _EpdVkContext
{
  GObject                           parent_instance;

  EpdVkFuncs                        vk;
  VkInstance                        instance;
  VkDebugUtilsMessengerEXT          messenger;
  VkPhysicalDevice                  physical;
  VkPhysicalDeviceProperties        properties;
  VkPhysicalDeviceMemoryProperties  memory;
  EpdVkDeviceInfo                   info;
  VkDevice                          device;
  VkQueue                           queue;
  VkCommandPool                     pool;
  VkCommandBuffer                   commands;
  VkFence                           fence;
  VkPipelineCache                   cache;
  GMutex                            submit_lock;
  gboolean                          lost;
  gboolean                          pending;        /* a submission whose wait was cancelled */
  gsize                             range_limit;    /* tests: a smaller maxStorageBufferRange (0: none) */
  VkResult                          simulated;      /* tests: the next submission's failure */
  gboolean                          hang;           /* tests: fences never signal */
  gboolean                          validation;
  gboolean                          debug_names;    /* VK_EXT_debug_utils is enabled */
  gboolean                          unified;

  GMutex                            messages_lock;
  GPtrArray                        *messages;
};

G_DEFINE_FINAL_TYPE (EpdVkContext, epd_vk_context, G_TYPE_OBJECT)

const char *
epd_vk_result_to_string (VkResult result)
{
  switch (result)
    {
#define CASE(x) case x: return #x
      CASE (VK_SUCCESS);
      CASE (VK_NOT_READY);
      CASE (VK_TIMEOUT);
      CASE (VK_INCOMPLETE);
      CASE (VK_ERROR_OUT_OF_HOST_MEMORY);
      CASE (VK_ERROR_OUT_OF_DEVICE_MEMORY);
      CASE (VK_ERROR_INITIALIZATION_FAILED);
      CASE (VK_ERROR_DEVICE_LOST);
      CASE (VK_ERROR_MEMORY_MAP_FAILED);
      CASE (VK_ERROR_LAYER_NOT_PRESENT);
      CASE (VK_ERROR_EXTENSION_NOT_PRESENT);
      CASE (VK_ERROR_FEATURE_NOT_PRESENT);
      CASE (VK_ERROR_INCOMPATIBLE_DRIVER);
      CASE (VK_ERROR_TOO_MANY_OBJECTS);
      CASE (VK_ERROR_FORMAT_NOT_SUPPORTED);
      CASE (VK_ERROR_FRAGMENTED_POOL);
      CASE (VK_ERROR_OUT_OF_POOL_MEMORY);
      CASE (VK_ERROR_INVALID_SHADER_NV);
#undef CASE
    default:
      return "unknown VkResult";
    }
}

void
epd_vk_set_error (GError    **error,
                  const char *call,
                  VkResult    result)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "%s failed: %s (%d)",
               call, epd_vk_result_to_string (result), (int) result);
}

/* The loader is opened once per process; a missing one is remembered. */
static PFN_vkGetInstanceProcAddr
load_loader (GError **error)
{
  static gsize once = 0;
  static PFN_vkGetInstanceProcAddr gipa;
  static char *failure;

  if (g_once_init_enter (&once))
    {
      const char *name = g_getenv ("EPD_VK_LOADER");
      void *handle = dlopen (name != NULL ? name : "libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);

      if (handle == NULL)
        failure = g_strdup_printf ("no Vulkan loader (%s)", dlerror ());
      else if ((gipa = (PFN_vkGetInstanceProcAddr) dlsym (handle, "vkGetInstanceProcAddr")) == NULL)
        failure = g_strdup ("the Vulkan loader has no vkGetInstanceProcAddr");
      g_once_init_leave (&once, 1);
    }
  if (gipa == NULL)
    g_set_error_literal (error, EPD_ERROR, EPD_ERROR_DEVICE, failure);
  return gipa;
}

static gboolean
load_missing (GError    **error,
              const char *name)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "the Vulkan driver has no %s", name);
  return FALSE;
}

static gboolean
load_global_funcs (EpdVkFuncs *vk,
                   GError    **error)
{
  PFN_vkGetInstanceProcAddr gipa = load_loader (error);

  if (gipa == NULL)
    return FALSE;
#define LOAD(name) \
  if ((vk->name = (PFN_vk##name) gipa (NULL, "vk" #name)) == NULL) \
    return load_missing (error, "vk" #name);
  EPD_VK_GLOBAL_FUNCS (LOAD)
#undef LOAD
  return TRUE;
}

static gboolean
load_instance_funcs (EpdVkFuncs *vk,
                     VkInstance  instance,
                     GError    **error)
{
  PFN_vkGetInstanceProcAddr gipa = load_loader (error);

#define LOAD(name) \
  if ((vk->name = (PFN_vk##name) gipa (instance, "vk" #name)) == NULL) \
    return load_missing (error, "vk" #name);
  EPD_VK_INSTANCE_FUNCS (LOAD)
#undef LOAD
  vk->CreateDebugUtilsMessengerEXT = (PFN_vkCreateDebugUtilsMessengerEXT)
    gipa (instance, "vkCreateDebugUtilsMessengerEXT");
  vk->DestroyDebugUtilsMessengerEXT = (PFN_vkDestroyDebugUtilsMessengerEXT)
    gipa (instance, "vkDestroyDebugUtilsMessengerEXT");
  vk->SetDebugUtilsObjectNameEXT = (PFN_vkSetDebugUtilsObjectNameEXT)
    gipa (instance, "vkSetDebugUtilsObjectNameEXT");
  return TRUE;
}

static gboolean
load_device_funcs (EpdVkFuncs *vk,
                   VkDevice    device,
                   GError    **error)
{
#define LOAD(name) \
  if ((vk->name = (PFN_vk##name) vk->GetDeviceProcAddr (device, "vk" #name)) == NULL) \
    return load_missing (error, "vk" #name);
  EPD_VK_DEVICE_FUNCS (LOAD)
#undef LOAD
  return TRUE;
}

/* Every message of every context, teardown included, for the tests. */
static gint n_validation_messages;

guint
epd_vk_get_n_validation_messages (void)
{
  return (guint) g_atomic_int_get (&n_validation_messages);
}

static VkBool32 VKAPI_PTR
on_debug_message (VkDebugUtilsMessageSeverityFlagBitsEXT      severity,
                  VkDebugUtilsMessageTypeFlagsEXT             types,
                  const VkDebugUtilsMessengerCallbackDataEXT *data,
                  void                                       *user_data)
{
  EpdVkContext *self = user_data;
  const char *level = severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";

  g_atomic_int_inc (&n_validation_messages);
  g_mutex_lock (&self->messages_lock);
  /* Keep the array NULL-terminated for epd_vk_context_get_messages(). */
  g_ptr_array_remove_index (self->messages, self->messages->len - 1);
  g_ptr_array_add (self->messages, g_strdup_printf ("%s: %s", level, data->pMessage));
  g_ptr_array_add (self->messages, NULL);
  g_mutex_unlock (&self->messages_lock);
  /* Validation is a developer's choice (EPD_VK_VALIDATION=1): say it loudly. */
  g_printerr ("epd: Vulkan validation %s: %s\n", level, data->pMessage);
  return VK_FALSE;
}

static gboolean
has_layer (const EpdVkFuncs *vk,
           const char       *name)
{
  guint32 n = 0;
  g_autofree VkLayerProperties *layers = NULL;

  if (vk->EnumerateInstanceLayerProperties (&n, NULL) != VK_SUCCESS)
    return FALSE;
  layers = g_new0 (VkLayerProperties, MAX (n, 1));
  if (vk->EnumerateInstanceLayerProperties (&n, layers) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < n; i++)
    if (g_str_equal (layers[i].layerName, name))
      return TRUE;
  return FALSE;
}

static gboolean
has_instance_extension (const EpdVkFuncs *vk,
                        const char       *name)
{
  guint32 n = 0;
  g_autofree VkExtensionProperties *extensions = NULL;

  if (vk->EnumerateInstanceExtensionProperties (NULL, &n, NULL) != VK_SUCCESS)
    return FALSE;
  extensions = g_new0 (VkExtensionProperties, MAX (n, 1));
  if (vk->EnumerateInstanceExtensionProperties (NULL, &n, extensions) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < n; i++)
    if (g_str_equal (extensions[i].extensionName, name))
      return TRUE;
  return FALSE;
}

static void
init_messenger_info (EpdVkContext                       *self,
                     VkDebugUtilsMessengerCreateInfoEXT *info)
{
  *info = (VkDebugUtilsMessengerCreateInfoEXT) {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
    .pfnUserCallback = on_debug_message,
    .pUserData = self,
  };
}

/* self may be NULL (listing devices): then validation is never enabled. */
static VkInstance
create_instance (EpdVkFuncs    *vk,
                 EpdVkContext  *self,
                 GError       **error)
{
  const char *layers[] = { VALIDATION_LAYER };
  const char *extensions[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
  gboolean validation = self != NULL && self->validation;
  VkDebugUtilsMessengerCreateInfoEXT messenger_info;
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "EPD Studio",
    .pEngineName = "epd-render",
    .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  VkInstance instance = VK_NULL_HANDLE;

  if (!load_global_funcs (vk, error))
    return VK_NULL_HANDLE;
  if (validation)
    {
      if (!has_layer (vk, VALIDATION_LAYER))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE,
                       "EPD_VK_VALIDATION=1 asks for %s, which is not installed "
                       "(Debian package vulkan-validationlayers)", VALIDATION_LAYER);
          return VK_NULL_HANDLE;
        }
      init_messenger_info (self, &messenger_info);
      info.pNext = &messenger_info;
      info.enabledLayerCount = G_N_ELEMENTS (layers);
      info.ppEnabledLayerNames = layers;
    }
  /* Debug names for captures and validation messages, wherever the loader
   * offers them (the validation layer brings the extension too). */
  if (self != NULL && (validation || has_instance_extension (vk, VK_EXT_DEBUG_UTILS_EXTENSION_NAME)))
    {
      self->debug_names = TRUE;
      info.enabledExtensionCount = G_N_ELEMENTS (extensions);
      info.ppEnabledExtensionNames = extensions;
    }
  EPD_VK_CHECK (CreateInstance, (&info, NULL, &instance));
  if (!load_instance_funcs (vk, instance, error))
    goto error;
  return instance;

error:
  if (instance != VK_NULL_HANDLE)
    vk->DestroyInstance (instance, NULL);
  return VK_NULL_HANDLE;
}

static EpdVkDeviceType
device_type_from_vk (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return EPD_VK_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return EPD_VK_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return EPD_VK_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return EPD_VK_DEVICE_CPU;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
    default: return EPD_VK_DEVICE_OTHER;
    }
}

/* The first queue family that can compute, or -1. */
static int
find_compute_family (const EpdVkFuncs *vk,
                     VkPhysicalDevice  physical)
{
  guint32 n = 0;
  g_autofree VkQueueFamilyProperties *families = NULL;

  vk->GetPhysicalDeviceQueueFamilyProperties (physical, &n, NULL);
  families = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vk->GetPhysicalDeviceQueueFamilyProperties (physical, &n, families);
  for (guint32 i = 0; i < n; i++)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      return (int) i;
  return -1;
}

static EpdVkDeviceInfo *
describe_physical (const EpdVkFuncs *vk,
                   VkPhysicalDevice  physical,
                   guint             index)
{
  EpdVkDeviceInfo *info = g_new0 (EpdVkDeviceInfo, 1);
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties memory;

  vk->GetPhysicalDeviceProperties (physical, &props);
  vk->GetPhysicalDeviceMemoryProperties (physical, &memory);
  info->index = index;
  info->name = g_strdup (props.deviceName);
  info->type = device_type_from_vk (props.deviceType);
  info->api_version = props.apiVersion;
  for (guint32 h = 0; h < memory.memoryHeapCount; h++)
    if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      info->device_memory = MAX (info->device_memory, memory.memoryHeaps[h].size);
  info->usable = props.apiVersion >= VK_API_VERSION_1_1 && find_compute_family (vk, physical) >= 0;
  return info;
}

static GPtrArray *
enumerate (const EpdVkFuncs  *vk,
           VkInstance         instance,
           VkPhysicalDevice **physicals,
           GError           **error)
{
  guint32 n = 0;
  g_autofree VkPhysicalDevice *list = NULL;
  GPtrArray *devices = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);

  EPD_VK_CHECK (EnumeratePhysicalDevices, (instance, &n, NULL));
  list = g_new0 (VkPhysicalDevice, MAX (n, 1));
  EPD_VK_CHECK (EnumeratePhysicalDevices, (instance, &n, list));
  for (guint32 i = 0; i < n; i++)
    g_ptr_array_add (devices, describe_physical (vk, list[i], i));
  if (physicals != NULL)
    *physicals = g_steal_pointer (&list);
  return devices;

error:
  g_ptr_array_unref (devices);
  return NULL;
}

GPtrArray *
epd_vk_list_devices (char   **reason,
                     GError **error)
{
  EpdVkFuncs vk = { 0 };
  g_autoptr(GError) local_error = NULL;
  VkInstance instance = create_instance (&vk, NULL, &local_error);
  GPtrArray *devices;

  if (instance == VK_NULL_HANDLE)
    {
      /* No loader or no driver is a normal machine without Vulkan. */
      if (reason != NULL)
        *reason = g_strdup (local_error->message);
      return g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);
    }
  devices = enumerate (&vk, instance, NULL, error);
  vk.DestroyInstance (instance, NULL);
  if (devices != NULL && devices->len == 0 && reason != NULL)
    *reason = g_strdup ("the Vulkan loader found no device");
  return devices;
}

gboolean
epd_vk_auto_may_find_gpu (char **why)
{
  if (epd_vk_gpu_node_present ())
    return TRUE;
  *why = g_strdup ("no Vulkan GPU (the kernel shows no GPU device; --device vulkan runs on a CPU "
                   "implementation of Vulkan if one is installed)");
  return FALSE;
}

/* Pipelines compiled by an earlier run, kept per device in the user's cache
 * folder: a CPU implementation compiles each shader with LLVM, which is slow. */
static char *
pipeline_cache_path (EpdVkContext *self)
{
  g_autofree char *name = g_strdup_printf ("vulkan-pipelines-%04x-%04x.bin",
                                           self->properties.vendorID, self->properties.deviceID);

  return g_build_filename (g_get_user_cache_dir (), "epd-studio", name, NULL);
}

/* Only data this driver wrote: the header names the device and the cache UUID. */
static gboolean
pipeline_cache_matches (EpdVkContext *self,
                        const guint8 *data,
                        gsize         size)
{
  guint32 header[4];

  if (size < 16 + VK_UUID_SIZE)
    return FALSE;
  memcpy (header, data, sizeof header);
  return header[0] >= 16 + VK_UUID_SIZE && header[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
         header[2] == self->properties.vendorID && header[3] == self->properties.deviceID &&
         memcmp (data + 16, self->properties.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

static gboolean
create_pipeline_cache (EpdVkContext *self,
                       GError      **error)
{
  const EpdVkFuncs *vk = &self->vk;
  g_autofree char *path = pipeline_cache_path (self);
  g_autofree char *data = NULL;
  gsize size = 0;
  VkPipelineCacheCreateInfo info = { .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };

  if (g_file_get_contents (path, &data, &size, NULL) && pipeline_cache_matches (self, (guint8 *) data, size))
    {
      info.initialDataSize = size;
      info.pInitialData = data;
    }
  EPD_VK_CHECK (CreatePipelineCache, (self->device, &info, NULL, &self->cache));
  return TRUE;

error:
  return FALSE;
}

/* Best effort: a cache that cannot be written only costs time next run. */
static void
save_pipeline_cache (EpdVkContext *self)
{
  const EpdVkFuncs *vk = &self->vk;
  g_autofree char *path = pipeline_cache_path (self);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree guint8 *data = NULL;
  g_autoptr(GError) error = NULL;
  size_t size = 0;

  if (vk->GetPipelineCacheData (self->device, self->cache, &size, NULL) != VK_SUCCESS || size == 0)
    return;
  data = g_malloc (size);
  if (vk->GetPipelineCacheData (self->device, self->cache, &size, data) != VK_SUCCESS)
    return;
  if (g_mkdir_with_parents (dir, 0755) != 0 ||
      !epd_file_write_atomic (path, data, (gssize) size, &error))
    g_debug ("pipeline cache not saved to %s: %s", path, error ? error->message : g_strerror (errno));
}

static void
epd_vk_context_finalize (GObject *object)
{
  EpdVkContext *self = EPD_VK_CONTEXT (object);
  const EpdVkFuncs *vk = &self->vk;

  if (self->device != VK_NULL_HANDLE)
    {
      vk->DeviceWaitIdle (self->device);
      if (self->cache != VK_NULL_HANDLE)
        {
          save_pipeline_cache (self);
          vk->DestroyPipelineCache (self->device, self->cache, NULL);
        }
      if (self->fence != VK_NULL_HANDLE)
        vk->DestroyFence (self->device, self->fence, NULL);
      if (self->pool != VK_NULL_HANDLE)
        vk->DestroyCommandPool (self->device, self->pool, NULL);
      vk->DestroyDevice (self->device, NULL);
    }
  if (self->messenger != VK_NULL_HANDLE)
    vk->DestroyDebugUtilsMessengerEXT (self->instance, self->messenger, NULL);
  if (self->instance != VK_NULL_HANDLE)
    vk->DestroyInstance (self->instance, NULL);
  g_free (self->info.name);
  g_ptr_array_unref (self->messages);
  g_mutex_clear (&self->submit_lock);
  g_mutex_clear (&self->messages_lock);
  G_OBJECT_CLASS (epd_vk_context_parent_class)->finalize (object);
}

static void
epd_vk_context_class_init (EpdVkContextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_vk_context_finalize;
}

static void
epd_vk_context_init (EpdVkContext *self)
{
  g_mutex_init (&self->submit_lock);
  g_mutex_init (&self->messages_lock);
  self->messages = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->messages, NULL);
}

static gboolean
create_messenger (EpdVkContext *self,
                  GError      **error)
{
  const EpdVkFuncs *vk = &self->vk;
  VkDebugUtilsMessengerCreateInfoEXT info;

  if (vk->CreateDebugUtilsMessengerEXT == NULL || vk->DestroyDebugUtilsMessengerEXT == NULL)
    return load_missing (error, "vkCreateDebugUtilsMessengerEXT");
  init_messenger_info (self, &info);
  EPD_VK_CHECK (CreateDebugUtilsMessengerEXT, (self->instance, &info, NULL, &self->messenger));
  return TRUE;

error:
  return FALSE;
}

static gboolean
pick_physical (EpdVkContext *self,
               const char   *selector,
               GError      **error)
{
  const EpdVkFuncs *vk = &self->vk;
  g_autofree VkPhysicalDevice *physicals = NULL;
  g_autoptr(GPtrArray) devices = enumerate (vk, self->instance, &physicals, error);
  EpdVkDeviceInfo *info;
  guint position;

  if (devices == NULL || !epd_vk_select_device (devices, selector, &position, error))
    return FALSE;
  info = g_ptr_array_index (devices, position);
  self->info = *info;
  self->info.name = g_strdup (info->name);
  /* EPD_VK_STAGING=1 takes the discrete-GPU path (staging copies) on any
   * device, so that CI exercises it on lavapipe. */
  self->unified = (info->type == EPD_VK_DEVICE_CPU || info->type == EPD_VK_DEVICE_INTEGRATED) &&
                  g_strcmp0 (g_getenv ("EPD_VK_STAGING"), "1") != 0;
  self->physical = physicals[position];
  vk->GetPhysicalDeviceProperties (self->physical, &self->properties);
  vk->GetPhysicalDeviceMemoryProperties (self->physical, &self->memory);
  return TRUE;
}

static gboolean
create_device (EpdVkContext *self,
               GError      **error)
{
  EpdVkFuncs *vk = &self->vk;
  int family = find_compute_family (vk, self->physical);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = (guint32) family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo device_info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &queue_info,
  };
  VkCommandPoolCreateInfo pool_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = (guint32) family,
  };
  VkCommandBufferAllocateInfo commands_info = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };

  EPD_VK_CHECK (CreateDevice, (self->physical, &device_info, NULL, &self->device));
  if (!load_device_funcs (vk, self->device, error))
    goto error;
  vk->GetDeviceQueue (self->device, (guint32) family, 0, &self->queue);
  EPD_VK_CHECK (CreateCommandPool, (self->device, &pool_info, NULL, &self->pool));
  commands_info.commandPool = self->pool;
  EPD_VK_CHECK (AllocateCommandBuffers, (self->device, &commands_info, &self->commands));
  EPD_VK_CHECK (CreateFence, (self->device, &fence_info, NULL, &self->fence));
  epd_vk_context_set_name (self, VK_OBJECT_TYPE_DEVICE, (guint64) (guintptr) self->device, "epd device");
  epd_vk_context_set_name (self, VK_OBJECT_TYPE_QUEUE, (guint64) (guintptr) self->queue, "epd compute queue");
  epd_vk_context_set_name (self, VK_OBJECT_TYPE_COMMAND_POOL, (guint64) self->pool, "epd command pool");
  /* Not the command buffer: freed with its pool, its copied name would leak
   * in lavapipe. */
  epd_vk_context_set_name (self, VK_OBJECT_TYPE_FENCE, (guint64) self->fence, "epd submission fence");
  return create_pipeline_cache (self, error);

error:
  /* finalize() destroys whatever was made. */
  return FALSE;
}

EpdVkContext *
epd_vk_context_new (const char *selector,
                    GError    **error)
{
  g_autoptr(EpdVkContext) self = g_object_new (EPD_TYPE_VK_CONTEXT, NULL);

  g_return_val_if_fail (selector != NULL, NULL);
  self->validation = g_strcmp0 (g_getenv ("EPD_VK_VALIDATION"), "1") == 0;
  self->instance = create_instance (&self->vk, self, error);
  if (self->instance == VK_NULL_HANDLE)
    return NULL;
  if (self->validation && !create_messenger (self, error))
    return NULL;
  if (!pick_physical (self, selector, error) || !create_device (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

const EpdVkDeviceInfo *
epd_vk_context_get_info (EpdVkContext *self)
{
  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), NULL);
  return &self->info;
}

gboolean
epd_vk_context_is_lost (EpdVkContext *self)
{
  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), TRUE);
  return self->lost;
}

void
epd_vk_context_simulate_loss (EpdVkContext *self)
{
  g_mutex_lock (&self->submit_lock);
  self->lost = TRUE;
  g_mutex_unlock (&self->submit_lock);
}

void
epd_vk_context_simulate_failure (EpdVkContext *self,
                                 VkResult      result)
{
  g_mutex_lock (&self->submit_lock);
  self->simulated = result;
  g_mutex_unlock (&self->submit_lock);
}

void
epd_vk_context_simulate_hang (EpdVkContext *self,
                              gboolean      hang)
{
  g_mutex_lock (&self->submit_lock);
  self->hang = hang;
  g_mutex_unlock (&self->submit_lock);
}

void
epd_vk_context_limit_buffer_range (EpdVkContext *self,
                                   gsize         bytes)
{
  self->range_limit = bytes;
}

gsize
epd_vk_context_get_max_buffer_range (EpdVkContext *self)
{
  gsize range = self->properties.limits.maxStorageBufferRange;

  return self->range_limit > 0 ? MIN (range, self->range_limit) : range;
}

void
epd_vk_context_set_name (EpdVkContext *self,
                         VkObjectType  type,
                         guint64       handle,
                         const char   *name)
{
  VkDebugUtilsObjectNameInfoEXT info = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT,
    .objectType = type,
    .objectHandle = handle,
    .pObjectName = name,
  };

  /* A name is a debugging aid: failing to set one changes nothing else. */
  if (self->debug_names && self->vk.SetDebugUtilsObjectNameEXT != NULL && handle != 0)
    self->vk.SetDebugUtilsObjectNameEXT (self->device, &info);
}

gboolean
epd_vk_context_has_debug_names (EpdVkContext *self)
{
  return self->debug_names && self->vk.SetDebugUtilsObjectNameEXT != NULL;
}

gboolean
epd_vk_context_has_validation (EpdVkContext *self)
{
  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), FALSE);
  return self->validation;
}

const char * const *
epd_vk_context_get_messages (EpdVkContext *self,
                             guint        *n_messages)
{
  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), NULL);
  if (n_messages != NULL)
    *n_messages = self->messages->len - 1;
  return (const char * const *) self->messages->pdata;
}

const EpdVkFuncs *
epd_vk_context_get_funcs (EpdVkContext *self)
{
  return &self->vk;
}

VkDevice
epd_vk_context_get_device (EpdVkContext *self)
{
  return self->device;
}

VkPipelineCache
epd_vk_context_get_pipeline_cache (EpdVkContext *self)
{
  return self->cache;
}

const VkPhysicalDeviceLimits *
epd_vk_context_get_limits (EpdVkContext *self)
{
  return &self->properties.limits;
}

int
epd_vk_context_find_memory_type (EpdVkContext          *self,
                                 guint32                type_bits,
                                 VkMemoryPropertyFlags  required,
                                 VkMemoryPropertyFlags  preferred)
{
  int found = -1;

  for (guint32 i = 0; i < self->memory.memoryTypeCount; i++)
    {
      VkMemoryPropertyFlags flags = self->memory.memoryTypes[i].propertyFlags;

      if (!(type_bits & (1u << i)) || (flags & required) != required)
        continue;
      if ((flags & preferred) == preferred)
        return (int) i;
      if (found < 0)
        found = (int) i;
    }
  return found;
}

gboolean
epd_vk_context_is_unified (EpdVkContext *self)
{
  return self->unified;
}

static void
record_barrier (EpdVkContext        *self,
                VkPipelineStageFlags dst_stage,
                VkAccessFlags        dst_access)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = dst_access,
  };

  self->vk.CmdPipelineBarrier (self->commands,
                               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                               dst_stage, 0, 1, &barrier, 0, NULL, 0, NULL);
}

static void
record_step (EpdVkContext    *self,
             const EpdVkStep *step)
{
  const EpdVkFuncs *vk = &self->vk;

  if (step->kernel == NULL)
    {
      VkBufferCopy region = { .srcOffset = step->src_offset, .dstOffset = step->dst_offset, .size = step->size };

      vk->CmdCopyBuffer (self->commands, epd_vk_buffer_get_handle (step->src),
                         epd_vk_buffer_get_handle (step->dst), 1, &region);
      return;
    }
  epd_vk_kernel_record (step->kernel, self->commands, step->push, step->push_size);
  vk->CmdDispatch (self->commands, step->groups[0], MAX (step->groups[1], 1), MAX (step->groups[2], 1));
}

/* Waits for the fence in slices; a cancelled wait leaves the submission
 * pending (it still runs on the device), to be waited for by the next call. */
static gboolean
wait_fence_locked (EpdVkContext  *self,
                   GCancellable  *cancellable,
                   GError       **error)
{
  const EpdVkFuncs *vk = &self->vk;

  for (;;)
    {
      VkResult res = vk->WaitForFences (self->device, 1, &self->fence, VK_TRUE, self->hang ? 0 : FENCE_SLICE_NS);

      if (res == VK_SUCCESS && !self->hang)
        {
          self->pending = FALSE;
          return TRUE;
        }
      if (res != VK_SUCCESS && res != VK_TIMEOUT)
        {
          /* A lost device stays lost: later calls fail at once. */
          self->lost = res == VK_ERROR_DEVICE_LOST;
          epd_vk_set_error (error, "vkWaitForFences", res);
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          self->pending = TRUE;
          return FALSE;
        }
      if (self->hang)
        g_usleep (FENCE_SLICE_NS / 1000);
    }
}

static gboolean
check_usable_locked (EpdVkContext  *self,
                     GCancellable  *cancellable,
                     GError       **error)
{
  if (self->lost)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_DEVICE, "the Vulkan device %s was lost", self->info.name);
      return FALSE;
    }
  if (self->pending && !wait_fence_locked (self, cancellable, error))
    return FALSE;
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
record_locked (EpdVkContext    *self,
               const EpdVkStep *steps,
               guint            n_steps,
               GError         **error)
{
  const EpdVkFuncs *vk = &self->vk;
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };

  EPD_VK_CHECK (ResetCommandBuffer, (self->commands, 0));
  EPD_VK_CHECK (BeginCommandBuffer, (self->commands, &begin));
  for (guint i = 0; i < n_steps; i++)
    {
      if (i > 0)
        record_barrier (self, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                        VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
      record_step (self, &steps[i]);
    }
  /* Results are read back through mapped memory after the fence. */
  record_barrier (self, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  EPD_VK_CHECK (EndCommandBuffer, (self->commands));
  EPD_VK_CHECK (ResetFences, (self->device, 1, &self->fence));
  return TRUE;

error:
  return FALSE;
}

static gboolean
submit_locked (EpdVkContext    *self,
               const EpdVkStep *steps,
               guint            n_steps,
               GCancellable    *cancellable,
               GError         **error)
{
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &self->commands,
  };
  VkResult res;

  if (!check_usable_locked (self, cancellable, error) || !record_locked (self, steps, n_steps, error))
    return FALSE;
  res = self->simulated != VK_SUCCESS ? self->simulated : self->vk.QueueSubmit (self->queue, 1, &submit, self->fence);
  self->simulated = VK_SUCCESS;
  if (res != VK_SUCCESS)
    {
      self->lost = res == VK_ERROR_DEVICE_LOST;
      epd_vk_set_error (error, "vkQueueSubmit", res);
      return FALSE;
    }
  return wait_fence_locked (self, cancellable, error);
}

gboolean
epd_vk_context_wait_pending (EpdVkContext  *self,
                             GCancellable  *cancellable,
                             GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), FALSE);
  g_mutex_lock (&self->submit_lock);
  ok = !self->pending || wait_fence_locked (self, cancellable, error);
  g_mutex_unlock (&self->submit_lock);
  return ok;
}

gboolean
epd_vk_context_submit (EpdVkContext    *self,
                       const EpdVkStep *steps,
                       guint            n_steps,
                       GCancellable    *cancellable,
                       GError         **error)
{
  gboolean ok;

  g_return_val_if_fail (EPD_IS_VK_CONTEXT (self), FALSE);
  g_mutex_lock (&self->submit_lock);
  ok = submit_locked (self, steps, n_steps, cancellable, error);
  g_mutex_unlock (&self->submit_lock);
  return ok;
}
