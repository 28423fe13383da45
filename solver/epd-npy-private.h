/* SPDX-License-Identifier: MIT */
/* epd-npy-private.h: what the .npy and .npz code share. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends the size low bytes of v, little-endian (both formats are little-endian). */
void epd_bytes_append_le (GByteArray *out,
                          guint64     v,
                          guint       size);

G_END_DECLS
