/* SPDX-License-Identifier: MIT
 * test-unet-errors.c: malformed safetensors files, configs and checkpoints
 * are refused with errors that name the problem; F16/BF16 conversion. */
#include "epd-safetensors.h"
#include "epd-unet.h"
#include "epd-unet-config.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- safetensors from bytes ---------------------------------------------------- */

/* 8-byte length, header, then data_len bytes of data (value 0x3c: F16 1.0 pairs). */
static GBytes *
st_bytes (const char *header,
          gsize       data_len)
{
  gsize n = strlen (header);
  GByteArray *a = g_byte_array_new ();
  guint8 len[8];

  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) n >> (8 * i));
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, n);
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 b = i % 2 ? 0x3c : 0x00;

      g_byte_array_append (a, &b, 1);
    }
  return g_byte_array_free_to_bytes (a);
}

static void
expect_st_error (GBytes     *bytes,
                 int         code,
                 const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdSafetensors) st = epd_safetensors_parse (bytes, "test.safetensors", &error);

  g_assert_null (st);
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, "test.safetensors"));
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
expect_header_error (const char *header,
                     gsize       data_len,
                     int         code,
                     const char *fragment)
{
  g_autoptr(GBytes) bytes = st_bytes (header, data_len);

  expect_st_error (bytes, code, fragment);
}

static void
test_safetensors_valid (void)
{
  /* F16: 1, -2, 65504, the smallest subnormal; BF16: 1, -0.5; F32: 3.25 */
  static const guint8 data[] = {
    0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00,
    0x80, 0x3f, 0x00, 0xbf,
    0x00, 0x00, 0x50, 0x40,
  };
  const char *header =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
    "\"a\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
    "\"c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]}}";
  g_autoptr(GByteArray) a = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(EpdSafetensors) st = NULL;
  g_autoptr(GError) error = NULL;
  guint8 len[8] = { 0 };
  float f16[4], bf16[2], f32[1];
  guint n;

  len[0] = (guint8) strlen (header);
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, strlen (header));
  g_byte_array_append (a, data, sizeof data);
  bytes = g_bytes_new (a->data, a->len);
  st = epd_safetensors_parse (bytes, "test.safetensors", &error);
  g_assert_no_error (error);
  epd_safetensors_get_entries (st, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_true (epd_safetensors_read_float (st, epd_safetensors_lookup (st, "a"), f16, &error));
  g_assert_cmpfloat (f16[0], ==, 1.0f);
  g_assert_cmpfloat (f16[1], ==, -2.0f);
  g_assert_cmpfloat (f16[2], ==, 65504.0f);
  g_assert_cmpfloat (f16[3], ==, 5.9604644775390625e-08f);
  g_assert_true (epd_safetensors_read_float (st, epd_safetensors_lookup (st, "b"), bf16, &error));
  g_assert_cmpfloat (bf16[0], ==, 1.0f);
  g_assert_cmpfloat (bf16[1], ==, -0.5f);
  g_assert_true (epd_safetensors_read_float (st, epd_safetensors_lookup (st, "c"), f32, &error));
  g_assert_cmpfloat (f32[0], ==, 3.25f);
  g_assert_cmpuint (epd_safetensors_lookup (st, "c")->ndim, ==, 0);
  g_assert_null (epd_safetensors_lookup (st, "d"));
}

static void
test_safetensors_nan (void)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(EpdSafetensors) st = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 nan_f16[] = { 0x00, 0x7e };
  const char *header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
  g_autoptr(GByteArray) a = g_byte_array_new ();
  guint8 len[8] = { 0 };
  float v;

  len[0] = (guint8) strlen (header);
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, strlen (header));
  g_byte_array_append (a, nan_f16, 2);
  bytes = g_bytes_new (a->data, a->len);
  st = epd_safetensors_parse (bytes, "test.safetensors", &error);
  g_assert_no_error (error);
  g_assert_false (epd_safetensors_read_float (st, epd_safetensors_lookup (st, "w"), &v, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "'w'"));
}

