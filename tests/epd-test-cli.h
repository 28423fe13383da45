/* SPDX-License-Identifier: MIT */
/* epd-test-cli.h: runs the built `epd` as a user runs it, for the CLI tests. */
#pragma once

#include <stdarg.h>

#include <glib.h>

G_BEGIN_DECLS

/* What one run of `epd` left: its exit code (-1 if it did not exit), stdout, stderr. */
typedef struct
{
  int   status;
  char *out;
  char *err;
} EpdTestRun;

void  epd_test_run_clear      (EpdTestRun         *run);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EpdTestRun, epd_test_run_clear)

char *epd_test_cli_path       (void);
void  epd_test_cli_runv       (EpdTestRun         *run,
                               const char * const *extra_env,
                               const char * const *args);
void  epd_test_cli_run_valist (EpdTestRun         *run,
                               const char * const *extra_env,
                               const char         *first_arg,
                               va_list             rest);
void  epd_test_cli_run        (EpdTestRun         *run,
                               const char * const *extra_env,
                               const char         *first_arg,
                               ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
