/* SPDX-License-Identifier: MIT
 *
 * test-app-policy.c: the choices the command line and the studio share. */
#include <math.h>

#include "epd-app-policy.h"
#include "epd-model.h"

/* The shipped ring-of-8 table is found from its own settings, and a change
 * of any one setting (steps, K, AFS, grid, model) finds nothing. */
static void
test_shipped_table (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) ring8 = epd_table_load ("builtin:ring8-epd-nfe5", &error);
  g_autoptr(EpdTable) found = NULL;
  g_autofree char *name = NULL;
  EpdSchedule shifted;

  g_assert_no_error (error);
  found = epd_find_shipped_table ("gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points, ring8->afs,
                                  &ring8->schedule, &name);
  g_assert_nonnull (found);
  g_assert_cmpstr (name, ==, "builtin:ring8-epd-nfe5");
  g_assert_true (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points,
                                 ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (ring8, "gmm:grid25", EPD_SOLVER_EPD, ring8->steps, ring8->n_points,
                                  ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps + 1, ring8->n_points,
                                  ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points + 1,
                                  ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points,
                                  !ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD_PLUGIN, ring8->steps, ring8->n_points,
                                  ring8->afs, &ring8->schedule));
  g_assert_false (epd_table_fits (NULL, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points,
                                  ring8->afs, &ring8->schedule));
  /* A grid 1e-6 away in sigma_max is another grid. */
  shifted = ring8->schedule;
  shifted.sigma_max *= 1.0 + 1e-6;
  g_assert_false (epd_table_fits (ring8, "gmm:ring8", EPD_SOLVER_EPD, ring8->steps, ring8->n_points,
                                  ring8->afs, &shifted));
}

static void
test_default_reward (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) ring8 = epd_model_from_spec ("gmm:ring8", &error);
  g_autoptr(EpdDenoiser) hd = epd_model_from_spec ("gmm:hd:8", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (epd_default_reward (ring8), ==, "logdensity");
  g_assert_cmpstr (epd_default_reward (hd), ==, "logdensity");
}

/* Fashion-MNIST (28x28 grey) is what the classifier reads. */
static void
test_default_reward_images (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) fashion = epd_model_from_spec ("dataset:fashion-mnist:64", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (epd_default_reward (fashion), ==, "classifier");
}

/* A learned model narrows the EDM range to where it was trained, never widens
 * it, and leaves what the user set. */
static void
test_schedule_fit_model (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) unet = epd_model_from_spec ("unet:fashion-mnist", &error);
  g_autoptr(EpdDenoiser) ring8 = epd_model_from_spec ("gmm:ring8", &error);
  EpdSchedule s, wide, flow;
  double lo, hi;

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_get_sigma_range (unet, &lo, &hi));
  /* The shipped DDPM model: trained from sigma ~0.01 up to ~157. */
  g_assert_cmpfloat (lo, >, 0.002);
  g_assert_cmpfloat (hi, >, 80);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  g_assert_true (epd_schedule_fit_model (&s, unet, FALSE, FALSE));
  g_assert_cmpfloat (s.sigma_min, ==, lo);
  g_assert_cmpfloat (s.sigma_max, ==, 80);
  epd_schedule_init (&s, EPD_SCHEDULE_POLYNOMIAL);
  g_assert_false (epd_schedule_fit_model (&s, unet, TRUE, FALSE));
  g_assert_cmpfloat (s.sigma_min, ==, 0.002);
  wide = s;
  wide.sigma_max = 1000;
  g_assert_true (epd_schedule_fit_model (&wide, unet, TRUE, FALSE));
  g_assert_cmpfloat (wide.sigma_max, ==, hi);
  g_assert_false (epd_schedule_fit_model (&s, ring8, FALSE, FALSE));
  g_assert_cmpfloat (s.sigma_min, ==, 0.002);
  epd_schedule_init (&flow, EPD_SCHEDULE_FLOWMATCH);
  s = flow;
  g_assert_false (epd_schedule_fit_model (&flow, unet, FALSE, FALSE));
  g_assert_cmpmem (&flow, sizeof flow, &s, sizeof s);
}