static void
test_safetensors_malformed (void)
{
  g_autoptr(GBytes) short_file = g_bytes_new ("\x10\0\0", 3);
  guint8 huge[16] = { 0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}' };
  g_autoptr(GBytes) huge_header = g_bytes_new (huge, sizeof huge);
  g_autoptr(GString) deep = g_string_new ("{\"a\":");
  const char *ok = "\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":";

  expect_st_error (short_file, EPD_ERROR_PARSE, "too short");
  expect_st_error (huge_header, EPD_ERROR_PARSE, "larger than the 16 MiB");
  {
    /* a header length that runs past the end of the file: truncated */
    g_autoptr(GBytes) full = st_bytes ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (full, 0, 20);

    expect_st_error (cut, EPD_ERROR_PARSE, "past the end of the file");
  }
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 2,
                       EPD_ERROR_PARSE, "outside");  /* truncated data */
  expect_header_error ("{\"w\xff\":{}}", 0, EPD_ERROR_PARSE, "not UTF-8");
  expect_header_error ("[1, 2]", 0, EPD_ERROR_PARSE, "starting with '{'");
  expect_header_error ("{\"w\": ", 0, EPD_ERROR_PARSE, "not valid JSON");
  for (int i = 0; i < 100; i++)
    g_string_append (deep, "[");
  expect_header_error (deep->str, 0, EPD_ERROR_PARSE, "nested deeper");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2]}}", 4, EPD_ERROR_PARSE, "'w'");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4],\"x\":1}}", 4,
                       EPD_ERROR_PARSE, "exactly");
  expect_header_error ("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                       EPD_ERROR_UNSUPPORTED, "'Q7' is unknown");
  expect_header_error ("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
                       EPD_ERROR_UNSUPPORTED, "'I64' is not supported");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 4,
                       EPD_ERROR_PARSE, "shape[0]");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
                       EPD_ERROR_PARSE, "shape[0]");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296,4294967296],"
                       "\"data_offsets\":[0,4]}}", 4, EPD_ERROR_SHAPE, "too large");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,4]}}", 4,
                       EPD_ERROR_PARSE, "need 6 bytes");
  expect_header_error ("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,0]}}", 4,
                       EPD_ERROR_PARSE, "end before they begin");
  {
    g_autofree char *overlap = g_strdup_printf ("{\"a\":{%s[0,4]},\"b\":{%s[2,6]}}", ok, ok);
    g_autofree char *hole = g_strdup_printf ("{\"a\":{%s[0,4]},\"b\":{%s[6,10]}}", ok, ok);
    g_autofree char *tail = g_strdup_printf ("{\"a\":{%s[0,4]}}", ok);

    expect_header_error (overlap, 6, EPD_ERROR_PARSE, "overlapping");
    expect_header_error (hole, 10, EPD_ERROR_PARSE, "hole");
    expect_header_error (tail, 6, EPD_ERROR_PARSE, "after the last tensor");
  }
  expect_header_error ("{\"__metadata__\":{\"a\":1}}", 0, EPD_ERROR_PARSE, "__metadata__");
  expect_header_error ("{\"\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                       EPD_ERROR_PARSE, "empty name");
}

/* ---- configs from bytes -------------------------------------------------------- */

#define GOOD_CONFIG \
  "{\"_class_name\": \"UNet2DModel\", \"_diffusers_version\": \"0.30.0\", \"sample_size\": 8, " \
  "\"in_channels\": 1, \"out_channels\": 1, \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], " \
  "\"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"block_out_channels\": [8, 16], " \
  "\"layers_per_block\": 1, \"attention_head_dim\": null, \"norm_num_groups\": 4 %s}"

