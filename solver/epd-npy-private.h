/* SPDX-License-Identifier: MIT */
/* epd-npy-private.h: what the .npy and .npz code share. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends the size low bytes of v, little-endian (both formats are little-endian). */
void epd_bytes_append_le (GByteArray *out,
                          guint64     v,
                          guint       size);

/* The ndim and shape ([4]) of an .npy's header, without reading its data:
 * lets a reader refuse a shape before converting (and allocating) it. */
gboolean epd_npy_peek_shape (const guint8  *bytes,
                             gsize          len,
                             guint         *ndim,
                             gsize         *shape,
                             GError       **error);

G_END_DECLS
