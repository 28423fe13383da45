/* SPDX-License-Identifier: MIT */
/* epd-cli.h: the `epd` command-line tool's sub-commands and shared helpers. */
#pragma once

#include <gio/gio.h>

#include "epd.h"
#include "epd-app-policy.h"

G_BEGIN_DECLS

/* Each sub-command gets argv with argv[0] = "epd NAME" and returns the exit code. */
int epd_cmd_sample   (int argc, char **argv);
int epd_cmd_compare  (int argc, char **argv);
int epd_cmd_table    (int argc, char **argv);
int epd_cmd_devices  (int argc, char **argv);
int epd_cmd_bench    (int argc, char **argv);
int epd_cmd_distill  (int argc, char **argv);
int epd_cmd_rdpo     (int argc, char **argv);
int epd_cmd_classifier (int argc, char **argv);
int epd_cmd_fd       (int argc, char **argv);
int epd_cmd_eval     (int argc, char **argv);

/* `epd compare` has three modes, each in its own file:
 * solvers at equal NFE (default), the paper's protocol (--protocol),
 * and two tables side by side (--table A --table B). */
int epd_compare_solvers  (int argc, char **argv);
int epd_compare_protocol (int argc, char **argv);
int epd_compare_tables   (int argc, char **argv);

/* Prints "epd: error: MESSAGE" to stderr and returns 1 (or 2 for usage errors). */
int          epd_cli_fail          (GError       *error);
/* Parse a GOptionContext; on failure print the message and usage hint. */
gboolean     epd_cli_parse         (GOptionContext *context,
                                    int          *argc,
                                    char       ***argv,
                                    GError      **error);

/* Schedule options shared by every sampling command:
 * --schedule --sigma-min --sigma-max --rho --shift. A number is NAN until the
 * option is given; the parser rejects values that are not positive and finite,
 * so NAN always means "not given". */
typedef struct
{
  char   *schedule;
  double  sigma_min;
  double  sigma_max;
  double  rho;
  double  shift;
} EpdCliScheduleArgs;

GOptionGroup *epd_cli_schedule_group   (EpdCliScheduleArgs *args);
gboolean      epd_cli_schedule_resolve (const EpdCliScheduleArgs *args,
                                        EpdSchedule              *schedule,
                                        GError                  **error);
void          epd_cli_schedule_args_clear (EpdCliScheduleArgs *args);
/* A model with a trained sigma range (a diffusers UNet) sets the ends of a
 * sigma-based schedule that --sigma-min / --sigma-max left to their
 * defaults, and says so on stderr. Flow matching keeps its own. */
gboolean      epd_cli_schedule_fit_model  (const EpdCliScheduleArgs *args,
                                           EpdDenoiser              *model,
                                           EpdSchedule              *schedule,
                                           GError                  **error);

/* Options that `epd sample` and `epd compare` (solvers) share: --model,
 * --device, --seed, --batch, --points, --rtol. Numbers are kept as typed
 * (NULL: not given) and checked by epd_cli_solve_args_resolve, which fills
 * the defaults, so a bad value is an error rather than a silent default. */
typedef struct
{
  char    *model;
  char    *device;
  guint32  seed;
  guint    batch;
  guint    points;
  double   rtol;
  char    *seed_text;
  char    *batch_text;
  char    *points_text;
  char    *rtol_text;
  char    *batch_help;
  char    *rtol_help;
} EpdCliSolveArgs;

void          epd_cli_solve_args_add     (GOptionContext  *context,
                                          EpdCliSolveArgs *args,
                                          guint            default_batch,
                                          double           default_rtol);
gboolean      epd_cli_solve_args_resolve (EpdCliSolveArgs *args,
                                          GError         **error);
void          epd_cli_solve_args_clear   (EpdCliSolveArgs *args);

/* The solver options of a command that samples with one configuration (`epd sample`,
 * `epd fd`): --solver --steps --table --afs --max-order, the options of
 * EpdCliSolveArgs and the schedule group. A table's settings are used where it is
 * given; an option that disagrees with it is an error. */
