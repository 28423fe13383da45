/* SPDX-License-Identifier: MIT */
/* epd-json.h: JSON files through json-glib, with exact doubles and atomic saves. */
#pragma once

#include <json-glib/json-glib.h>

#include "epd-types.h"

G_BEGIN_DECLS

/* json-glib's generator text, with its doubles made valid JSON: json-glib 1.6
 * appends ".0" to every double printed without a '.', which turns 1e-300 into
 * the invalid "1e-300.0". Doubles keep 17 significant digits, so values
 * round-trip bit-exactly through epd_json_load(). */
char      *epd_json_to_data (JsonNode    *root,
                             gboolean     pretty,
                             gsize       *length);
/* Atomic write (epd_file_write_atomic) of epd_json_to_data(). */
gboolean   epd_json_save    (JsonNode    *root,
                             const char  *path,
                             GError     **error);
/* json-glib's parser recurses once per nesting level, so a deep document
 * ("[[[[...") overflows the stack. Every JSON read goes through
 * epd_json_parse(), which refuses documents nested deeper than this, or
 * larger than EPD_FILE_MAX_JSON (epd-file.h), with EPD_ERROR_PARSE. */
#define EPD_JSON_MAX_DEPTH 64

/* Reads a regular file of at most EPD_FILE_MAX_JSON bytes (see
 * epd_file_read_capped()) and parses it; errors (EPD_ERROR_IO,
 * EPD_ERROR_PARSE) name the path. */
JsonNode  *epd_json_load    (const char  *path,
                             GError     **error);
/* source names the data in error messages. */
JsonNode  *epd_json_parse   (const char  *data,
                             gsize        length,
                             const char  *source,
                             GError     **error);

/* JSON has no NaN or infinity: numbers that are not finite are written as
 * null, and null reads back as NaN. */
void        epd_json_object_set_number (JsonObject *object,
                                        const char *name,
                                        double      value);
void        epd_json_array_add_number  (JsonArray  *array,
                                        double      value);
/* TRUE for a number (integer or double) or null (*value = NaN). */
gboolean    epd_json_node_get_number   (JsonNode   *node,
                                        double     *value);
/* Finite numbers and valid UTF-8 strings and member names only: what
 * epd_json_to_data() writes back as JSON. epd_json_parse() checks this. */
gboolean    epd_json_check_node       (JsonNode    *node,
                                       const char  *source,
                                       GError     **error);

/* A copy that shares nothing with object (json_node_copy() shares members). */
JsonObject *epd_json_object_deep_copy (JsonObject *object);
JsonNode   *epd_json_node_deep_copy   (JsonNode   *node);

G_END_DECLS