static void
expect_config_error (const char *extra,
                     int         code,
                     const char *fragment)
{
  g_autofree char *text = g_strdup_printf (GOOD_CONFIG, extra);
  g_autoptr(GError) error = NULL;
  EpdUnetConfig config;

  g_assert_false (epd_unet_config_parse (text, strlen (text), "config.json", &config, &error));
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, "config.json"));
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_config (void)
{
  g_autofree char *text = g_strdup_printf (GOOD_CONFIG, ", \"resnet_time_scale_shift\": \"scale_shift\"");
  g_autoptr(GError) error = NULL;
  EpdUnetConfig c;

  g_assert_true (epd_unet_config_parse (text, strlen (text), "config.json", &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.n_blocks, ==, 2);
  g_assert_cmpuint (c.attention_head_dim, ==, 0);
  g_assert_cmpuint (c.time_embed_dim, ==, 32);
  g_assert_true (c.scale_shift);
  g_assert_true (c.up_attention[0] && !c.up_attention[1] && !c.down_attention[0] && c.down_attention[1]);
  g_assert_cmpfloat (c.norm_eps, ==, 1e-5);

  expect_config_error (", \"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"]",
                       EPD_ERROR_UNSUPPORTED, "\"down_block_types\": [\"CrossAttnDownBlock2D\"");
  expect_config_error (", \"mid_block_type\": \"UNetMidBlock2DCrossAttn\"", EPD_ERROR_UNSUPPORTED,
                       "\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"");
  expect_config_error (", \"act_fn\": \"gelu\"", EPD_ERROR_UNSUPPORTED, "\"act_fn\": \"gelu\"");
  expect_config_error (", \"class_embed_type\": \"timestep\"", EPD_ERROR_UNSUPPORTED, "\"class_embed_type\"");
  expect_config_error (", \"num_class_embeds\": 10", EPD_ERROR_UNSUPPORTED, "\"num_class_embeds\": 10");
  expect_config_error (", \"time_embedding_type\": \"fourier\"", EPD_ERROR_UNSUPPORTED, "fourier");
  expect_config_error (", \"resnet_time_scale_shift\": \"spatial\"", EPD_ERROR_UNSUPPORTED, "spatial");
  expect_config_error (", \"downsample_type\": \"resnet\"", EPD_ERROR_UNSUPPORTED, "\"downsample_type\"");
  expect_config_error (", \"in_channels\": 4, \"out_channels\": 4", EPD_ERROR_UNSUPPORTED, "\"in_channels\": 4");
  expect_config_error (", \"out_channels\": 3", EPD_ERROR_UNSUPPORTED, "out_channels");
  expect_config_error (", \"sample_size\": [8, 16]", EPD_ERROR_UNSUPPORTED, "\"sample_size\"");
  expect_config_error (", \"sample_size\": 7", EPD_ERROR_UNSUPPORTED, "not divisible");
  expect_config_error (", \"block_out_channels\": [8, 16, 16]", EPD_ERROR_PARSE, "differ in length");
  expect_config_error (", \"some_new_option\": true", EPD_ERROR_UNSUPPORTED, "\"some_new_option\"");
  expect_config_error (", \"norm_eps\": -1", EPD_ERROR_UNSUPPORTED, "\"norm_eps\"");
  expect_config_error (", \"layers_per_block\": \"2\"", EPD_ERROR_UNSUPPORTED, "\"layers_per_block\"");
  expect_config_error (", \"_class_name\": \"UNet2DConditionModel\"", EPD_ERROR_UNSUPPORTED,
                       "UNet2DConditionModel");
  {
    const char *no_size = "{\"_class_name\": \"UNet2DModel\", \"down_block_types\": [\"DownBlock2D\"], "
                          "\"up_block_types\": [\"UpBlock2D\"], \"block_out_channels\": [8]}";
    const char *bad_utf8 = "{\"_class_name\": \"UNet2DModel\xff\"}";

    g_assert_false (epd_unet_config_parse (no_size, strlen (no_size), "config.json", &c, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "\"sample_size\" is missing"));
    g_clear_error (&error);
    g_assert_false (epd_unet_config_parse (bad_utf8, strlen (bad_utf8), "config.json", &c, &error));
    g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "UTF-8"));
  }
}

