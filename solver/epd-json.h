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
/* Atomic write (g_file_set_contents) of epd_json_to_data(). */
gboolean   epd_json_save    (JsonNode    *root,
                             const char  *path,
                             GError     **error);
/* Parses a file; errors (EPD_ERROR_IO, EPD_ERROR_PARSE) name the path. */
JsonNode  *epd_json_load    (const char  *path,
                             GError     **error);
JsonNode  *epd_json_parse   (const char  *data,
                             gsize        length,
                             const char  *source,
                             GError     **error);

/* A copy that shares nothing with object (json_node_copy() shares members). */
JsonObject *epd_json_object_deep_copy (JsonObject *object);
JsonNode   *epd_json_node_deep_copy   (JsonNode   *node);

G_END_DECLS