typedef struct
{
  char    *solver;
  char    *steps_text;
  guint    steps;       /* 0: not given */
  char    *table;
  gboolean afs;
  char    *max_order_text;
  guint    max_order;   /* 0: not given */
  EpdCliSolveArgs    common;
  EpdCliScheduleArgs sched;
  EpdTable *loaded;     /* the --table, once resolved */
  EpdTable *uniform;    /* the uniform table an EPD solver uses without --table */
} EpdCliSamplingArgs;

void          epd_cli_sampling_add        (GOptionContext     *context,
                                           EpdCliSamplingArgs *args,
                                           guint               default_batch,
                                           double              default_rtol);
/* Checks the numbers, loads the table and fills o (which borrows args' tables). */
gboolean      epd_cli_sampling_resolve    (EpdCliSamplingArgs *args,
                                           EpdSolveOptions    *o,
                                           GError            **error);
void          epd_cli_sampling_args_clear (EpdCliSamplingArgs *args);
/* Without a table, sigma_min / sigma_max not given on the command line come from
 * the model's trained range (epd_cli_schedule_fit_model), as `epd sample` does. */
gboolean      epd_cli_sampling_fit_model  (const EpdCliSamplingArgs *args,
                                           EpdDenoiser              *denoiser,
                                           EpdSolveOptions          *o,
                                           GError                  **error);

/* Samples n images with o in chunks of chunk rows from the noise stream of seed
 * (so the images do not depend on the chunk size) into quality, an
 * EpdSampleQuality (rl/epd-sample-quality.h), and into keep [n][dim] unless it
 * is NULL. Ctrl-C stops it with an error. */
struct _EpdSampleQuality;
gboolean      epd_cli_sample_quality      (EpdDenoiser              *denoiser,
                                           const EpdSolveOptions    *o,
                                           guint32                   seed,
                                           gsize                     n,
                                           gsize                     chunk,
                                           struct _EpdSampleQuality *quality,
                                           double                   *keep,
                                           GError                  **error);

/* TEXT of OPTION (e.g. "--steps") as an integer in min..max, or a usage error
 * "--steps must be a positive integer (got 0)". */
gboolean      epd_cli_parse_uint         (const char  *option,
                                          const char  *text,
                                          guint        min,
                                          guint        max,
                                          guint       *value,
                                          GError     **error);
/* TEXT of OPTION as a positive finite number, or a usage error. */
gboolean      epd_cli_parse_positive     (const char  *option,
                                          const char  *text,
                                          double      *value,
                                          GError     **error);

/* Fails before a long solve rather than after it: PATH (given as OPTION) must
 * not be a folder, a symbolic link, a FIFO or a device, its folder must exist
 * and be writable, and where EXTENSION is not NULL (".png") the name must end
 * with it. */
gboolean      epd_cli_check_output       (const char  *option,
                                          const char  *path,
                                          const char  *extension,
                                          GError     **error);
/* Fails when two paths (either may be NULL) name the same file. */
gboolean      epd_cli_check_distinct     (const char  *option_a,
                                          const char  *path_a,
                                          const char  *option_b,
                                          const char  *path_b,
                                          GError     **error);

/* "±" where the locale's charset is UTF-8, else "+-" (g_print converts to the
 * locale's charset, and the C locale has no "±"). */
const char   *epd_cli_plus_minus         (void);
/* utf8 where the locale's charset is UTF-8, else its ASCII stand-in. */
const char   *epd_cli_symbol             (const char  *utf8,
                                          const char  *ascii);

/* Open a model spec (gmm:FILE.json, gmm:PRESET, dataset:fashion-mnist[:N],
 * dataset:DIR) on a device choice (auto|cpu|vulkan|INDEX|NAME). Prints to
 * stderr which device runs it, and any fallback notice. */
EpdDenoiser  *epd_cli_open_model       (const char  *spec,
                                        const char  *device,
                                        GError     **error);

/* Catches SIGINT and SIGTERM (epd-cli-interrupt.c) through GLib's Unix signal
 * sources on a thread of their own: the first sets a flag and cancels
 * epd_cli_interrupt_cancellable() -- and also_cancel, when not NULL -- instead
 * of killing the process, so long commands can write their best result before
 * exiting. A second signal ends the process at once. */
void          epd_cli_catch_interrupt  (GCancellable *also_cancel);
gboolean      epd_cli_interrupted      (void);
GCancellable *epd_cli_interrupt_cancellable (void);

G_END_DECLS
