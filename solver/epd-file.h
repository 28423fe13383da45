/* SPDX-License-Identifier: MIT */
/* epd-file.h: reading input files with a size limit; writing files atomically. */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

/* Size limits of whole-file loaders: tables and JSON documents are small;
 * .npy and .npz arrays (latents, checkpoints) may be large but not unbounded. */
#define EPD_FILE_MAX_JSON   ((gsize) 64 << 20)   /* 64 MiB */
#define EPD_FILE_MAX_ARRAY  ((gsize) 1 << 30)    /* 1 GiB */

/* Succeeds only for a regular file (or a link to one): FIFOs, devices,
 * sockets and folders get an EPD_ERROR_IO that names what path is, without
 * opening it (opening a FIFO would block). For loaders that stream. */
gboolean   epd_file_check_regular (const char  *path,
                                   GError     **error);

/* g_file_get_contents() for input files: refuses what
 * epd_file_check_regular() refuses and files of more than max_bytes
 * (EPD_ERROR_IO), checking the size before reading and while reading.
 * contents is NUL-terminated; free it with g_free(). */
gboolean   epd_file_read_capped   (const char  *path,
                                   gsize        max_bytes,
                                   char       **contents,
                                   gsize       *length,
                                   GError     **error);

/* Every output file is written through here: data goes to a temporary file
 * beside path, reaches the disk, then replaces path in one rename, so a reader
 * (or a crash) sees the old file or the new one, never a part. length -1:
 * data is NUL-terminated. Errors (EPD_ERROR_IO) say "cannot write PATH: ...". */
gboolean   epd_file_write_atomic  (const char  *path,
                                   const void  *data,
                                   gssize       length,
                                   GError     **error);
/* An output path that an atomic write may replace (epd-file-output.c): absent
 * or a regular file, in a writable folder. Symbolic links, FIFOs, devices
 * and folders are refused. */
gboolean   epd_file_check_output  (const char  *path,
                                   GError     **error);
/* Whether two paths name the same file (the same inode when both exist). */
gboolean   epd_file_same          (const char  *a,
                                   const char  *b);

G_END_DECLS
