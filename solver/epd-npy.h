/* SPDX-License-Identifier: MIT */
/* epd-npy.h: NumPy .npy arrays and .npz archives (stored or deflated members). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "epd-types.h"

G_BEGIN_DECLS

/* A float64 C-order array as read from or written to .npy; ndim 0 is a scalar. */
typedef struct
{
  guint   ndim;
  gsize   shape[4];
  double *data;    /* product(shape) doubles */
} EpdArray;

EpdArray  *epd_array_new        (guint           ndim,
                                 const gsize    *shape);
void       epd_array_free       (EpdArray       *self);
gsize      epd_array_size       (const EpdArray *self);

/* Accepts '<f8', '<f4', '<i8', '<i4', '|u1' and '|b1' (.npy versions 1-3);
 * always returns float64. Errors: EPD_ERROR_PARSE (malformed, truncated, or
 * data of another length than the header promises), EPD_ERROR_UNSUPPORTED
 * (other dtypes, Fortran order), EPD_ERROR_SHAPE (ndim > 4, or more than
 * EPD_FILE_MAX_ARRAY bytes as float64). Loading reads regular files of at
 * most EPD_FILE_MAX_ARRAY bytes (epd-file.h), others get EPD_ERROR_IO. */
EpdArray  *epd_npy_parse        (const guint8   *bytes,
                                 gsize           len,
                                 GError        **error);
GBytes    *epd_npy_serialize    (const EpdArray *array);
EpdArray  *epd_npy_load         (const char     *path,
                                 GError        **error);
gboolean   epd_npy_save         (const EpdArray *array,
                                 const char     *path,
                                 GError        **error);

/* Scalars (0-d or one-element arrays) of any supported dtype, including
 * strings ('<U'): as a JSON value node (int, double, boolean or string). */
JsonNode  *epd_npy_parse_scalar     (const guint8   *bytes,
                                     gsize           len,
                                     GError        **error);
/* value holds an int ('<i8'), a double ('<f8'), a boolean ('|b1') or a
 * string ('<U'); NULL for anything else. */
GBytes    *epd_npy_serialize_scalar (JsonNode       *value);

/* .npz: a zip of NAME.npy members, stored or deflated; CRC-32 checked;
 * members of at most EPD_FILE_MAX_ARRAY bytes in all once inflated, from
 * files of at most that size. Members is NAME (without ".npy") -> GBytes
 * (npy bytes). */
GHashTable *epd_npz_parse       (GBytes         *zip,
                                 GError        **error);
/* The same, refusing any member over max_member bytes uncompressed before
 * inflating it. */
GHashTable *epd_npz_parse_limited (GBytes       *zip,
                                   guint64       max_member,
                                   GError      **error);
/* Stored (uncompressed) members in name order; each under 4 GiB. */
GBytes     *epd_npz_serialize   (GHashTable     *members);
GHashTable *epd_npz_load        (const char     *path,
                                 GError        **error);
/* Atomic write (epd_file_write_atomic). */
gboolean    epd_npz_save        (GHashTable     *members,
                                 const char     *path,
                                 GError        **error);
/* Zip's CRC-32 (polynomial 0xEDB88320) of data, continuing from crc (start at 0). */
guint32     epd_crc32           (guint32         crc,
                                 const guint8   *data,
                                 gsize           len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdArray, epd_array_free)

G_END_DECLS
