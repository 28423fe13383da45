/* SPDX-License-Identifier: MIT
 *
 * epd-app-policy.c: the choices the command line and the studio share. */
#include "epd-app-policy.h"

#include <math.h>

#include "epd-gmm.h"
#include "epd-vk-denoiser.h"

static gboolean
same_grid (const EpdSchedule *a,
           const EpdSchedule *b,
           guint              steps)
{
  g_autofree double *ga = epd_schedule_grid (a, steps, NULL);
  g_autofree double *gb = epd_schedule_grid (b, steps, NULL);

  if (ga == NULL || gb == NULL)
    return FALSE;
  for (guint i = 0; i <= steps; i++)
    if (fabs (ga[i] - gb[i]) > 1e-9 * MAX (fabs (ga[i]), fabs (gb[i])))
      return FALSE;
  return TRUE;
}

gboolean
epd_table_fits (const EpdTable    *table,
                const char        *model,
                EpdSolverKind      solver,
                guint              steps,
                guint              k,
                gboolean           afs,
                const EpdSchedule *schedule)
{
  return table != NULL &&
         g_strcmp0 (json_object_get_string_member_with_default (table->metadata, "model", NULL), model) == 0 &&
         g_strcmp0 (table->solver, epd_solver_kind_to_string (solver)) == 0 &&
         table->steps == steps && table->n_points == k && !table->afs == !afs &&
         same_grid (&table->schedule, schedule, steps);
}

EpdTable *
epd_find_shipped_table (const char        *model,
                        EpdSolverKind      solver,
                        guint              steps,
                        guint              k,
                        gboolean           afs,
                        const EpdSchedule *schedule,
                        char             **name)
{
  g_auto(GStrv) names = epd_table_builtin_names ();

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, names[i], NULL);
      /* A builtin that does not load (tests/data checks them all) matches nothing. */
      g_autoptr(EpdTable) table = epd_table_load (source, NULL);

      if (epd_table_fits (table, model, solver, steps, k, afs, schedule))
        {
          *name = g_steal_pointer (&source);
          return g_steal_pointer (&table);
        }
    }
  return NULL;
}

gboolean
epd_table_is_rdpo (const EpdTable *table)
{
  return g_str_has_prefix (json_object_get_string_member_with_default (table->metadata, "created_by", ""),
                           "epd rdpo");
}

EpdTable *
epd_find_shipped_table_preferring (const char        *model,
                                   EpdSolverKind      solver,
                                   guint              steps,
                                   guint              k,
                                   gboolean           afs,
                                   const EpdSchedule *schedule,
                                   gboolean           prefer_rdpo,
                                   char             **name)
{
  g_auto(GStrv) names = epd_table_builtin_names ();
  g_autoptr(EpdTable) other = NULL;
  g_autofree char *other_name = NULL;

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *source = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, names[i], NULL);
      /* A builtin that does not load (tests/data checks them all) matches nothing. */
      g_autoptr(EpdTable) table = epd_table_load (source, NULL);

      if (!epd_table_fits (table, model, solver, steps, k, afs, schedule))
        continue;
      if (!epd_table_is_rdpo (table) == !prefer_rdpo)
        {
          *name = g_steal_pointer (&source);
          return g_steal_pointer (&table);
        }
      if (other == NULL)
        {
          other = g_steal_pointer (&table);
          other_name = g_steal_pointer (&source);
        }
    }
  if (other != NULL)
    *name = g_steal_pointer (&other_name);
  return g_steal_pointer (&other);
}

gboolean
epd_schedule_fit_model (EpdSchedule *schedule,
                        EpdDenoiser *model,
                        gboolean     keep_min,
                        gboolean     keep_max)
{
  double lo, hi, old_min = schedule->sigma_min, old_max = schedule->sigma_max;

  if (epd_schedule_is_flow (schedule) || !epd_denoiser_get_sigma_range (model, &lo, &hi))
    return FALSE;
  if (!keep_min && schedule->sigma_min < lo)
    schedule->sigma_min = lo;
  if (!keep_max && schedule->sigma_max > hi)
    schedule->sigma_max = hi;
  /* A model trained on a range narrower than the grid's other end: keep the
   * schedule valid rather than inverting it. */
  if (!(schedule->sigma_min < schedule->sigma_max))
    {
      schedule->sigma_min = old_min;
      schedule->sigma_max = old_max;
      return FALSE;
    }
  return schedule->sigma_min != old_min || schedule->sigma_max != old_max;
}

double
epd_studio_teacher_rtol (EpdDenoiser *model,
                         double       rtol)
{
  double lo, hi;

  if (epd_denoiser_get_sigma_range (model, &lo, &hi))
    return MAX (rtol, 1e-3);
  if (epd_denoiser_get_dim (model) > 64)
    return MAX (rtol, 1e-5);
  return rtol;
}

const char *
epd_default_reward (EpdDenoiser *model)
{
  guint side, channels;

  if (EPD_IS_VK_DENOISER (model))
    model = epd_vk_denoiser_get_cpu (EPD_VK_DENOISER (model));
  if (EPD_IS_GMM (model))
    return "logdensity";
  if (epd_denoiser_get_image_shape (model, &side, &channels) && side == 28 && channels == 1)
    return "classifier";
  return "teacher";
}

GArray *
epd_parse_number_list (const char  *option,
                       const char  *text,
                       guint        min,
                       guint        max,
                       GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text != NULL ? text : "", ",", -1);
  g_autoptr(GArray) list = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, min, max, &v, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s expects numbers from %u to %u separated by commas (got '%s')",
                       option, min, max, text != NULL ? text : "");
          return NULL;
        }
      g_array_append_vals (list, &(guint) { (guint) v }, 1);
    }
  if (list->len == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--%s N[,N...] is required", option);
      return NULL;
    }
  return g_steal_pointer (&list);
}
