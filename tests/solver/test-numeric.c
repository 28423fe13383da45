/* SPDX-License-Identifier: MIT
 *
 * test-numeric.c: the shared finite check and Adam(W) step, against values
 * worked out by hand. */
#include <math.h>

#include "epd-json.h"
#include "epd-numeric.h"

static void
test_first_non_finite (void)
{
  const double ok[] = { 0.0, -1e308, 5e-324 };
  const double bad[] = { 1.0, 2.0, NAN, INFINITY };
  const double inf[] = { -INFINITY };

  g_assert_cmpint (epd_first_non_finite (ok, G_N_ELEMENTS (ok)), ==, -1);
  g_assert_cmpint (epd_first_non_finite (bad, G_N_ELEMENTS (bad)), ==, 2);
  g_assert_cmpint (epd_first_non_finite (inf, 1), ==, 0);
  g_assert_cmpint (epd_first_non_finite (bad, 2), ==, -1);
  g_assert_cmpint (epd_first_non_finite (NULL, 0), ==, -1);
}

/* Step 1: m = 0.1 g, v = 0.001 g^2, so the bias-corrected step is
 * g / (|g| + eps): lr times the sign of g. Step 2 with the same gradient
 * keeps that size; AdamW adds lr * weight_decay * p. eps moves each by
 * lr * eps / |g| at most (2e-9 here). */
static void
test_adam (void)
{
  const EpdAdam adam = EPD_ADAM_DEFAULTS;
  const EpdAdam adamw = { 0.9, 0.999, 1e-8, 0.5 };
  double p[2] = { 1.0, -3.0 }, grad[2] = { 2.0, -0.5 }, m[2] = { 0 }, v[2] = { 0 };
  double pw[1] = { 4.0 }, gw[1] = { 1.0 }, mw[1] = { 0 }, vw[1] = { 0 };

  epd_adam_step (&adam, 1, 0.1, p, grad, m, v, 2);
  g_assert_cmpfloat_with_epsilon (m[0], 0.2, 1e-15);
  g_assert_cmpfloat_with_epsilon (v[0], 0.004, 1e-15);
  g_assert_cmpfloat_with_epsilon (p[0], 0.9, 1e-7);
  g_assert_cmpfloat_with_epsilon (p[1], -2.9, 1e-7);
  epd_adam_step (&adam, 2, 0.1, p, grad, m, v, 2);
  g_assert_cmpfloat_with_epsilon (p[0], 0.8, 1e-7);
  g_assert_cmpfloat_with_epsilon (p[1], -2.8, 1e-7);
  /* 4 - 0.1 * (0.5 * 4 + 1) */
  epd_adam_step (&adamw, 1, 0.1, pw, gw, mw, vw, 1);
  g_assert_cmpfloat_with_epsilon (pw[0], 3.7, 1e-7);
}

/* The float version computes the same update. */
static void
test_adam_float (void)
{
  const EpdAdam adam = EPD_ADAM_DEFAULTS;
  double p[3] = { 0.25, -1.5, 3.0 }, g[3] = { 0.125, 2.0, -0.75 }, m[3] = { 0 }, v[3] = { 0 };
  float pf[3] = { 0.25f, -1.5f, 3.0f }, gf[3] = { 0.125f, 2.0f, -0.75f };
  double mf[3] = { 0 }, vf[3] = { 0 };

  for (guint64 t = 1; t <= 5; t++)
    {
      epd_adam_step (&adam, t, 0.01, p, g, m, v, 3);
      epd_adam_step_float (&adam, t, 0.01, pf, gf, mf, vf, 3);
    }
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpfloat_with_epsilon (pf[i], p[i], 1e-6);
      g_assert_cmpfloat (mf[i], ==, m[i]);
    }
}

/* NaN and infinities go out as null and null comes back as NaN; numbers
 * round-trip exactly; strings are not numbers. */
static void
test_json_number (void)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) text = json_node_new (JSON_NODE_VALUE);
  g_autoptr(JsonNode) integer = json_node_new (JSON_NODE_VALUE);
  double value = 0;

  epd_json_object_set_number (object, "x", 0.1);
  epd_json_object_set_number (object, "nan", NAN);
  epd_json_array_add_number (array, -INFINITY);
  epd_json_array_add_number (array, 1e-300);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (object, "nan")));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_array_get_element (array, 0)));
  g_assert_true (epd_json_node_get_number (json_object_get_member (object, "x"), &value));
  g_assert_cmpfloat (value, ==, 0.1);
  g_assert_true (epd_json_node_get_number (json_object_get_member (object, "nan"), &value));
  g_assert_true (isnan (value));
  g_assert_true (epd_json_node_get_number (json_array_get_element (array, 1), &value));
  g_assert_cmpfloat (value, ==, 1e-300);
  json_node_set_int (integer, 7);
  g_assert_true (epd_json_node_get_number (integer, &value));
  g_assert_cmpfloat (value, ==, 7.0);
  json_node_set_string (text, "1.5");
  g_assert_false (epd_json_node_get_number (text, &value));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/numeric/first-non-finite", test_first_non_finite);
  g_test_add_func ("/numeric/adam", test_adam);
  g_test_add_func ("/numeric/adam-float", test_adam_float);
  g_test_add_func ("/numeric/json-number", test_json_number);
  return g_test_run ();
}
