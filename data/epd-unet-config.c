/* SPDX-License-Identifier: MIT
 * epd-unet-config.c: diffusers' UNet2DModel and scheduler configs. */
#include "epd-unet-config.h"

#include <math.h>
#include <string.h>

#include "epd-json.h"
#include "epd-unet.h"

/* ---- JSON values ----------------------------------------------------------- */

/* The value as short text for messages ("null", "\"gelu\"", "[1, 2]"). */
static char *
value_text (JsonNode *node)
{
  g_autofree char *text = epd_json_to_data (node, FALSE, NULL);

  if (strlen (text) > 60)
    return g_strdup_printf ("%.57s...", text);
  return g_steal_pointer (&text);
}

static gboolean
set_unsupported (const char  *source,
                 const char  *key,
                 JsonNode    *node,
                 const char  *expected,
                 GError     **error)
{
  g_autofree char *text = value_text (node);

  g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "%s: \"%s\": %s is not supported (expected %s)",
               source, key, text, expected);
  return FALSE;
}

static gboolean
is_null (JsonNode *node)
{
  return JSON_NODE_HOLDS_NULL (node);
}

static gboolean
node_string (JsonNode    *node,
             const char **value)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
node_uint (JsonNode *node,
           guint     min,
           guint     max,
           guint    *value)
{
  gint64 v;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < min || v > max)
    return FALSE;
  *value = (guint) v;
  return TRUE;
}

static gboolean
node_double (JsonNode *node,
             double   *value)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *value = json_node_get_double (node);
  return isfinite (*value);
}

static gboolean
node_bool (JsonNode *node,
           gboolean *value)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;
  *value = json_node_get_boolean (node);
  return TRUE;
}

/* ---- config.json ---------------------------------------------------------- */

typedef struct {
  const char    *source;
  EpdUnetConfig *config;
  guint          n_down, n_up, n_channels;
  guint          time_embedding_dim;  /* 0: null */
} ConfigParse;

static gboolean
parse_block_types (JsonNode   *node,
                   const char *plain,
                   const char *attention,
                   gboolean   *flags,
                   guint      *n)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  if (array == NULL || json_array_get_length (array) == 0 || json_array_get_length (array) > EPD_UNET_MAX_BLOCKS)
    return FALSE;
  *n = json_array_get_length (array);
  for (guint i = 0; i < *n; i++)
    {
      const char *type;

      if (!node_string (json_array_get_element (array, i), &type) ||
          (!g_str_equal (type, plain) && !g_str_equal (type, attention)))
        return FALSE;
      flags[i] = g_str_equal (type, attention);
    }
  return TRUE;
}

static gboolean
parse_channels (ConfigParse *p,
                JsonNode    *node)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  if (array == NULL || json_array_get_length (array) == 0 || json_array_get_length (array) > EPD_UNET_MAX_BLOCKS)
    return FALSE;
  p->n_channels = json_array_get_length (array);
  for (guint i = 0; i < p->n_channels; i++)
    if (!node_uint (json_array_get_element (array, i), 1, 4096, &p->config->block_out_channels[i]))
      return FALSE;
  return TRUE;
}