static void
expect_scheduler_error (const char *text,
                        const char *fragment)
{
  g_autoptr(GError) error = NULL;
  EpdUnetScheduler s;

  g_assert_false (epd_unet_scheduler_parse (text, strlen (text), "scheduler_config.json", &s, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_scheduler (void)
{
  const char *good = "{\"_class_name\": \"DDIMScheduler\", \"beta_schedule\": \"scaled_linear\", "
                     "\"beta_start\": 0.00085, \"beta_end\": 0.012, \"prediction_type\": \"v_prediction\", "
                     "\"clip_sample\": false, \"timestep_spacing\": \"leading\", \"num_train_timesteps\": 500}";
  g_autoptr(GError) error = NULL;
  g_autofree double *abar = NULL;
  EpdUnetScheduler s;

  g_assert_true (epd_unet_scheduler_parse (NULL, 0, NULL, &s, &error));
  g_assert_cmpuint (s.num_train_timesteps, ==, 1000);
  g_assert_cmpfloat (s.beta_start, ==, 0.0001);
  g_assert_cmpfloat (s.beta_end, ==, 0.02);
  g_assert_cmpint (s.beta_schedule, ==, EPD_UNET_BETAS_LINEAR);
  g_assert_cmpint (s.prediction_type, ==, EPD_UNET_PREDICT_EPSILON);
  abar = epd_unet_scheduler_alphas_cumprod (&s);
  g_assert_cmpfloat_with_epsilon (abar[0], 1.0 - 0.0001, 1e-15);
  g_assert_cmpfloat_with_epsilon (abar[1], (1.0 - 0.0001) * (1.0 - (0.0001 + 0.0199 / 999)), 1e-15);
  g_assert_true (epd_unet_scheduler_parse (good, strlen (good), "s.json", &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.num_train_timesteps, ==, 500);
  g_assert_cmpint (s.beta_schedule, ==, EPD_UNET_BETAS_SCALED_LINEAR);
  g_assert_cmpint (s.prediction_type, ==, EPD_UNET_PREDICT_V);
  expect_scheduler_error ("{\"beta_schedule\": \"sigmoid\"}", "\"beta_schedule\": \"sigmoid\"");
  expect_scheduler_error ("{\"prediction_type\": \"x0\"}", "\"prediction_type\": \"x0\"");
  expect_scheduler_error ("{\"trained_betas\": [0.1, 0.2]}", "\"trained_betas\"");
  expect_scheduler_error ("{\"rescale_betas_zero_snr\": true}", "rescale_betas_zero_snr");
  expect_scheduler_error ("{\"beta_start\": 0.02, \"beta_end\": 0.0001}", "beta_end");
  expect_scheduler_error ("{\"num_train_timesteps\": 1}", "num_train_timesteps");
}

/* ---- whole folders --------------------------------------------------------------- */

typedef struct {
  char *dir;        /* a copy of the grey-attn fixture, then modified */
  char *weights;
} Folder;

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *text = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &text, &len, NULL));
  g_assert_true (g_file_set_contents (to, text, len, NULL));
}

static void
folder_set_up (Folder        *f,
               gconstpointer  data)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "unet", "grey-attn", NULL);
  const char *files[] = { "config.json", "scheduler_config.json", "diffusion_pytorch_model.safetensors" };

  f->dir = g_dir_make_tmp ("epd-test-unet-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *a = g_build_filename (src, files[i], NULL), *b = g_build_filename (f->dir, files[i], NULL);

      copy_file (a, b);
    }
  f->weights = g_build_filename (f->dir, "diffusion_pytorch_model.safetensors", NULL);
}

static void
folder_tear_down (Folder        *f,
                  gconstpointer  data)
{
  const char *files[] = { "config.json", "scheduler_config.json", "diffusion_pytorch_model.safetensors" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (f->dir, files[i], NULL);

      g_remove (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->weights);
}

/* Rewrites the folder's weights as F32: every tensor of the original except
 * drop, with rename renamed to new_name and reshape's first size doubled,
 * plus extra (a 1-element tensor) when not NULL. */
static void
rewrite_weights (Folder     *f,
                 const char *drop,
                 const char *rename,
                 const char *new_name,
                 const char *reshape,
                 const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdSafetensors) st = epd_safetensors_open (f->weights, &error);
  g_autoptr(GString) header = g_string_new ("{");
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) file = g_byte_array_new ();
  const EpdSafetensorsEntry *e;
  guint8 len[8];
  guint n;

  g_assert_no_error (error);
  e = epd_safetensors_get_entries (st, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree float *v = g_new (float, MAX (e[i].n_elements, 1));
      gsize count = e[i].n_elements;
      gsize begin = data->len;

      if (g_strcmp0 (e[i].name, drop) == 0)
        continue;
      g_assert_true (epd_safetensors_read_float (st, &e[i], v, &error));
      g_byte_array_append (data, (const guint8 *) v, count * 4);
      if (g_strcmp0 (e[i].name, reshape) == 0)
        {
          g_byte_array_append (data, (const guint8 *) v, count * 4);  /* twice the elements */
          count *= 2;
        }
      g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", header->len > 1 ? "," : "",
                              g_strcmp0 (e[i].name, rename) == 0 ? new_name : e[i].name);
      for (guint d = 0; d < e[i].ndim; d++)
        g_string_append_printf (header, "%s%" G_GSIZE_FORMAT, d ? "," : "",
                                e[i].shape[d] * (d == 0 && g_strcmp0 (e[i].name, reshape) == 0 ? 2 : 1));
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GSIZE_FORMAT ",%u]}", begin, data->len);
    }
  if (extra != NULL)
    {
      float one = 1.0f;

      g_string_append_printf (header, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%u,%u]}",
                              extra, data->len, data->len + 4);
      g_byte_array_append (data, (const guint8 *) &one, 4);
    }
  g_string_append_c (header, '}');
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) header->len >> (8 * i));
  g_byte_array_append (file, len, 8);
  g_byte_array_append (file, (const guint8 *) header->str, header->len);
  g_byte_array_append (file, data->data, data->len);
  g_assert_true (g_file_set_contents (f->weights, (const char *) file->data, file->len, NULL));
}

