/* SPDX-License-Identifier: MIT
 * epd-json-check.c: what a JSON document must hold for epd to write it back.
 *
 * json-glib reads 1e999 as inf (written back as "inf.0", which no reader
 * takes) and octal escapes such as "\301" as bytes that are not UTF-8. Every
 * document epd reads is checked here, so that what epd reads it can write. */
#include "epd-json.h"

#include <math.h>

static gboolean
check_text (const char  *text,
            const char  *what,
            const char  *source,
            GError     **error)
{
  if (g_utf8_validate (text, -1, NULL))
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: a %s that is not valid UTF-8", source, what);
  return FALSE;
}

static gboolean
check_value (JsonNode    *node,
             const char  *source,
             GError     **error)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_STRING)
    return check_text (json_node_get_string (node), "string", source, error);
  if (type == G_TYPE_DOUBLE && !isfinite (json_node_get_double (node)))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: a number that is not finite (%g; JSON numbers must fit a double)",
                   source, json_node_get_double (node));
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_json_check_node (JsonNode    *node,
                     const char  *source,
                     GError     **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  JsonArray *array;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        if (!check_text (name, "member name", source, error) || !epd_json_check_node (member, source, error))
          return FALSE;
      return TRUE;
    case JSON_NODE_ARRAY:
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!epd_json_check_node (json_array_get_element (array, i), source, error))
          return FALSE;
      return TRUE;
    case JSON_NODE_VALUE:
      return check_value (node, source, error);
    case JSON_NODE_NULL:
    default:
      return TRUE;
    }
}
