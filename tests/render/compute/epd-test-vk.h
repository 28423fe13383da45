/* SPDX-License-Identifier: MIT
 *
 * epd-test-vk.h: what the machine's Vulkan devices are, so tests assert
 * against them rather than against one machine's (lavapipe in CI). */
#pragma once

#include "epd-vk-context.h"

G_BEGIN_DECLS

/* The name of the device selector ("auto", "vulkan", ...) picks on this
 * machine, or NULL where it picks none (g_free() it). */
char *epd_test_vk_device_name (const char *selector);

/* The Vulkan device the kernel tests run on (lavapipe in CI: they must run,
 * not skip); under EPD_VK_VALIDATION=1 it must have the validation layer. */
EpdVkContext *epd_test_vk_open_context       (void);
/* Prints every validation message the context collected and fails on any. */
void          epd_test_vk_assert_no_messages (EpdVkContext *context);

G_END_DECLS
