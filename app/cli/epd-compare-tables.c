/* SPDX-License-Identifier: MIT */
/* epd-compare-tables.c: `epd compare --table A --table B`, two coefficient tables (e.g.
 * before and after RDPO) side by side on the same noises, with the teacher as a third
 * column: a text table of mean reward +- spread and diversity per column, and a figure
 * (--png): for image models rows of A | B | teacher with each image's reward under it,
 * for 2-D models three scatter plots over the true density. */
#include <math.h>

#include "epd-cli.h"
#include "epd-gmm.h"
#include "epd-model.h"
#include "epd-image-grid.h"
#include "epd-plot-samples.h"
#include "epd-diversity.h"
#include "epd-reward.h"

#define N_COLUMNS 3
#define TEACHER 2
#define PANEL_SIZE 380.0
#define CAPTION_HEIGHT 16.0
#define HEADER_HEIGHT 22.0
#define CELL_GAP 8.0
/* --batch not given: the default depends on the model. */
#define BATCH_UNSET G_MININT

typedef struct
{
  char   **tables;
  char    *model;
  char    *device;
  char    *reward;
  char    *png;
  int      seed;
  int      batch;
  int      scale;
  double   timeout;
} CompareArgs;

static void
compare_args_clear (CompareArgs *a)
{
  g_strfreev (a->tables);
  g_free (a->model);
  g_free (a->device);
  g_free (a->reward);
  g_free (a->png);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CompareArgs, compare_args_clear)

typedef struct
{
  char            *name;       /* shown in the table and figure */
  EpdTable        *table;      /* NULL for the teacher */
  EpdSolveOptions  options;
  EpdNfe           nfe;
  double          *x;          /* [batch][dim] final samples */
  double          *scores;     /* [batch] rewards */
  double           mean;
  double           spread;     /* standard deviation over the batch */
  double           diversity;  /* NAN when the model has none */
  double           within;     /* spread ratio to the data's, NAN when the model has none */
} Column;

typedef struct
{
  EpdDenoiser *sampler;        /* the model on the chosen device */
  EpdDenoiser *reference;      /* the same model on the CPU: exact rewards, mixture */
  EpdReward   *reward;
  char        *reward_spec;
  char        *diversity_note;  /* why there is no diversity, or NULL */
  char        *spread_note;     /* why there is no spread, or NULL */
  double       spread_reference; /* the data's spread statistic, NAN if unknown */
  guint        dim;
  gsize        batch;
  gboolean     is_image;
  guint        side;
  guint        channels;
  guint        scale;
  double      *z;
  Column       columns[N_COLUMNS];
} Compare;

static void
compare_clear (Compare *c)
{
  for (guint i = 0; i < N_COLUMNS; i++)
    {
      g_free (c->columns[i].name);
      g_clear_pointer (&c->columns[i].table, epd_table_free);
      g_free (c->columns[i].x);
      g_free (c->columns[i].scores);
    }
  g_clear_object (&c->sampler);
  g_clear_object (&c->reference);
  g_clear_pointer (&c->reward, epd_reward_free);
  g_free (c->reward_spec);
  g_free (c->diversity_note);
  g_free (c->spread_note);
  g_free (c->z);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Compare, compare_clear)

