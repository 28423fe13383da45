/* SPDX-License-Identifier: MIT */
/* test-coef-edit.c: the coefficient editor's drag math and undo/redo. */
#include "epd-coef-edit.h"

#include <math.h>

static double
row_sum (const double *w,
         guint         n)
{
  double s = 0;

  for (guint k = 0; k < n; k++)
    s += w[k];
  return s;
}

static void
test_weight_renormalises (void)
{
  double w[3] = { 0.5, 0.3, 0.2 };

  epd_coef_set_weight (w, 3, 0, 0.8);
  g_assert_cmpfloat (w[0], ==, 0.8);
  /* The others keep their 3:2 proportion and fill the remaining 0.2. */
  g_assert_cmpfloat_with_epsilon (w[1], 0.12, 1e-15);
  g_assert_cmpfloat_with_epsilon (w[2], 0.08, 1e-15);
  g_assert_cmpfloat_with_epsilon (row_sum (w, 3), 1.0, 1e-15);
}

static void
test_weight_clamps (void)
{
  double w[3] = { 0.5, 0.3, 0.2 };

  epd_coef_set_weight (w, 3, 1, 1.7);
  g_assert_cmpfloat (w[1], ==, 1.0);
  g_assert_cmpfloat (w[0], ==, 0.0);
  g_assert_cmpfloat (w[2], ==, 0.0);
  epd_coef_set_weight (w, 3, 1, -0.4);
  g_assert_cmpfloat (w[1], ==, 0.0);
  /* The others were all zero: they share the whole mass equally. */
  g_assert_cmpfloat (w[0], ==, 0.5);
  g_assert_cmpfloat (w[2], ==, 0.5);
}

static void
test_weight_single_point (void)
{
  double w[1] = { 1.0 };

  epd_coef_set_weight (w, 1, 0, 0.3);
  g_assert_cmpfloat (w[0], ==, 1.0);
}

static void
test_position_clamps (void)
{
  g_assert_cmpfloat (epd_coef_clamp_position (-3), ==, EPD_COEF_R_MIN);
  g_assert_cmpfloat (epd_coef_clamp_position (0), ==, EPD_COEF_R_MIN);
  g_assert_cmpfloat (epd_coef_clamp_position (1), ==, 1 - EPD_COEF_R_MIN);
  g_assert_cmpfloat (epd_coef_clamp_position (0.37), ==, 0.37);
  g_assert_cmpfloat (epd_coef_clamp_position (NAN), ==, 0.5);
}

static void
test_table_edits_validate (void)
{
  g_autoptr(EpdTable) table = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;

  epd_table_edit_weight (table, 1, 1, 0.9);
  epd_table_edit_position (table, 2, 0, 1.5);
  g_assert_cmpfloat (table->weight[1 * 2 + 1], ==, 0.9);
  g_assert_cmpfloat_with_epsilon (table->weight[1 * 2 + 0], 0.1, 1e-15);
  g_assert_cmpfloat (table->r[2 * 2 + 0], ==, 1 - EPD_COEF_R_MIN);
  /* Points may cross: the table stays valid unordered. */
  epd_table_edit_position (table, 0, 0, 0.95);
  epd_table_edit_position (table, 0, 1, 0.05);
  g_assert_true (epd_table_validate (table, &error));
  g_assert_no_error (error);
}

static void
test_reset_step (void)
{
  g_autoptr(EpdTable) reference = epd_table_new ("epd", 2, 2);
  g_autoptr(EpdTable) table = NULL;
  g_autoptr(EpdTable) uniform = epd_table_new ("epd", 2, 2);

  reference->r[2] = 0.2;
  reference->r[3] = 0.7;
  reference->weight[2] = 0.25;
  reference->weight[3] = 0.75;
  table = epd_table_copy (reference);
  epd_table_edit_weight (table, 1, 0, 0.9);
  epd_table_edit_position (table, 1, 1, 0.4);
  epd_table_reset_step (table, 1, reference);
  g_assert_true (epd_table_equal (table, reference));
  /* Without a reference of the same shape: the uniform row. */
  epd_table_reset_step (table, 1, NULL);
  for (guint k = 0; k < 2; k++)
    {
      g_assert_cmpfloat (table->r[2 + k], ==, uniform->r[2 + k]);
      g_assert_cmpfloat (table->weight[2 + k], ==, uniform->weight[2 + k]);
    }
  /* Step 0 untouched. */
  g_assert_cmpfloat (table->r[0], ==, reference->r[0]);
}

static void
test_history (void)
{
  g_autoptr(EpdCoefHistory) history = epd_coef_history_new (2);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 1, 2);
  g_autoptr(EpdTable) original = epd_table_copy (table);
  EpdTable *back;

  g_assert_false (epd_coef_history_can_undo (history));
  g_assert_null (epd_coef_history_undo (history, table));
  epd_coef_history_push (history, table);
  epd_table_edit_weight (table, 0, 0, 0.9);
  g_assert_true (epd_coef_history_can_undo (history));

  back = epd_coef_history_undo (history, table);
  g_assert_true (epd_table_equal (back, original));
  g_assert_true (epd_coef_history_can_redo (history));
  epd_table_free (table);
  table = back;

  back = epd_coef_history_redo (history, table);
  g_assert_cmpfloat (back->weight[0], ==, 0.9);
  epd_table_free (table);
  table = back;

  /* A new edit forgets the redo branch. */
  epd_coef_history_push (history, table);
  g_assert_false (epd_coef_history_can_redo (history));
}

static void
test_history_limit (void)
{
  g_autoptr(EpdCoefHistory) history = epd_coef_history_new (2);
  g_autoptr(EpdTable) table = epd_table_new ("epd", 1, 2);
  guint undos = 0;

  for (guint i = 0; i < 5; i++)
    {
      epd_coef_history_push (history, table);
      epd_table_edit_weight (table, 0, 0, 0.1 * (i + 1));
    }
  while (epd_coef_history_can_undo (history))
    {
      EpdTable *back = epd_coef_history_undo (history, table);
      epd_table_free (table);
      table = back;
      undos++;
    }
  g_assert_cmpuint (undos, ==, 2);
  /* The oldest kept state is the one before the 4th edit. */
  g_assert_cmpfloat_with_epsilon (table->weight[0], 0.3, 1e-15);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/coef-edit/weight/renormalises", test_weight_renormalises);
  g_test_add_func ("/coef-edit/weight/clamps", test_weight_clamps);
  g_test_add_func ("/coef-edit/weight/single-point", test_weight_single_point);
  g_test_add_func ("/coef-edit/position/clamps", test_position_clamps);
  g_test_add_func ("/coef-edit/table/validate", test_table_edits_validate);
  g_test_add_func ("/coef-edit/table/reset-step", test_reset_step);
  g_test_add_func ("/coef-edit/history/undo-redo", test_history);
  g_test_add_func ("/coef-edit/history/limit", test_history_limit);
  return g_test_run ();
}
