/* SPDX-License-Identifier: MIT */
/* test-table.c: coefficient tables: exact JSON and NPZ round trips, the
 * reference's forms (num_steps = grid points), validation messages, and
 * malformed input rejected with the right error code: deep nesting, empty
 * files, devices, FIFOs and oversize files included. */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-file.h"
#include "epd-json.h"
#include "epd-npy.h"
#include "epd-table.h"

static char *
temp_path (const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("epd-table-test-%d-%u%s", getpid (), g_random_int (), suffix);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static char *
source_path (const char *relative)
{
  const char *root = g_getenv ("EPD_SOURCE_ROOT");

  return g_build_filename (root ? root : "..", relative, NULL);
}

/* A table that exercises everything a file must keep: awkward doubles
 * (exponents, 1/3, the smallest normal), scales, a flow-matching schedule with
 * an infinite sigma_max, and nested, typed metadata. */
static EpdTable *
make_rich_table (void)
{
  EpdTable *t = epd_table_new ("epd-plugin", 3, 3);
  const char *metadata = "{\"lr\": 7e-05, \"tags\": [\"a\", 1, null, true], \"sub\": {\"x\": -0.0}}";
  g_autoptr(JsonNode) nested = epd_json_parse (metadata, strlen (metadata), "metadata", NULL);

  t->r[0] = 1e-300;
  t->r[1] = 1.0 / 3.0;
  t->r[2] = 1.0 - 1e-16;
  t->weight[0] = 1.0 / 3.0;
  t->weight[1] = 1.0 / 3.0;
  t->weight[2] = 1.0 / 3.0;
  t->weight[3] = 2.2250738585072014e-308;
  t->weight[4] = 0.5;
  t->weight[5] = 0.5 - 2.2250738585072014e-308;
  t->scale_dir = g_new (double, 9);
  t->scale_time = g_new (double, 9);
  for (int i = 0; i < 9; i++)
    {
      t->scale_dir[i] = 1.0 + i / 7.0;
      t->scale_time[i] = 0.9 + 1e-17 * i;
    }
  t->afs = TRUE;
  t->max_order = 3;
  g_assert_true (epd_schedule_init_flowmatch_preset (&t->schedule, "flux", NULL));
  json_object_set_string_member (t->metadata, "teacher", "dpm σ");
  json_object_set_int_member (t->metadata, "teacher_M", 3);
  json_object_set_double_member (t->metadata, "guidance_rate", 7.5);
  json_object_set_boolean_member (t->metadata, "cfg", FALSE);
  json_object_set_member (t->metadata, "training", json_node_ref (nested));
  json_object_set_null_member (t->metadata, "note");
  return t;
}

static void
test_table_json_round_trip (void)
{
  g_autoptr(EpdTable) t = make_rich_table ();
  g_autoptr(JsonNode) root = epd_table_to_json (t);
  g_autofree char *text = epd_json_to_data (root, TRUE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) parsed = epd_json_parse (text, strlen (text), "test", &error);
  g_autoptr(EpdTable) back = NULL, loaded = NULL;
  g_autofree char *path = temp_path (".json");

  g_assert_no_error (error);
  g_assert_true (epd_table_validate (t, &error));
  back = epd_table_from_json (parsed, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (t, back));
  g_assert_true (isinf (back->schedule.sigma_max));
  g_assert_nonnull (strstr (text, "\"grid_points\" : 4"));

  g_assert_true (epd_table_save (t, path, &error));
  g_assert_no_error (error);
  loaded = epd_table_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (t, loaded));
  g_unlink (path);
}

static void
test_table_npz_round_trip (void)
{
  g_autoptr(EpdTable) t = make_rich_table ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = epd_table_to_npz_bytes (t, &error);
  g_autoptr(EpdTable) back = NULL, loaded = NULL, via_json = NULL;
  g_autofree char *npz = temp_path (".npz");
  g_autofree char *json = temp_path (".json");

  g_assert_no_error (error);
  back = epd_table_from_npz_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (t, back));

  /* JSON -> NPZ -> JSON through files, as `epd table convert` does. */
  g_assert_true (epd_table_save (t, npz, &error));
  loaded = epd_table_load (npz, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_save (loaded, json, &error));
  via_json = epd_table_load (json, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (t, via_json));
  g_unlink (npz);
  g_unlink (json);
}