/* One config key: FALSE with what was expected when its value is not accepted. */
static gboolean
parse_key (ConfigParse  *p,
           const char   *key,
           JsonNode     *node,
           const char  **expected)
{
  EpdUnetConfig *c = p->config;
  const char *s = NULL;
  double d;

#define KEY(name, what) (g_str_equal (key, name) && (*expected = (what)))
  if (KEY ("_class_name", "\"UNet2DModel\""))
    return node_string (node, &s) && g_str_equal (s, "UNet2DModel");
  if (KEY ("sample_size", "an integer from 1 to 1024, or [n, n]"))
    {
      JsonArray *a = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
      guint h, w;

      if (a != NULL)
        return json_array_get_length (a) == 2 &&
               node_uint (json_array_get_element (a, 0), 1, EPD_UNET_MAX_SIDE, &h) &&
               node_uint (json_array_get_element (a, 1), 1, EPD_UNET_MAX_SIDE, &w) &&
               h == w && (c->sample_size = h);
      return node_uint (node, 1, EPD_UNET_MAX_SIDE, &c->sample_size);
    }
  if (KEY ("in_channels", "1 or 3"))
    return node_uint (node, 1, 3, &c->in_channels) && c->in_channels != 2;
  if (KEY ("out_channels", "1 or 3"))
    return node_uint (node, 1, 3, &c->out_channels) && c->out_channels != 2;
  if (KEY ("center_input_sample", "true or false"))
    return node_bool (node, &c->center_input_sample);
  if (KEY ("time_embedding_type", "\"positional\""))
    return node_string (node, &s) && g_str_equal (s, "positional");
  if (KEY ("time_embedding_dim", "null or a positive integer"))
    return is_null (node) || node_uint (node, 1, 16384, &p->time_embedding_dim);
  if (KEY ("freq_shift", "a number"))
    return node_double (node, &c->freq_shift);
  if (KEY ("flip_sin_to_cos", "true or false"))
    return node_bool (node, &c->flip_sin_to_cos);
  if (KEY ("down_block_types", "a list of \"DownBlock2D\" and \"AttnDownBlock2D\""))
    return parse_block_types (node, "DownBlock2D", "AttnDownBlock2D", c->down_attention, &p->n_down);
  if (KEY ("up_block_types", "a list of \"UpBlock2D\" and \"AttnUpBlock2D\""))
    return parse_block_types (node, "UpBlock2D", "AttnUpBlock2D", c->up_attention, &p->n_up);
  if (KEY ("mid_block_type", "\"UNetMidBlock2D\""))
    return node_string (node, &s) && g_str_equal (s, "UNetMidBlock2D");
  if (KEY ("block_out_channels", "a list of 1 to 8 channel counts from 1 to 4096"))
    return parse_channels (p, node);
  if (KEY ("layers_per_block", "an integer from 1 to 16"))
    return node_uint (node, 1, 16, &c->layers_per_block);
  if (KEY ("mid_block_scale_factor", "a positive number"))
    return node_double (node, &c->mid_block_scale_factor) && c->mid_block_scale_factor > 0.0;
  if (KEY ("downsample_padding", "0, 1 or 2"))
    return node_uint (node, 0, 2, &c->downsample_padding);
  if (KEY ("downsample_type", "\"conv\""))
    return node_string (node, &s) && g_str_equal (s, "conv");
  if (KEY ("upsample_type", "\"conv\""))
    return node_string (node, &s) && g_str_equal (s, "conv");
  if (KEY ("dropout", "a number in [0, 1)"))
    return node_double (node, &d) && d >= 0.0 && d < 1.0;
  if (KEY ("act_fn", "\"silu\" or \"swish\""))
    return node_string (node, &s) && (g_str_equal (s, "silu") || g_str_equal (s, "swish"));
  if (KEY ("attention_head_dim", "null or a positive integer"))
    return (is_null (node) && !(c->attention_head_dim = 0)) || node_uint (node, 1, 4096, &c->attention_head_dim);
  if (KEY ("norm_num_groups", "a positive integer"))
    return node_uint (node, 1, 4096, &c->norm_num_groups);
  if (KEY ("attn_norm_num_groups", "null or a positive integer"))
    return is_null (node) || node_uint (node, 1, 4096, &c->attn_norm_num_groups);
  if (KEY ("norm_eps", "a positive number"))
    return node_double (node, &c->norm_eps) && c->norm_eps > 0.0;
  if (KEY ("resnet_time_scale_shift", "\"default\" or \"scale_shift\""))
    return node_string (node, &s) && (g_str_equal (s, "default") || g_str_equal (s, "scale_shift")) &&
           ((c->scale_shift = g_str_equal (s, "scale_shift")) || TRUE);
  if (KEY ("add_attention", "true or false"))
    return node_bool (node, &c->add_attention);
  if (KEY ("class_embed_type", "null (no class conditioning)"))
    return is_null (node);
  if (KEY ("num_class_embeds", "null (no class conditioning)"))
    return is_null (node);
  if (KEY ("num_train_timesteps", "null or a positive integer"))
    {
      guint n;

      return is_null (node) || node_uint (node, 1, 1000000, &n);
    }
#undef KEY
  *expected = NULL;
  return FALSE;
}

