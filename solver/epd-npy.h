/* epd-npy.h: NumPy .npy arrays and .npz archives (stored or deflated members). */
#pragma once

#include <gio/gio.h>

#include "epd-types.h"

G_BEGIN_DECLS

/* A float64 C-order array as read from or written to .npy. */
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

/* Accepts '<f8', '<f4', '<i8', '<i4' and bool; always returns float64. */
EpdArray  *epd_npy_parse        (const guint8   *bytes,
                                 gsize           len,
                                 GError        **error);
GBytes    *epd_npy_serialize    (const EpdArray *array);
EpdArray  *epd_npy_load         (const char     *path,
                                 GError        **error);
gboolean   epd_npy_save         (const EpdArray *array,
                                 const char     *path,
                                 GError        **error);

/* .npz: a zip of NAME.npy members. Members is name -> GBytes (npy bytes). */
GHashTable *epd_npz_parse       (GBytes         *zip,
                                 GError        **error);
GBytes     *epd_npz_serialize   (GHashTable     *members);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdArray, epd_array_free)

G_END_DECLS