/* The reference's num_steps counts grid points: 11 in the file is 10 steps
 * here, and 11 again on export. */
static void
test_table_reference_json (void)
{
  g_autofree char *path = source_path ("data/tables/sd15-best.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) t = epd_table_load (path, &error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GHashTable) members = NULL;
  g_autoptr(JsonNode) num_steps = NULL;
  GBytes *member;
  gsize len;
  const guint8 *data;

  g_assert_no_error (error);
  g_assert_cmpuint (t->steps, ==, 10);
  g_assert_cmpuint (t->n_points, ==, 2);
  g_assert_cmpstr (t->solver, ==, "epd");
  g_assert_cmpint (t->schedule.kind, ==, EPD_SCHEDULE_DISCRETE);
  g_assert_cmpfloat (t->r[0], ==, 0.15270306);
  g_assert_cmpfloat (t->weight[19], ==, 0.08396494);
  g_assert_cmpstr (json_object_get_string_member (t->metadata, "teacher"), ==, "dpm");
  g_assert_cmpfloat (json_object_get_double_member (t->metadata, "guidance_rate"), ==, 7.5);
  g_assert_false (json_object_has_member (t->metadata, "num_steps"));

  bytes = epd_table_to_npz_bytes (t, &error);
  g_assert_no_error (error);
  members = epd_npz_parse (bytes, &error);
  g_assert_no_error (error);
  member = g_hash_table_lookup (members, "num_steps");
  data = g_bytes_get_data (member, &len);
  num_steps = epd_npy_parse_scalar (data, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_node_get_int (num_steps), ==, 11);
}

/* An .npz written by NumPy the way the reference exchanges tables
 * (data/make-fixtures.py) reads back to the same coefficients as the JSON. */
static void
test_table_reference_npz (void)
{
  g_autofree char *json = source_path ("data/tables/sd15-best.json");
  g_autofree char *npz = source_path ("tests/solver/data/reference-sd15-best.npz");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) a = epd_table_load (json, &error);
  g_autoptr(EpdTable) b = NULL;

  g_assert_no_error (error);
  b = epd_table_load (npz, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (b->steps, ==, 10);
  g_assert_cmpint (b->schedule.kind, ==, EPD_SCHEDULE_DISCRETE);
  g_assert_cmpmem (a->r, 20 * sizeof (double), b->r, 20 * sizeof (double));
  g_assert_cmpmem (a->weight, 20 * sizeof (double), b->weight, 20 * sizeof (double));
  g_assert_cmpuint (json_object_get_size (b->metadata), ==, 0);
}

typedef struct
{
  const char *json;
  int         code;
  const char *needle;
} BadTable;

#define OURS(extra) "{\"schema_version\": 1, \"solver\": \"epd\", \"steps\": 2, \"n_points\": 2, " \
                    "\"schedule\": {\"kind\": \"polynomial\"}" extra "}"
#define ROWS(r, w) ", \"r\": " r ", \"weight\": " w
#define GOOD_R "[[0.3, 0.6], [0.2, 0.7]]"
#define GOOD_W "[[0.5, 0.5], [0.25, 0.75]]"

static void
test_table_malformed_json (void)
{
  const BadTable cases[] = {
    { OURS (ROWS (GOOD_R, GOOD_W)) "  ", -1, NULL },  /* the valid baseline */
    { "{\"schema_version\": 1, \"solver\": \"epd\", \"steps\": 2, \"n_po", EPD_ERROR_PARSE, "not valid JSON" },
    { "[1, 2, 3]", EPD_ERROR_PARSE, "JSON object" },
    { "{\"r\": []}", EPD_ERROR_PARSE, "not a coefficient table" },
    { "{\"schema_version\": 2}", EPD_ERROR_UNSUPPORTED, "newer" },
    { "{\"schema_version\": 1, \"solver\": \"heun\", \"steps\": 2, \"n_points\": 2, \"schedule\": {\"kind\": \"polynomial\"}"
      ROWS (GOOD_R, GOOD_W) "}", EPD_ERROR_INVALID, "unknown solver 'heun'" },
    { OURS (ROWS ("[[0.3, 0.6]]", GOOD_W)), EPD_ERROR_SHAPE, "field 'r' has 1 rows, expected 2" },
    { OURS (ROWS ("[[0.3, 0.6], [0.2]]", GOOD_W)), EPD_ERROR_SHAPE, "r[1] has 1 values, expected 2" },
    { OURS (ROWS ("[[0.3, \"x\"], [0.2, 0.7]]", GOOD_W)), EPD_ERROR_PARSE, "r[0][1] is not a number" },
    { OURS (ROWS ("[[0.3, 0.6], 5]", GOOD_W)), EPD_ERROR_PARSE, "r[1] must be an array" },
    { OURS (ROWS ("[[0, 0.6], [0.2, 0.7]]", GOOD_W)), EPD_ERROR_NUMERIC, "step 0, point 0: r = 0 is outside (0, 1)" },
    { OURS (ROWS ("[[0.3, 0.6], [0.2, 1]]", GOOD_W)), EPD_ERROR_NUMERIC, "step 1, point 1: r = 1 is outside (0, 1)" },
    { OURS (ROWS (GOOD_R, "[[0.5, 0.5], [0.35, 0.75]]")), EPD_ERROR_NUMERIC, "step 1: weights sum to 1.1," },
    { OURS (ROWS (GOOD_R, "[[1.5, -0.5], [0.25, 0.75]]")), EPD_ERROR_NUMERIC, "step 0, point 1: weight = -0.5" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"scale_dir\": [[1, 1], [1, 0]]"), EPD_ERROR_NUMERIC, "step 1, point 1: scale_dir = 0" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"scale_time\": [[1, 1]]"), EPD_ERROR_SHAPE, "field 'scale_time' has 1 rows" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"grid_points\": 2"), EPD_ERROR_SHAPE, "grid_points = 2" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"afs\": \"yes\""), EPD_ERROR_PARSE, "'afs' must be true or false" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"max_order\": 5"), EPD_ERROR_SHAPE, "'max_order' = 5" },
    { OURS (ROWS (GOOD_R, GOOD_W) ", \"metadata\": 3"), EPD_ERROR_PARSE, "'metadata' must be an object" },
    { OURS (", \"r\": " GOOD_R), EPD_ERROR_PARSE, "field 'weight' is missing" },
    { "{\"schema_version\": 1, \"solver\": \"epd\", \"steps\": \"two\", \"n_points\": 2}", EPD_ERROR_PARSE, "'steps' must be an integer" },
    { "{\"schema_version\": 1, \"solver\": \"epd\", \"steps\": 2, \"n_points\": 2, \"schedule\": {\"kind\": \"cosine\"}"
      ROWS (GOOD_R, GOOD_W) "}", EPD_ERROR_INVALID, "unknown schedule 'cosine'" },
    { "{\"num_steps\": 4, \"num_points\": 2, \"schedule_type\": \"discrete\"" ROWS (GOOD_R, GOOD_W) "}",
      EPD_ERROR_SHAPE, "field 'r' has 2 rows, expected 3" },
    { "{\"num_steps\": 3, \"num_points\": 1, \"schedule_type\": \"discrete\"" ROWS (GOOD_R, GOOD_W) "}",
      EPD_ERROR_SHAPE, "r[0] has 2 values, expected 1" },
    { "{\"num_steps\": 3.5, \"num_points\": 2" ROWS (GOOD_R, GOOD_W) "}", EPD_ERROR_PARSE, "'num_steps' must be an integer" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = temp_path (".json");
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = NULL;

      g_assert_true (g_file_set_contents (path, cases[i].json, -1, NULL));
      t = epd_table_load (path, &error);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_nonnull (t);
        }
      else if (t != NULL || !g_error_matches (error, EPD_ERROR, cases[i].code) ||
               strstr (error->message, cases[i].needle) == NULL || strstr (error->message, path) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": expected code %d with '%s' and the path, got %s",
                 i, cases[i].code, cases[i].needle, error ? error->message : "a table");
      g_unlink (path);
    }
}