static gboolean
parse_args (CompareArgs *a,
            int         *argc,
            char      ***argv,
            GError     **error)
{
  const GOptionEntry entries[] = {
    { "table", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a->tables, "a table (JSON or .npz); give exactly two", "FILE" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a->model, "model spec (default " EPD_DEFAULT_MODEL ")", "SPEC" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &a->seed, "noise seed shared by all columns (default 0)", "S" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &a->batch, "samples per column, >= 1 (default 8 images, 500 points)", "B" },
    { "reward", 'r', 0, G_OPTION_ARG_STRING, &a->reward,
      "reward spec (default logdensity for mixtures, classifier for Fashion-MNIST, else teacher)", "SPEC" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &a->device, "auto, cpu, vulkan, INDEX or NAME (default auto)", "D" },
    { "png", 'o', 0, G_OPTION_ARG_FILENAME, &a->png, "write the figure (.png, .svg or .pdf)", "FILE" },
    { "scale", 0, 0, G_OPTION_ARG_INT, &a->scale, "pixels per image pixel in the figure (default 3)", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &a->timeout, "seconds allowed to a command: reward (default 60)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("--table A.json --table B.json");

  g_option_context_set_summary (context,
    "Sample two EPD tables on the same noises, with the teacher as a third column,\n"
    "and report each column's reward (mean +- standard deviation), mode or class\n"
    "coverage (normalised histogram entropy) and spread (within-mode distance, or\n"
    "mean pairwise pixel distance, over the same for exact samples of the data:\n"
    "1 the data's spread, < 1 samples collapsing).");
  g_option_context_add_main_entries (context, entries, NULL);
  a->seed = 0;
  a->batch = BATCH_UNSET;
  a->scale = 3;
  a->timeout = 60;
  if (!epd_cli_parse (context, argc, argv, error))
    return FALSE;
  if (a->tables == NULL || g_strv_length (a->tables) != 2 || (a->batch != BATCH_UNSET && a->batch < 1) || a->scale < 1 ||
      a->scale > 16 || !(a->timeout > 0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "need exactly two --table options, --batch >= 1, --scale in 1..16 and a positive --timeout");
      return FALSE;
    }
  return TRUE;
}

static gboolean
column_from_table (Column     *column,
                   const char *path,
                   GError    **error)
{
  g_autofree char *base = g_path_get_basename (path);
  EpdSolverKind kind;

  column->table = epd_table_load (path, error);
  if (column->table == NULL || !epd_solver_kind_from_string (column->table->solver, &kind, error))
    return FALSE;
  column->name = g_strdup (base);
  epd_solve_options_init (&column->options);
  column->options.solver = kind;
  column->options.steps = column->table->steps;
  column->options.schedule = column->table->schedule;
  column->options.table = column->table;
  column->options.afs = column->table->afs;
  column->options.max_order = column->table->max_order;
  return TRUE;
}

/* "A: name" and "B: name", so that two tables with one file name stay apart. */
static void
label_columns (Compare *c)
{
  for (guint i = 0; i < 2; i++)
    {
      char *label = g_strdup_printf ("%c: %s", 'A' + i, c->columns[i].name);

      g_free (c->columns[i].name);
      c->columns[i].name = label;
    }
}

static gboolean
open_models (Compare           *c,
             const CompareArgs *a,
             GError           **error)
{
  const char *spec = a->model ? a->model : EPD_DEFAULT_MODEL;

  c->sampler = epd_cli_open_model (spec, a->device, error);
  if (c->sampler == NULL)
    return FALSE;
  /* Rewards, the teacher, diversity and spread run on the exact CPU model, whatever device samples. */
  c->reference = epd_reward_open_cpu_model (c->sampler, spec, error);
  if (c->reference == NULL)
    return FALSE;
  c->dim = epd_denoiser_get_dim (c->sampler);
  c->is_image = epd_denoiser_get_image_shape (c->sampler, &c->side, &c->channels);
  c->batch = a->batch != BATCH_UNSET ? (gsize) a->batch : (c->is_image ? 8 : 500);
  c->scale = (guint) a->scale;
  return TRUE;
}

static gboolean
schedules_equal (const EpdSchedule *a,
                 const EpdSchedule *b)
{
  return a->kind == b->kind && a->sigma_min == b->sigma_min && a->sigma_max == b->sigma_max &&
         a->rho == b->rho && a->shift == b->shift;
}

static gboolean
setup (Compare           *c,
       const CompareArgs *a,
       GError           **error)
{
  EpdRewardContext context = { NULL, NULL, a->timeout };
  g_autoptr(GError) spread_error = NULL;

  if (!open_models (c, a, error) ||
      !column_from_table (&c->columns[0], a->tables[0], error) ||
      !column_from_table (&c->columns[1], a->tables[1], error))
    return FALSE;
  c->columns[TEACHER].name = g_strdup ("teacher");
  label_columns (c);
  c->columns[TEACHER].options = c->columns[0].options;
  c->columns[TEACHER].options.solver = EPD_SOLVER_TEACHER;
  c->columns[TEACHER].options.table = NULL;
  if (!schedules_equal (&c->columns[0].table->schedule, &c->columns[1].table->schedule))
    g_printerr ("epd: the tables' schedules differ; the teacher follows %s's\n", c->columns[0].name);
  c->reward_spec = g_strdup (a->reward ? a->reward : epd_default_reward (c->reference));
  context.model = c->reference;
  context.solve = &c->columns[0].options;
  c->reward = epd_reward_parse (c->reward_spec, &context, error);
  c->z = epd_random_latents ((guint32) a->seed, c->batch, c->dim);
  if (c->reward == NULL)
    return FALSE;
  if (!epd_diversity_spread_reference (c->reference, &c->spread_reference, &spread_error))
    {
      c->spread_reference = NAN;
      c->spread_note = g_strdup (spread_error->message);
    }
  return TRUE;
}

static void
column_stats (Column *column,
              gsize   batch)
{
  double sum = 0.0, sum_sq = 0.0;

  for (gsize b = 0; b < batch; b++)
    sum += column->scores[b];
  column->mean = sum / batch;
  for (gsize b = 0; b < batch; b++)
    sum_sq += (column->scores[b] - column->mean) * (column->scores[b] - column->mean);
  column->spread = batch > 1 ? sqrt (sum_sq / (batch - 1)) : 0.0;
}

static gboolean
run_column (Compare *c,
            Column  *column,
            GError **error)
{
  EpdDenoiser *model = column->table ? c->sampler : c->reference;
  g_autofree double *x_init = g_new (double, c->batch * c->dim);
  g_autoptr(GError) diversity_error = NULL;
  g_autoptr(GError) spread_error = NULL;

  g_printerr ("epd: sampling %s...\n", column->name);
  column->x = g_new (double, c->batch * c->dim);
  column->scores = g_new (double, c->batch);
  epd_solve_init_from_noise (&column->options, c->z, c->batch * c->dim, x_init);
  if (!epd_solve (model, &column->options, x_init, c->batch, column->x, NULL, &column->nfe, NULL, error) ||
      !epd_reward_score (c->reward, column->x, c->z, c->batch, column->scores, NULL, NULL, error))
    {
      g_prefix_error (error, "%s: ", column->name);
      return FALSE;
    }
  column_stats (column, c->batch);
  if (!epd_diversity_measure (c->reference, column->x, c->batch, &column->diversity, &diversity_error))
    {
      column->diversity = NAN;
      if (c->diversity_note == NULL)
        c->diversity_note = g_strdup (diversity_error->message);
    }
  column->within = NAN;
  if (c->spread_note == NULL
      && !epd_diversity_spread (c->reference, column->x, c->batch, c->spread_reference, &column->within,
                                &spread_error))
    c->spread_note = g_strdup (spread_error->message);
  return TRUE;
}

static void
print_report (const Compare *c)
{
  const Column *a = &c->columns[0], *b = &c->columns[1];
  const char *pm = epd_cli_plus_minus ();
  g_autofree char *reward_title = g_strdup_printf ("reward (mean %s std)", pm);
  double diff_sum = 0.0, diff_sq = 0.0, diff_mean, diff_se;

  g_print ("model %s, %" G_GSIZE_FORMAT " samples per column, reward %s\n",
           epd_denoiser_describe (c->reference), c->batch, c->reward_spec);
  /* Coverage: entropy of the mode (or class) histogram; spread: within-mode (or
   * pixel) spread over the data's, 1 the right spread, < 1 collapse. */
  g_print ("%-32s %8s %24s %10s %8s\n", "column", "NFE", reward_title, "coverage", "spread");
  for (guint i = 0; i < N_COLUMNS; i++)
    {
      const Column *col = &c->columns[i];
      g_autofree char *nfe = i == TEACHER ? g_strdup ("adapt.") : g_strdup_printf ("%u", col->nfe.latency);
      g_autofree char *reward = g_strdup_printf ("%.4f %s %.4f", col->mean, pm, col->spread);
      g_autofree char *diversity = isnan (col->diversity) ? g_strdup ("n/a")
                                                          : g_strdup_printf ("%.3f", col->diversity);
      g_autofree char *within = isnan (col->within) ? g_strdup ("n/a") : g_strdup_printf ("%.3f", col->within);

      g_print ("%-32s %8s %24s %10s %8s\n", col->name, nfe, reward, diversity, within);
    }
  if (c->diversity_note != NULL)
    g_print ("no coverage: %s\n", c->diversity_note);
  if (c->spread_note != NULL)
    g_print ("no spread: %s\n", c->spread_note);
  /* Same noises in both columns: the paired difference is the fair comparison. */
  for (gsize i = 0; i < c->batch; i++)
    diff_sum += b->scores[i] - a->scores[i];
  diff_mean = diff_sum / c->batch;
  for (gsize i = 0; i < c->batch; i++)
    diff_sq += pow (b->scores[i] - a->scores[i] - diff_mean, 2);
  diff_se = c->batch > 1 ? sqrt (diff_sq / (c->batch - 1) / c->batch) : 0.0;
  g_print ("paired difference B - A: %+.4f %s %.4f (standard error)\n", diff_mean, pm, diff_se);
}

/* ---- the figure ---- */

static void
draw_text (cairo_t    *cr,
           const char *text,
           double      cx,
           double      y,
           double      size,
           gboolean    bold)
{
  cairo_text_extents_t ext;

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_text_extents (cr, text, &ext);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, cx - ext.width / 2 - ext.x_bearing, y - ext.y_bearing);
  cairo_show_text (cr, text);
}

static double
title_width (const char *text)
{
  cairo_surface_t *scratch = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cairo_t *cr = cairo_create (scratch);
  cairo_text_extents_t ext;

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 11);
  cairo_text_extents (cr, text, &ext);
  cairo_destroy (cr);
  cairo_surface_destroy (scratch);
  return ext.x_advance;
}