/* The editor starts from the distilled table, Compare's B from the RDPO one
 * where both fit (the shipped Fashion-MNIST pair, on the tables' own grid);
 * without an RDPO table the distilled one is the answer either way. */
static void
test_shipped_preferring (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) distilled = epd_table_load ("builtin:fashion-mnist-epd-nfe5", &error);
  g_autoptr(EpdTable) ring = NULL;
  EpdSolverKind solver;

  g_assert_no_error (error);
  g_assert_false (epd_table_is_rdpo (distilled));
  g_assert_true (epd_solver_kind_from_string (distilled->solver, &solver, NULL));
  for (guint rdpo = 0; rdpo < 2; rdpo++)
    {
      g_autofree char *name = NULL;
      g_autoptr(EpdTable) found = epd_find_shipped_table_preferring ("unet:fashion-mnist", solver, distilled->steps,
                                                                     distilled->n_points, distilled->afs,
                                                                     &distilled->schedule, rdpo, &name);
      g_assert_nonnull (found);
      g_assert_cmpstr (name, ==, rdpo ? "builtin:fashion-mnist-epd-nfe5-rdpo" : "builtin:fashion-mnist-epd-nfe5");
      g_assert_true (!epd_table_is_rdpo (found) == !rdpo);
    }
  ring = epd_table_load ("builtin:ring8-epd-nfe5", &error);
  g_assert_no_error (error);
  for (guint rdpo = 0; rdpo < 2; rdpo++)
    {
      g_autofree char *name = NULL;
      g_autoptr(EpdTable) found = epd_find_shipped_table_preferring ("gmm:ring8", EPD_SOLVER_EPD, ring->steps,
                                                                     ring->n_points, ring->afs, &ring->schedule,
                                                                     rdpo, &name);
      g_assert_cmpstr (name, ==, "builtin:ring8-epd-nfe5");
    }
}

/* The studio's reference: exact on small models, looser where evaluations cost. */
static void
test_studio_teacher_rtol (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) ring8 = epd_model_from_spec ("gmm:ring8", &error);
  g_autoptr(EpdDenoiser) images = epd_model_from_spec ("dataset:fashion-mnist:64", &error);
  g_autoptr(EpdDenoiser) unet = epd_model_from_spec ("unet:fashion-mnist", &error);

  g_assert_no_error (error);
  g_assert_cmpfloat (epd_studio_teacher_rtol (ring8, 1e-8), ==, 1e-8);
  g_assert_cmpfloat (epd_studio_teacher_rtol (images, 1e-8), ==, 1e-5);
  g_assert_cmpfloat (epd_studio_teacher_rtol (unet, 1e-8), ==, 1e-3);
  /* A looser tolerance asked for stays. */
  g_assert_cmpfloat (epd_studio_teacher_rtol (unet, 1e-2), ==, 1e-2);
}

static void
test_number_list (void)
{
  const char *bad[] = { "", "0", "1001", "3,,5", "3;5", "-1", "2x", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = epd_parse_number_list ("nfe", " 3, 5,1000 ", EPD_NFE_MIN, EPD_NFE_MAX, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpuint (g_array_index (list, guint, 0), ==, 3);
  g_assert_cmpuint (g_array_index (list, guint, 1), ==, 5);
  g_assert_cmpuint (g_array_index (list, guint, 2), ==, 1000);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) bad_error = NULL;
      g_autoptr(GArray) none = epd_parse_number_list ("nfe", bad[i], EPD_NFE_MIN, EPD_NFE_MAX, &bad_error);

      g_assert_null (none);
      g_assert_error (bad_error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_true (g_str_has_prefix (bad_error->message, "--nfe "));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app-policy/shipped-table", test_shipped_table);
  g_test_add_func ("/app-policy/default-reward", test_default_reward);
  g_test_add_func ("/app-policy/default-reward-images", test_default_reward_images);
  g_test_add_func ("/app-policy/number-list", test_number_list);
  g_test_add_func ("/app-policy/shipped-preferring", test_shipped_preferring);
  g_test_add_func ("/app-policy/schedule-fit-model", test_schedule_fit_model);
  g_test_add_func ("/app-policy/studio-teacher-rtol", test_studio_teacher_rtol);
  return g_test_run ();
}
