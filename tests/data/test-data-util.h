/* SPDX-License-Identifier: MIT */
/* test-data-util.h: small idx files written by the data tests themselves. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An idx file of unsigned bytes: magic 00 00 08 ndims, big-endian dims, data.
 * gzip TRUE compresses it with GZlibCompressor (gzip format). Asserts on failure. */
void   test_write_idx (const char   *path,
                       const guint8 *data,
                       const guint32 *dims,
                       guint         ndims,
                       gboolean      gzip);
/* Writes bytes as they are. */
void   test_write_raw (const char   *path,
                       const guint8 *data,
                       gsize         size);
/* The idx bytes (header + data) before compression. */
GBytes *test_idx_bytes (const guint8  *data,
                        const guint32 *dims,
                        guint          ndims);
/* gzip of bytes. */
GBytes *test_gzip      (GBytes *bytes);
/* Fashion-MNIST-like train and t10k files of n side x side images in dir;
 * pixel (i, j) = (7 i + 3 j) mod 256, label i = labels[i]. */
void   test_write_fashion_dir (const char   *dir,
                               const guint8 *labels,
                               guint32       n,
                               guint32       side);
/* A width x height PNG of one colour. */
void   test_write_png_solid (const char *path,
                             int         width,
                             int         height,
                             double      r,
                             double      g,
                             double      b);
G_END_DECLS
