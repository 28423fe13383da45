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

G_END_DECLS
