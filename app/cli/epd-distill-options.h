/* SPDX-License-Identifier: MIT */
/* epd-distill-options.h: the distillation options that `epd distill` and
 * `epd compare --protocol` share (defined in epd-cmd-distill.c), so that their
 * names, help and defaults cannot drift apart. */
#pragma once

#include <gio/gio.h>

#include "epd-distill.h"

G_BEGIN_DECLS

typedef struct
{
  int    n_train;
  int    n_val;
  int    batch;
  int    iters;
  int    max_order;
  double lr;
  double lr_final;    /* NaN: the default, or lr when lr is lower */
  double scale_dir;
  double scale_time;
  double rtol;
  int    teacher_heun;
  EpdDistillLoss loss;
  int    final_iters;
  int    final_train;
  int    final_batch;
  double final_lr;
  int    final_patience;
  int    threads;
} EpdCliDistillArgs;

/* The command's main option group: its own entries (NULL-terminated, may be
 * NULL), then --train --val --batch --iters --lr --lr-final --max-order
 * --scale-dir --scale-time --teacher-rtol --teacher-heun --loss --final-iters --final-train
 * --final-batch --final-lr --final-patience --threads. Sets args to the defaults of
 * epd_distill_options_init(). Install it with g_option_context_set_main_group(). */
GOptionGroup *epd_cli_distill_group (EpdCliDistillArgs  *args,
                                     const GOptionEntry *command_entries);
/* Copies the parsed values into o (already initialised); fails on a negative or
 * zero count. o is validated later by epd_distill_options_validate(). */
gboolean      epd_cli_distill_apply (const EpdCliDistillArgs *args,
                                     EpdDistillOptions       *o,
                                     GError                 **error);
/* The command line as a shell would read it back (for the table's metadata);
 * call it before the options are parsed. */
char         *epd_cli_command_line  (int                      argc,
                                     char                   **argv);

G_END_DECLS