/* Wide enough for the image, its caption and the longest column title. */
static double
cell_width (const Compare *c)
{
  double width = MAX (c->side * c->scale + 4.0, 90.0);

  for (guint i = 0; i < N_COLUMNS; i++)
    width = MAX (width, title_width (c->columns[i].name) + 8.0);
  return width;
}

static double
cell_height (const Compare *c)
{
  return c->side * c->scale + 4.0 + CAPTION_HEIGHT;
}

static void
draw_image_cell (cairo_t       *cr,
                 const Compare *c,
                 const Column  *column,
                 gsize          row,
                 double         width,
                 double         left,
                 double         top)
{
  cairo_surface_t *image = epd_image_grid_render (column->x + row * c->dim, 1, c->side, c->channels,
                                                  1, c->scale, NULL);
  g_autofree char *caption = g_strdup_printf ("%.3f", column->scores[row]);

  if (image != NULL)
    {
      double w = cairo_image_surface_get_width (image);

      cairo_set_source_surface (cr, image, left + (width - w) / 2, top);
      cairo_paint (cr);
      cairo_surface_destroy (image);
    }
  draw_text (cr, caption, left + width / 2, top + c->side * c->scale + 6.0, 10, FALSE);
}

static void
draw_image_figure (cairo_t  *cr,
                   double    width,
                   double    height,
                   gpointer  user_data)
{
  const Compare *c = user_data;
  double cell = cell_width (c), cw = cell + CELL_GAP;

  for (guint i = 0; i < N_COLUMNS; i++)
    {
      draw_text (cr, c->columns[i].name, CELL_GAP + i * cw + cell / 2, 4, 11, TRUE);
      for (gsize row = 0; row < c->batch; row++)
        draw_image_cell (cr, c, &c->columns[i], row, cell, CELL_GAP + i * cw,
                         HEADER_HEIGHT + row * cell_height (c));
    }
}