static void
test_table_validate_nan (void)
{
  g_autoptr(EpdTable) t = epd_table_new ("epd", 4, 2);
  g_autoptr(GError) error = NULL;

  g_assert_true (epd_table_validate (t, NULL));
  t->weight[5] = NAN;
  g_assert_false (epd_table_validate (t, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "step 2, point 1: weight is nan"));
  g_clear_error (&error);
  t->weight[5] = 0.5;
  t->r[6] = INFINITY;
  g_assert_false (epd_table_validate (t, &error));
  g_assert_nonnull (strstr (error->message, "step 3, point 0: r is inf"));
}

/* NPZ members assembled by hand, to reach what our writer never produces. */
static GBytes *
npz_with (const char *drop,
          const char *name,
          GBytes     *member)
{
  g_autoptr(EpdTable) t = epd_table_new ("epd", 3, 2);
  g_autoptr(GBytes) good = epd_table_to_npz_bytes (t, NULL);
  g_autoptr(GHashTable) members = epd_npz_parse (good, NULL);

  if (drop != NULL)
    g_hash_table_remove (members, drop);
  if (name != NULL)
    g_hash_table_insert (members, g_strdup (name), member);
  return epd_npz_serialize (members);
}

static GBytes *
npy_matrix (gsize  rows,
            gsize  cols,
            double value)
{
  const gsize shape[] = { rows, cols };
  g_autoptr(EpdArray) a = epd_array_new (2, shape);

  for (gsize i = 0; i < rows * cols; i++)
    a->data[i] = value;
  return epd_npy_serialize (a);
}

