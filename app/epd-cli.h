/* epd-cli.h: the `epd` command-line tool's sub-commands and shared helpers. */
#pragma once

#include <gio/gio.h>

#include "solver/epd.h"

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
 * --schedule --sigma-min --sigma-max --rho --shift. */
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

/* Open a model spec (gmm:FILE.json, gmm:PRESET, dataset:fashion-mnist[:N],
 * dataset:DIR) on a device choice (auto|cpu|vulkan|INDEX|NAME). Prints to
 * stderr which device runs it, and any fallback notice. */
EpdDenoiser  *epd_cli_open_model       (const char  *spec,
                                        const char  *device,
                                        GError     **error);

/* Installs a SIGINT handler that sets a flag instead of killing the process,
 * so long commands can write their best result before exiting. */
void          epd_cli_catch_interrupt  (void);
gboolean      epd_cli_interrupted      (void);

G_END_DECLS
