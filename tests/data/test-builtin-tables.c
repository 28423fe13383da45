/* test-builtin-tables.c: the published tables shipped in data/tables/ load by
 * name from the data library's GResource, validate, and equal their files. */
#include <math.h>
#include <string.h>

#include "data/epd-model.h"

static void
test_builtin_names (void)
{
  g_auto(GStrv) names = epd_table_builtin_names ();

  g_assert_cmpuint (g_strv_length (names), ==, 11);
  g_assert_cmpstr (names[0], ==, "flux-best");
  g_assert_true (g_strv_contains ((const char * const *) names, "sd15-best"));
  g_assert_true (g_strv_contains ((const char * const *) names, "sd3-1024-distilled"));
}

/* Each builtin loads, validates, and is bit-identical to its source file. */
static void
test_builtin_tables_load (void)
{
  g_auto(GStrv) names = epd_table_builtin_names ();
  const char *root = g_getenv ("EPD_SOURCE_ROOT");

  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *spec = g_strconcat ("builtin:", names[i], NULL);
      g_autofree char *file = g_strconcat (names[i], ".json", NULL);
      g_autofree char *path = g_build_filename (root ? root : "..", "data", "tables", file, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = epd_table_load (spec, &error);
      g_autoptr(EpdTable) from_file = NULL;

      g_assert_no_error (error);
      g_assert_true (epd_table_validate (t, &error));
      g_assert_cmpuint (t->n_points, ==, 2);
      g_assert_cmpuint (t->steps, ==, g_str_has_prefix (names[i], "flux") ? 8 : 10);
      g_assert_cmpint (t->schedule.kind, ==,
                       g_str_has_prefix (names[i], "sd15") ? EPD_SCHEDULE_DISCRETE : EPD_SCHEDULE_FLOWMATCH);
      from_file = epd_table_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (epd_table_equal (t, from_file));
    }
}

/* FLUX tables get the FLUX flow-matching preset (shift e^1.15), SD3 its own. */
static void
test_builtin_flow_presets (void)
{
  g_autoptr(EpdTable) flux = epd_table_load ("builtin:flux-best", NULL);
  g_autoptr(EpdTable) sd3 = epd_table_load ("builtin:sd3-512-best", NULL);

  g_assert_cmpfloat_with_epsilon (flux->schedule.shift, exp (1.15), 1e-12);
  g_assert_cmpfloat (sd3->schedule.shift, ==, 3.0);
}

static void
test_builtin_unknown (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) t = epd_table_load ("builtin:sd16-best", &error);

  g_assert_null (t);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sd16-best"));
  g_assert_nonnull (strstr (error->message, "sd15-best"));
}

/* RDPO moved step 4's weights from [0.40, 0.60] towards sparsity
 * (the reference README's example). */
static void
test_builtin_rdpo_sparsity (void)
{
  g_autoptr(EpdTable) distilled = epd_table_load ("builtin:sd15-distilled", NULL);
  g_autoptr(EpdTable) best = epd_table_load ("builtin:sd15-best", NULL);

  g_assert_cmpfloat (fabs (distilled->weight[2 * 4] - 0.40), <, 0.01);
  g_assert_cmpfloat (fabs (best->weight[2 * 4] - 0.06), <, 0.01);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/builtin-tables/names", test_builtin_names);
  g_test_add_func ("/builtin-tables/load", test_builtin_tables_load);
  g_test_add_func ("/builtin-tables/flow-presets", test_builtin_flow_presets);
  g_test_add_func ("/builtin-tables/unknown", test_builtin_unknown);
  g_test_add_func ("/builtin-tables/rdpo-sparsity", test_builtin_rdpo_sparsity);
  return g_test_run ();
}
