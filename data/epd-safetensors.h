/* SPDX-License-Identifier: MIT
 * epd-safetensors.h: reading .safetensors files (F32, F16, BF16 -> float32).
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * (an object: tensor name -> {"dtype", "shape", "data_offsets": [begin, end]},
 * plus an optional "__metadata__" object of strings), then the data, offsets
 * relative to its start. Everything is checked before any tensor is read:
 * the header length (at most EPD_SAFETENSORS_MAX_HEADER, inside the file),
 * UTF-8 and JSON nesting depth, each entry's keys and types, known dtypes
 * (others are EPD_ERROR_UNSUPPORTED), shapes (at most 8 dimensions, no
 * overflow), element count x dtype size == end - begin, and the data ranges
 * sorted by offset cover the data exactly: no overlap, no hole, nothing after
 * the last one. Errors name the source and the tensor.
 * The object is immutable once built and may be shared between threads. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

#define EPD_SAFETENSORS_MAX_HEADER ((gsize) 16 << 20)   /* 16 MiB of JSON */
#define EPD_SAFETENSORS_MAX_DIMS   8

typedef enum {
  EPD_SAFETENSORS_F32,
  EPD_SAFETENSORS_F16,
  EPD_SAFETENSORS_BF16,
} EpdSafetensorsDtype;

typedef struct {
  const char          *name;
  EpdSafetensorsDtype  dtype;
  guint                ndim;
  gsize                shape[EPD_SAFETENSORS_MAX_DIMS];
  gsize                n_elements;
  gsize                begin;      /* byte offsets into the data */
  gsize                end;
} EpdSafetensorsEntry;

typedef struct _EpdSafetensors EpdSafetensors;

/* Maps path (GMappedFile; a regular file only) and checks its header. */
EpdSafetensors *epd_safetensors_open   (const char      *path,
                                        GError         **error);
/* The same over bytes in memory (the fuzzers' entry); takes a reference on
 * bytes. source names the data in messages. */
EpdSafetensors *epd_safetensors_parse  (GBytes          *bytes,
                                        const char      *source,
                                        GError         **error);
EpdSafetensors *epd_safetensors_ref    (EpdSafetensors  *self);
void            epd_safetensors_unref  (EpdSafetensors  *self);

/* Entries sorted by name (borrowed). */
const EpdSafetensorsEntry *epd_safetensors_get_entries (EpdSafetensors *self,
                                                        guint          *n);
/* NULL when there is no such tensor. */
const EpdSafetensorsEntry *epd_safetensors_lookup      (EpdSafetensors *self,
                                                        const char     *name);
/* Converts entry's data to float32 into dst[entry->n_elements]; refuses
 * NaN and infinities (EPD_ERROR_NUMERIC, naming the tensor). */
gboolean        epd_safetensors_read_float (EpdSafetensors            *self,
                                            const EpdSafetensorsEntry *entry,
                                            float                     *dst,
                                            GError                   **error);
const char     *epd_safetensors_get_source (EpdSafetensors *self);
const char     *epd_safetensors_dtype_to_string (EpdSafetensorsDtype dtype);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdSafetensors, epd_safetensors_unref)

G_END_DECLS