static void
draw_scatter_figure (cairo_t  *cr,
                     double    width,
                     double    height,
                     gpointer  user_data)
{
  const Compare *c = user_data;

  for (guint i = 0; i < N_COLUMNS; i++)
    {
      const Column *col = &c->columns[i];
      /* Cairo draws UTF-8 whatever the locale. */
      g_autofree char *title = g_strdup_printf ("%s: %s %.3f \u00b1 %.3f", col->name, c->reward_spec,
                                                col->mean, col->spread);
      EpdSamplesPlot plot;

      epd_samples_plot_init (&plot, EPD_IS_GMM (c->reference) ? EPD_GMM (c->reference) : NULL,
                             col->x, c->batch, c->dim);
      plot.title = title;
      plot.colour = i;
      cairo_save (cr);
      cairo_translate (cr, i * PANEL_SIZE, 0);
      epd_samples_plot_draw_figure (cr, PANEL_SIZE, PANEL_SIZE, &plot);
      cairo_restore (cr);
    }
}

static gboolean
write_figure (const Compare *c,
              const char    *path,
              GError       **error)
{
  if (c->is_image)
    return epd_plot_export (path, CELL_GAP + N_COLUMNS * (cell_width (c) + CELL_GAP),
                            HEADER_HEIGHT + c->batch * cell_height (c) + CELL_GAP,
                            draw_image_figure, (gpointer) c, error);
  if (c->dim < 2)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "a figure needs image samples or at least 2 dimensions, the model has %u", c->dim);
      return FALSE;
    }
  return epd_plot_export (path, N_COLUMNS * PANEL_SIZE, PANEL_SIZE, draw_scatter_figure,
                          (gpointer) c, error);
}

int
epd_compare_tables (int    argc,
                    char **argv)
{
  g_auto(CompareArgs) args = { 0 };
  g_auto(Compare) compare = { 0 };
  g_autoptr(GError) error = NULL;

  if (!parse_args (&args, &argc, &argv, &error) || !setup (&compare, &args, &error))
    return epd_cli_fail (error);
  for (guint i = 0; i < N_COLUMNS; i++)
    if (!run_column (&compare, &compare.columns[i], &error))
      return epd_cli_fail (error);
  print_report (&compare);
  if (args.png != NULL)
    {
      if (!write_figure (&compare, args.png, &error))
        return epd_cli_fail (error);
      g_print ("wrote %s\n", args.png);
    }
  return 0;
}