static gboolean
check_config (ConfigParse  *p,
              GError      **error)
{
  EpdUnetConfig *c = p->config;

  if (p->n_down == 0 || p->n_up == 0 || p->n_channels == 0 || c->sample_size == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: \"%s\" is missing", p->source,
                   p->n_down == 0 ? "down_block_types" : p->n_up == 0 ? "up_block_types"
                   : p->n_channels == 0 ? "block_out_channels" : "sample_size");
      return FALSE;
    }
  if (p->n_down != p->n_channels || p->n_up != p->n_channels)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE,
                   "%s: down_block_types (%u), up_block_types (%u) and block_out_channels (%u) differ in length",
                   p->source, p->n_down, p->n_up, p->n_channels);
      return FALSE;
    }
  c->n_blocks = p->n_channels;
  if (c->out_channels != c->in_channels)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "%s: \"out_channels\": %u differs from in_channels %u (a denoiser maps images to images)",
                   p->source, c->out_channels, c->in_channels);
      return FALSE;
    }
  if (c->sample_size % (1u << (c->n_blocks - 1)) != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "%s: \"sample_size\": %u is not divisible by 2^%u (the UNet's down- and upsampling would not meet)",
                   p->source, c->sample_size, c->n_blocks - 1);
      return FALSE;
    }
  c->time_embed_dim = p->time_embedding_dim ? p->time_embedding_dim : 4 * c->block_out_channels[0];
  return TRUE;
}

static void
config_defaults (EpdUnetConfig *c)
{
  /* diffusers' UNet2DModel defaults (its block lists and channels have
   * defaults too, but a config without them is refused rather than guessed). */
  memset (c, 0, sizeof *c);
  c->in_channels = c->out_channels = 3;
  c->flip_sin_to_cos = TRUE;
  c->layers_per_block = 2;
  c->mid_block_scale_factor = 1.0;
  c->downsample_padding = 1;
  c->attention_head_dim = 8;
  c->norm_num_groups = 32;
  c->norm_eps = 1e-5;
  c->add_attention = TRUE;
}

static gboolean
parse_config_object (ConfigParse  *p,
                     JsonObject   *object,
                     GError      **error)
{
  g_autoptr(GList) members = json_object_get_members (object);
  gboolean has_class = FALSE;

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data, *expected = NULL;
      JsonNode *node = json_object_get_member (object, key);

      has_class |= g_str_equal (key, "_class_name");
      if (parse_key (p, key, node, &expected))
        continue;
      if (expected != NULL)
        return set_unsupported (p->source, key, node, expected, error);
      if (key[0] == '_')  /* _diffusers_version, _name_or_path: provenance only */
        continue;
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "%s: unknown UNet2DModel config key \"%s\"",
                   p->source, key);
      return FALSE;
    }
  if (!has_class)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: no \"_class_name\" (expected \"UNet2DModel\")",
                   p->source);
      return FALSE;
    }
  return check_config (p, error);
}

gboolean
epd_unet_config_parse (const char     *data,
                       gsize           length,
                       const char     *source,
                       EpdUnetConfig  *config,
                       GError        **error)
{
  g_autoptr(JsonNode) root = NULL;
  ConfigParse p = { .source = source, .config = config };

  config_defaults (config);
  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: not UTF-8 text", source);
      return FALSE;
    }
  root = epd_json_parse (data, length, source, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: not a JSON object", source);
      return FALSE;
    }
  return parse_config_object (&p, json_node_get_object (root), error);
}

/* ---- scheduler_config.json ----------------------------------------------- */