static GBytes *
npy_int (gint64 v)
{
  g_autoptr(JsonNode) node = json_node_init_int (json_node_alloc (), v);

  return epd_npy_serialize_scalar (node);
}

static void
test_table_malformed_npz (void)
{
  struct { GBytes *zip; int code; const char *needle; } cases[] = {
    { npz_with ("weight", NULL, NULL), EPD_ERROR_PARSE, "no 'weight' array" },
    { npz_with (NULL, "weight", npy_matrix (2, 2, 0.5)), EPD_ERROR_SHAPE, "array 'weight' has shape (2, 2), r has (3, 2)" },
    { npz_with (NULL, "r", npy_matrix (3, 2, NAN)), EPD_ERROR_NUMERIC, "step 0, point 0: r is nan" },
    { npz_with (NULL, "r", npy_matrix (3, 2, 1.0)), EPD_ERROR_NUMERIC, "r = 1 is outside (0, 1)" },
    { npz_with (NULL, "weight", npy_matrix (3, 2, 0.55)), EPD_ERROR_NUMERIC, "step 0: weights sum to 1.1," },
    { npz_with (NULL, "num_steps", npy_int (3)), EPD_ERROR_SHAPE, "num_steps = 3, but the arrays have 4 grid points" },
    { npz_with (NULL, "num_points", npy_int (3)), EPD_ERROR_SHAPE, "num_points = 3" },
    { npz_with (NULL, "extra", npy_matrix (1, 2, 0.0)), EPD_ERROR_SHAPE, "member 'extra'" },
    { npz_with (NULL, "solver", npy_int (3)), EPD_ERROR_PARSE, "member 'solver' must be a string" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = epd_table_from_npz_bytes (cases[i].zip, &error);

      if (t != NULL || !g_error_matches (error, EPD_ERROR, cases[i].code) ||
          strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": expected code %d with '%s', got %s",
                 i, cases[i].code, cases[i].needle, error ? error->message : "a table");
      g_bytes_unref (cases[i].zip);
    }
}

/* Every prefix of a valid .npz is refused, as is a file of junk. */
static void
test_table_truncated_npz (void)
{
  g_autoptr(EpdTable) t = epd_table_new ("epd", 2, 2);
  g_autoptr(GBytes) good = epd_table_to_npz_bytes (t, NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (good, &len);

  for (gsize n = 0; n < len; n += 7)
    {
      g_autoptr(GBytes) prefix = g_bytes_new (data, n);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) back = epd_table_from_npz_bytes (prefix, &error);

      g_assert_null (back);
      g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
    }
}

/* A failed save leaves the previous file as it was. */
static void
test_table_save_refuses_invalid (void)
{
  g_autoptr(EpdTable) good = epd_table_new ("epd", 2, 2);
  g_autoptr(EpdTable) bad = epd_table_new ("epd", 2, 2);
  g_autofree char *path = temp_path (".npz");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) back = NULL;

  g_assert_true (epd_table_save (good, path, NULL));
  bad->weight[0] = 0.9;
  g_assert_false (epd_table_save (bad, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  back = epd_table_load (path, NULL);
  g_assert_true (epd_table_equal (good, back));
  g_unlink (path);
}

static void
test_table_equal_bits (void)
{
  g_autoptr(EpdTable) a = make_rich_table ();
  g_autoptr(EpdTable) b = epd_table_copy (a);

  g_assert_true (epd_table_equal (a, b));
  b->r[4] = nextafter (b->r[4], 1.0);
  g_assert_false (epd_table_equal (a, b));
  b->r[4] = a->r[4];
  json_object_set_int_member (b->metadata, "teacher_M", 4);
  g_assert_false (epd_table_equal (a, b));
  /* The copy owns its metadata. */
  g_assert_cmpint (json_object_get_int_member (a->metadata, "teacher_M"), ==, 3);
  g_clear_pointer (&b->scale_dir, g_free);
  g_assert_false (epd_table_equal (a, b));
}

/* A bare copy has every value and an empty, owned metadata object. */
static void
test_table_copy_bare (void)
{
  g_autoptr(EpdTable) a = make_rich_table ();
  g_autoptr(EpdTable) bare = epd_table_copy_bare (a);

  g_assert_cmpuint (json_object_get_size (a->metadata), >, 0);
  g_assert_nonnull (bare->metadata);
  g_assert_cmpuint (json_object_get_size (bare->metadata), ==, 0);
  g_assert_false (epd_table_equal (a, bare));
  json_object_unref (bare->metadata);
  bare->metadata = json_object_ref (a->metadata);
  g_assert_true (epd_table_equal (a, bare));
  g_assert_true (bare->r != a->r && bare->scale_dir != a->scale_dir);
}

static void
test_table_new_uniform (void)
{
  g_autoptr(EpdTable) t = epd_table_new ("epd", 5, 3);

  g_assert_true (epd_table_validate (t, NULL));
  g_assert_cmpfloat (t->r[0], ==, 0.25);
  g_assert_cmpfloat (t->r[2], ==, 0.75);
  g_assert_cmpfloat_with_epsilon (t->weight[1], 1.0 / 3.0, 1e-16);
  g_assert_null (t->scale_dir);
}

/* Brackets n deep around a number, between prefix and suffix. */
static char *
nested_json (const char *prefix,
             gsize       n,
             const char *suffix)
{
  g_autofree char *open = g_strnfill (n, '[');
  g_autofree char *close = g_strnfill (n, ']');

  return g_strconcat (prefix, open, "1", close, suffix, NULL);
}

static void
assert_too_deep (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = epd_json_parse (json, strlen (json), "deep.json", &error);

  g_assert_null (root);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_cmpstr (error->message, ==, "deep.json: JSON nested deeper than 64 levels");
}

/* json-glib recurses per level: deep documents are refused before it runs,
 * also when the scanner's strings and comments are used to hide brackets. */
static void
test_table_deep_json (void)
{
  g_autofree char *path = temp_path (".json");
  g_autofree char *deep = nested_json ("", 100000, "");
  g_autofree char *at_limit = nested_json ("", EPD_JSON_MAX_DEPTH, "");
  g_autofree char *past_limit = nested_json ("", EPD_JSON_MAX_DEPTH + 1, "");
  g_autofree char *in_string = nested_json ("[\"", 100000, "\"]");
  g_autofree char *after_escape = nested_json ("[\"\\\"\", ", 100000, "]");
  g_autofree char *after_sq = nested_json ("['\"', ", 100000, ", '\"']");
  g_autofree char *after_comment = nested_json ("/* \" */ ", 100000, " /* \" */");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(EpdTable) table = NULL;

  assert_too_deep (deep);
  assert_too_deep (past_limit);
  assert_too_deep (after_escape);
  assert_too_deep (after_sq);
  assert_too_deep (after_comment);
  assert_too_deep ("{\"a\": " "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" "}");
  root = epd_json_parse (at_limit, strlen (at_limit), "ok", &error);
  g_assert_no_error (error);
  g_clear_pointer (&root, json_node_unref);
  /* Brackets inside a string are text, not nesting. */
  root = epd_json_parse (in_string, strlen (in_string), "ok", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (json_array_get_string_element (json_node_get_array (root), 0)), ==, 200001);

  g_assert_true (g_file_set_contents (path, deep, -1, NULL));
  table = epd_table_load (path, &error);
  g_assert_null (table);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_true (g_str_has_suffix (error->message, ": JSON nested deeper than 64 levels"));
  g_unlink (path);
}

static void
assert_load_fails (const char *path,
                   int         code,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) table = epd_table_load (path, &error);

  g_assert_null (table);
  if (!g_error_matches (error, EPD_ERROR, code) || strstr (error->message, needle) == NULL ||
      strstr (error->message, path) == NULL)
    g_error ("%s: expected code %d with '%s' and the path, got '%s'", path, code, needle,
             error ? error->message : "no error");
}

/* Devices, FIFOs and folders are refused before they are read (a FIFO
 * without a writer would block, /dev/zero would fill memory). */
static void
test_table_special_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-table-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "table.json", NULL);

  g_assert_nonnull (dir);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_load_fails ("/dev/zero", EPD_ERROR_IO, "is a character device, not a regular file");
  assert_load_fails (fifo, EPD_ERROR_IO, "is a FIFO (named pipe), not a regular file");
  assert_load_fails (dir, EPD_ERROR_IO, "is a folder, not a regular file");
  g_unlink (fifo);
  assert_load_fails (fifo, EPD_ERROR_IO, "cannot open");
  g_rmdir (dir);
}

