/* SPDX-License-Identifier: MIT */
/* epd-vk-kernel.h: a compute pipeline from embedded SPIR-V.
 *
 * A kernel is one shader of the render GResource, its pipeline (through the
 * context's pipeline cache), a layout of n_bindings storage buffers plus
 * push_size bytes of push constants, and its descriptor set. */
#pragma once

#include "epd-vk-buffer.h"

G_BEGIN_DECLS

/* name: a shader of render/compute/shaders without its extension, e.g. "gmm-denoise". */
EpdVkKernel *epd_vk_kernel_new  (EpdVkContext  *context,
                                 const char    *name,
                                 guint          n_bindings,
                                 guint          push_size,
                                 GError       **error);
void         epd_vk_kernel_free (EpdVkKernel   *self);
/* Points binding at the whole buffer. Only between submissions. */
void         epd_vk_kernel_bind (EpdVkKernel   *self,
                                 guint          binding,
                                 EpdVkBuffer   *buffer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdVkKernel, epd_vk_kernel_free)

G_END_DECLS