static void
expect_load_error (Folder     *f,
                   int         code,
                   const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdUnet) unet = epd_unet_load (f->dir, &error);

  g_assert_null (unet);
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_folder_rewritten_loads (Folder *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdUnet) unet = NULL;

  rewrite_weights (f, NULL, NULL, NULL, NULL, NULL);  /* the same tensors as F32 */
  unet = epd_unet_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (unet);
}

static void
test_folder_missing (Folder *f, gconstpointer data)
{
  rewrite_weights (f, "mid_block.resnets.1.conv2.bias", NULL, NULL, NULL, NULL);
  expect_load_error (f, EPD_ERROR_SHAPE, "'mid_block.resnets.1.conv2.bias' is missing");
}

static void
test_folder_extra (Folder *f, gconstpointer data)
{
  rewrite_weights (f, NULL, NULL, NULL, NULL, "class_embedding.weight");
  expect_load_error (f, EPD_ERROR_SHAPE, "'class_embedding.weight' is not part of the network");
}

static void
test_folder_wrong_shape (Folder *f, gconstpointer data)
{
  rewrite_weights (f, NULL, NULL, NULL, "up_blocks.0.resnets.1.conv1.weight", NULL);
  expect_load_error (f, EPD_ERROR_SHAPE, "'up_blocks.0.resnets.1.conv1.weight' has shape [16, 16, 3, 3]");
}

/* A legacy name next to its current twin: one of them is unexplained. */
static void
test_folder_both_names (Folder *f, gconstpointer data)
{
  rewrite_weights (f, NULL, NULL, NULL, NULL, "mid_block.attentions.0.to_q.bias");
  expect_load_error (f, EPD_ERROR_SHAPE, "mid_block.attentions.0.");
}

static void
test_folder_truncated (Folder *f, gconstpointer data)
{
  g_autofree char *text = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (f->weights, &text, &len, NULL));
  g_assert_true (g_file_set_contents (f->weights, text, len - 100, NULL));
  expect_load_error (f, EPD_ERROR_PARSE, "a truncated file?");
}

static void
test_folder_bad_config (Folder *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *changed = NULL;
  g_auto(GStrv) parts = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  parts = g_strsplit (text, "\"AttnDownBlock2D\"", 2);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  changed = g_strjoinv ("\"SimpleCrossAttnDownBlock2D\"", parts);
  g_assert_true (g_file_set_contents (path, changed, -1, NULL));
  expect_load_error (f, EPD_ERROR_UNSUPPORTED, "SimpleCrossAttnDownBlock2D");
}

static void
test_folder_groups (Folder *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *changed = NULL;
  g_auto(GStrv) parts = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  parts = g_strsplit (text, "\"norm_num_groups\": 4", 2);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  changed = g_strjoinv ("\"norm_num_groups\": 3", parts);
  g_assert_true (g_file_set_contents (path, changed, -1, NULL));
  expect_load_error (f, EPD_ERROR_UNSUPPORTED, "\"norm_num_groups\": 3 groups do not divide");
}

static void
test_folder_not_a_folder (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdUnet) unet = epd_unet_load ("/nonexistent/unet", &error);

  g_assert_null (unet);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "not a folder"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/unet-errors/safetensors/valid", test_safetensors_valid);
  g_test_add_func ("/unet-errors/safetensors/nan", test_safetensors_nan);
  g_test_add_func ("/unet-errors/safetensors/malformed", test_safetensors_malformed);
  g_test_add_func ("/unet-errors/config", test_config);
  g_test_add_func ("/unet-errors/scheduler", test_scheduler);
  g_test_add_func ("/unet-errors/folder/not-a-folder", test_folder_not_a_folder);
#define ADD(path, func) g_test_add (path, Folder, NULL, folder_set_up, func, folder_tear_down)
  ADD ("/unet-errors/folder/rewritten-loads", test_folder_rewritten_loads);
  ADD ("/unet-errors/folder/missing-tensor", test_folder_missing);
  ADD ("/unet-errors/folder/extra-tensor", test_folder_extra);
  ADD ("/unet-errors/folder/wrong-shape", test_folder_wrong_shape);
  ADD ("/unet-errors/folder/both-names", test_folder_both_names);
  ADD ("/unet-errors/folder/truncated", test_folder_truncated);
  ADD ("/unet-errors/folder/unknown-block", test_folder_bad_config);
  ADD ("/unet-errors/folder/groups", test_folder_groups);
#undef ADD
  return g_test_run ();
}