/* A (sparse) file one byte over the limit is refused without reading it. */
static void
test_table_oversize (void)
{
  g_autofree char *path = temp_path (".json");
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, EPD_FILE_MAX_JSON + 1), ==, 0);
  close (fd);
  assert_load_fails (path, EPD_ERROR_IO, "larger than the 64 MiB allowed");
  g_unlink (path);
}

/* JSON tables stop at 100,000 steps; .npz ones did not (60,000,000 steps
 * fit in 1.4 MB and took 13 s and 1.9 GB to validate). */
static void
test_table_npz_cap (void)
{
  g_autoptr(EpdTable) table = epd_table_new ("epd", 100001, 1);
  g_autoptr(EpdTable) fine = epd_table_new ("epd", 100000, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = epd_table_to_npz_bytes (table, &error);
  g_autoptr(GBytes) fine_bytes = epd_table_to_npz_bytes (fine, &error);
  g_autoptr(EpdTable) back = NULL;
  g_autoptr(GHashTable) members = NULL;

  g_assert_no_error (error);
  g_assert_null (epd_table_from_npz_bytes (bytes, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "array 'r' has 100001 x 1 cells; tables have at most 100000 steps"));
  g_clear_error (&error);
  back = epd_table_from_npz_bytes (fine_bytes, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (back, fine));
  /* Members over the limit are refused from the directory, before inflating. */
  g_assert_null (epd_npz_parse_limited (fine_bytes, 4096, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "bytes uncompressed, more than the 4096 this reader takes"));
  members = epd_npz_parse_limited (fine_bytes, 1 << 20, NULL);
  g_assert_nonnull (members);
}

/* What epd reads it must write back: json-glib took 1e999 as inf (written
 * "inf.0") and "\301" as a byte that is not UTF-8. */
static void
test_json_unwritable (void)
{
  const char *bad[] = {
    "{\"rho\": -1e999}", "[1e999]", "{\"a\": \"\\301\"}", "{\"\\377\\376\": 1}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (epd_json_parse (bad[i], strlen (bad[i]), "bad", &error));
      g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
      g_assert_true (strstr (error->message, "not finite") || strstr (error->message, "not valid UTF-8"));
    }
}

/* A valid table's .npz with one member replaced or added. */
static GBytes *
npz_with_member (const char *name,
                 JsonNode   *value)
{
  g_autoptr(EpdTable) table = epd_table_new ("epd", 2, 2);
  g_autoptr(GBytes) bytes = epd_table_to_npz_bytes (table, NULL);
  g_autoptr(GHashTable) members = epd_npz_parse (bytes, NULL);
  g_autoptr(JsonNode) node = value;

  g_hash_table_insert (members, g_strdup (name), epd_npy_serialize_scalar (node));
  return epd_npz_serialize (members);
}

/* A member named \xff\xfe became a metadata key, and a NaN schedule_rho a
 * "nan.0" in the JSON written from the table. */
static void
test_npz_unwritable (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bad_name = npz_with_member ("\xff\xfe", json_node_init_int (json_node_alloc (), 1));
  g_autoptr(GBytes) nan_rho = npz_with_member ("schedule_rho", json_node_init_double (json_node_alloc (), NAN));
  g_autoptr(GBytes) good = npz_with_member ("note", json_node_init_int (json_node_alloc (), 1));
  g_autoptr(EpdTable) table = NULL;

  g_assert_null (epd_table_from_npz_bytes (bad_name, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "member name that is not valid UTF-8"));
  g_clear_error (&error);
  g_assert_null (epd_table_from_npz_bytes (nan_rho, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "not finite"));
  g_clear_error (&error);
  table = epd_table_from_npz_bytes (good, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (table->metadata, "note"), ==, 1);
}

/* Empty files say so; a damaged .npz gets a zip error, not a JSON one. */
static void
test_table_empty_and_named_npz (void)
{
  g_autofree char *npz = temp_path (".npz");
  g_autofree char *json = temp_path (".json");

  g_assert_true (g_file_set_contents (npz, "", 0, NULL));
  assert_load_fails (npz, EPD_ERROR_PARSE, ": empty file");
  g_assert_true (g_file_set_contents (json, "", 0, NULL));
  assert_load_fails (json, EPD_ERROR_PARSE, ": empty file");
  g_assert_true (g_file_set_contents (npz, "{\"steps\": 2}", -1, NULL));
  assert_load_fails (npz, EPD_ERROR_PARSE, "npz: not a zip archive");
  g_unlink (npz);
  g_unlink (json);
}

/* EpdTable is a boxed type: GValues and signals copy it whole. */
static void
test_table_boxed (void)
{
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_auto(GValue) value = G_VALUE_INIT;
  EpdTable *copy;

  table->r[1] = 0.25;
  table->weight[0] = 0.75;
  table->weight[1] = 0.25;
  g_value_init (&value, EPD_TYPE_TABLE);
  g_value_set_boxed (&value, table);
  copy = g_value_get_boxed (&value);
  g_assert_true (copy != table);
  g_assert_true (epd_table_equal (copy, table));
  g_assert_true (G_TYPE_IS_BOXED (EPD_TYPE_TABLE));
  g_assert_cmpstr (g_type_name (EPD_TYPE_TABLE), ==, "EpdTable");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/table/json-round-trip", test_table_json_round_trip);
  g_test_add_func ("/table/boxed", test_table_boxed);
  g_test_add_func ("/table/npz-round-trip", test_table_npz_round_trip);
  g_test_add_func ("/table/reference-json", test_table_reference_json);
  g_test_add_func ("/table/reference-npz", test_table_reference_npz);
  g_test_add_func ("/table/malformed-json", test_table_malformed_json);
  g_test_add_func ("/table/validate-nan", test_table_validate_nan);
  g_test_add_func ("/table/malformed-npz", test_table_malformed_npz);
  g_test_add_func ("/table/truncated-npz", test_table_truncated_npz);
  g_test_add_func ("/table/save-refuses-invalid", test_table_save_refuses_invalid);
  g_test_add_func ("/table/equal-bits", test_table_equal_bits);
  g_test_add_func ("/table/copy-bare", test_table_copy_bare);
  g_test_add_func ("/table/new-uniform", test_table_new_uniform);
  g_test_add_func ("/table/deep-json", test_table_deep_json);
  g_test_add_func ("/table/special-files", test_table_special_files);
  g_test_add_func ("/table/oversize", test_table_oversize);
  g_test_add_func ("/table/npz-cap", test_table_npz_cap);
  g_test_add_func ("/table/json-unwritable", test_json_unwritable);
  g_test_add_func ("/table/npz-unwritable", test_npz_unwritable);
  g_test_add_func ("/table/empty-and-named-npz", test_table_empty_and_named_npz);
  return g_test_run ();
}