static gboolean
parse_scheduler_key (EpdUnetScheduler  *s,
                     const char        *key,
                     JsonNode          *node,
                     const char       **expected)
{
  const char *text = NULL;
  gboolean flag;

#define KEY(name, what) (g_str_equal (key, name) && (*expected = (what)))
  if (KEY ("num_train_timesteps", "an integer from 2 to 100000"))
    return node_uint (node, 2, 100000, &s->num_train_timesteps);
  if (KEY ("beta_start", "a number in (0, 1)"))
    return node_double (node, &s->beta_start) && s->beta_start > 0.0 && s->beta_start < 1.0;
  if (KEY ("beta_end", "a number in (0, 1)"))
    return node_double (node, &s->beta_end) && s->beta_end > 0.0 && s->beta_end < 1.0;
  if (KEY ("beta_schedule", "\"linear\", \"scaled_linear\" or \"squaredcos_cap_v2\""))
    {
      if (!node_string (node, &text))
        return FALSE;
      s->beta_schedule = g_str_equal (text, "linear") ? EPD_UNET_BETAS_LINEAR
                         : g_str_equal (text, "scaled_linear") ? EPD_UNET_BETAS_SCALED_LINEAR
                         : EPD_UNET_BETAS_SQUAREDCOS_CAP_V2;
      return g_str_equal (text, "linear") || g_str_equal (text, "scaled_linear") ||
             g_str_equal (text, "squaredcos_cap_v2");
    }
  if (KEY ("prediction_type", "\"epsilon\", \"v_prediction\" or \"sample\""))
    {
      if (!node_string (node, &text))
        return FALSE;
      s->prediction_type = g_str_equal (text, "epsilon") ? EPD_UNET_PREDICT_EPSILON
                           : g_str_equal (text, "v_prediction") ? EPD_UNET_PREDICT_V
                           : EPD_UNET_PREDICT_SAMPLE;
      return g_str_equal (text, "epsilon") || g_str_equal (text, "v_prediction") || g_str_equal (text, "sample");
    }
  if (KEY ("trained_betas", "null (explicit betas are not read)"))
    return is_null (node);
  if (KEY ("rescale_betas_zero_snr", "false (a zero-SNR end has an infinite sigma)"))
    return node_bool (node, &flag) && !flag;
#undef KEY
  *expected = NULL;
  return TRUE;  /* sampler settings (clip_sample, timestep_spacing, ...) do not change D */
}

gboolean
epd_unet_scheduler_parse (const char        *data,
                          gsize              length,
                          const char        *source,
                          EpdUnetScheduler  *s,
                          GError           **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  *s = (EpdUnetScheduler) { 1000, 0.0001, 0.02, EPD_UNET_BETAS_LINEAR, EPD_UNET_PREDICT_EPSILON };
  if (data == NULL)
    return TRUE;
  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: not UTF-8 text", source);
      return FALSE;
    }
  root = epd_json_parse (data, length, source, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: not a JSON object", source);
      return FALSE;
    }
  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *expected = NULL;
      JsonNode *node = json_object_get_member (object, l->data);

      if (!parse_scheduler_key (s, l->data, node, &expected))
        return set_unsupported (source, l->data, node, expected, error);
    }
  if (s->beta_schedule != EPD_UNET_BETAS_SQUAREDCOS_CAP_V2 && !(s->beta_end >= s->beta_start))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED, "%s: \"beta_end\" %g is below beta_start %g",
                   source, s->beta_end, s->beta_start);
      return FALSE;
    }
  return TRUE;
}

/* GLIDE's cosine alpha-bar. */
static double
cosine_alpha_bar (double t)
{
  double c = cos ((t + 0.008) / 1.008 * G_PI / 2.0);

  return c * c;
}

double *
epd_unet_scheduler_alphas_cumprod (const EpdUnetScheduler *s)
{
  guint n = s->num_train_timesteps;
  double *abar = g_new (double, n), prod = 1.0;

  for (guint i = 0; i < n; i++)
    {
      double f = (double) i / (n - 1), beta;

      switch (s->beta_schedule)
        {
        case EPD_UNET_BETAS_SCALED_LINEAR:
          beta = sqrt (s->beta_start) + f * (sqrt (s->beta_end) - sqrt (s->beta_start));
          beta *= beta;
          break;
        case EPD_UNET_BETAS_SQUAREDCOS_CAP_V2:
          beta = MIN (1.0 - cosine_alpha_bar ((i + 1.0) / n) / cosine_alpha_bar ((double) i / n), 0.999);
          break;
        case EPD_UNET_BETAS_LINEAR:
        default:
          beta = s->beta_start + f * (s->beta_end - s->beta_start);
          break;
        }
      prod *= 1.0 - beta;
      abar[i] = prod;
    }
  return abar;
}
