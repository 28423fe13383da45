/* SPDX-License-Identifier: MIT */
/* epd-test-cli.c: runs the built `epd` as a user runs it, for the CLI tests. */
#include "epd-test-cli.h"

#include <sys/wait.h>

void
epd_test_run_clear (EpdTestRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

/* app/epd under EPD_BUILD_ROOT (set by tests/meson.build), else next to the test's folder. */
char *
epd_test_cli_path (void)
{
  const char *root = g_getenv ("EPD_BUILD_ROOT");

  return g_build_filename (root ? root : "..", "app", "epd", NULL);
}

/* Runs `epd ARGS...` (args NULL-terminated); extra_env (may be NULL) holds
 * KEY=VALUE strings set on top of the test's own environment. */
void
epd_test_cli_runv (EpdTestRun         *run,
                   const char * const *extra_env,
                   const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) envp = NULL;
  g_autoptr(GError) error = NULL;
  int wait_status;

  g_ptr_array_add (argv, epd_test_cli_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  if (extra_env != NULL)
    {
      envp = g_get_environ ();
      for (guint i = 0; extra_env[i] != NULL; i++)
        {
          g_auto(GStrv) pair = g_strsplit (extra_env[i], "=", 2);

          g_assert_nonnull (pair[1]);
          envp = g_environ_setenv (envp, pair[0], pair[1], TRUE);
        }
    }
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &run->out, &run->err, &wait_status, &error));
  g_assert_no_error (error);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

/* Runs `epd FIRST_ARG REST...`, REST being NULL-terminated. */
void
epd_test_cli_run_valist (EpdTestRun         *run,
                         const char * const *extra_env,
                         const char         *first_arg,
                         va_list             rest)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;

  g_ptr_array_add (args, (gpointer) first_arg);
  while ((arg = va_arg (rest, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  g_ptr_array_add (args, NULL);
  epd_test_cli_runv (run, extra_env, (const char * const *) args->pdata);
}

void
epd_test_cli_run (EpdTestRun         *run,
                  const char * const *extra_env,
                  const char         *first_arg,
                  ...)
{
  va_list ap;

  va_start (ap, first_arg);
  epd_test_cli_run_valist (run, extra_env, first_arg, ap);
  va_end (ap);
}
