/* SPDX-License-Identifier: MIT */
/* epd-json.c: JSON files through json-glib, with exact doubles and atomic saves. */
#include "epd-json.h"

#include <math.h>
#include <string.h>

#include "epd-file.h"

/* Removes the ".0" that json-glib appends after an exponent ("1e-300.0"),
 * outside strings, in place. */
static void
repair_exponents (char *text)
{
  gboolean in_string = FALSE;
  char *out = text;

  for (const char *p = text; *p; p++)
    {
      *out++ = *p;
      if (in_string)
        {
          if (*p == '\\' && p[1])
            *out++ = *++p;
          else if (*p == '"')
            in_string = FALSE;
          continue;
        }
      if (*p == '"')
        in_string = TRUE;
      else if ((*p == 'e' || *p == 'E') && p > text && (g_ascii_isdigit (p[-1]) || p[-1] == '.'))
        {
          const char *q = p + 1;

          if (*q == '+' || *q == '-')
            q++;
          while (g_ascii_isdigit (*q))
            q++;
          while (p + 1 < q)
            *out++ = *++p;
          if (q[0] == '.' && q[1] == '0' && !g_ascii_isdigit (q[2]))
            p += 2;
        }
    }
  *out = '\0';
}

char *
epd_json_to_data (JsonNode *root,
                  gboolean  pretty,
                  gsize    *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  char *text;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, pretty);
  text = json_generator_to_data (generator, NULL);
  repair_exponents (text);
  if (length != NULL)
    *length = strlen (text);
  return text;
}

gboolean
epd_json_save (JsonNode    *root,
               const char  *path,
               GError     **error)
{
  g_autofree char *text = NULL;
  gsize length;

  if (!epd_file_check_output (path, error))
    return FALSE;
  text = epd_json_to_data (root, TRUE, &length);
  if (!epd_file_write_atomic (path, text, length, error))
    return FALSE;
  return TRUE;
}

/* The deepest bracket nesting of data, stopping early past max. It skips what
 * json-glib's scanner skips: "strings" with backslash escapes, 'strings'
 * without, and C comments, so brackets hidden there by the scanner are
 * not counted and brackets it parses are. */
static guint
nesting_depth (const char *data,
               gsize       length,
               guint       max)
{
  guint depth = 0, deepest = 0;

  for (gsize i = 0; i < length && deepest <= max; i++)
    {
      const char *close;

      switch (data[i])
        {
        case '[':
        case '{':
          depth++;
          deepest = MAX (deepest, depth);
          break;
        case ']':
        case '}':
          depth -= depth > 0;
          break;
        case '"':
          for (i++; i < length && data[i] != '"'; i++)
            i += data[i] == '\\';
          break;
        case '\'':
          close = memchr (data + i + 1, '\'', length - i - 1);
          i = close ? (gsize) (close - data) : length;
          break;
        case '/':
          if (i + 1 < length && data[i + 1] == '*')
            {
              for (i += 2; i + 1 < length && !(data[i] == '*' && data[i + 1] == '/'); i++)
                ;
              i++;  /* onto the closing '/', or to the end */
            }
          break;
        default:
          break;
        }
    }
  return deepest;
}

JsonNode *
epd_json_parse (const char  *data,
                gsize        length,
                const char  *source,
                GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  JsonNode *root;

  if (length > EPD_FILE_MAX_JSON)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: JSON document larger than %" G_GSIZE_FORMAT " MiB",
                   source, EPD_FILE_MAX_JSON >> 20);
      return NULL;
    }
  if (nesting_depth (data, length, EPD_JSON_MAX_DEPTH) > EPD_JSON_MAX_DEPTH)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: JSON nested deeper than %d levels",
                   source, EPD_JSON_MAX_DEPTH);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, length, &local))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: not valid JSON: %s", source, local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: empty JSON document", source);
      return NULL;
    }
  if (!epd_json_check_node (root, source, error))
    return NULL;
  return json_node_ref (root);
}

JsonNode *
epd_json_load (const char  *path,
               GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!epd_file_read_capped (path, EPD_FILE_MAX_JSON, &contents, &length, error))
    return NULL;
  if (length == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: empty file", path);
      return NULL;
    }
  return epd_json_parse (contents, length, path, error);
}

JsonNode *
epd_json_node_deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = epd_json_object_deep_copy (json_node_get_object (node));

      copy = json_node_init_object (json_node_alloc (), object);
      json_object_unref (object);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      JsonArray *out = json_array_sized_new (json_array_get_length (array));

      for (guint i = 0; i < json_array_get_length (array); i++)
        json_array_add_element (out, epd_json_node_deep_copy (json_array_get_element (array, i)));
      copy = json_node_init_array (json_node_alloc (), out);
      json_array_unref (out);
    }
  else
    copy = json_node_copy (node);
  return copy;
}

JsonObject *
epd_json_object_deep_copy (JsonObject *object)
{
  JsonObject *copy = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    json_object_set_member (copy, name, epd_json_node_deep_copy (member));
  return copy;
}

void
epd_json_object_set_number (JsonObject *object,
                            const char *name,
                            double      value)
{
  if (isfinite (value))
    json_object_set_double_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

void
epd_json_array_add_number (JsonArray *array,
                           double     value)
{
  if (isfinite (value))
    json_array_add_double_element (array, value);
  else
    json_array_add_null_element (array);
}

gboolean
epd_json_node_get_number (JsonNode *node,
                          double   *value)
{
  GType type;

  if (JSON_NODE_HOLDS_NULL (node))
    {
      *value = NAN;
      return TRUE;
    }
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_double (node);
  return TRUE;
}
