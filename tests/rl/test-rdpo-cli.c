/* SPDX-License-Identifier: MIT */
/* test-rdpo-cli.c: `epd rdpo` end to end -- errors, the log, resume, Ctrl-C. */
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "epd-test-cli.h"
#include "epd.h"

typedef struct
{
  char *dir;
  char *start;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("epd-rdpo-cli-XXXXXX", &error);
  g_assert_no_error (error);
  f->start = g_build_filename (f->dir, "start.json", NULL);
  start->afs = TRUE;
  g_assert_true (epd_table_save (start, f->start, &error));
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->start);
}

/* Runs `epd rdpo ARGS...` (NULL-terminated), hands back its stderr and returns its exit status. */
static int
run_rdpo (char **err, ...)
{
  g_auto(EpdTestRun) run = { 0 };
  va_list ap;

  va_start (ap, err);
  epd_test_cli_run_valist (&run, NULL, "rdpo", ap);
  va_end (ap);
  *err = g_steal_pointer (&run.err);
  return run.status;
}

static void
test_bad_arguments (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);

  g_assert_cmpint (run_rdpo (&err, "--reward", "logdensity", "--out", out, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "epd: error: --init"));
  g_assert_cmpint (run_rdpo (&err2, "--init", f->start, "--reward", "logdensity", "--out", out,
                             "--group", "1", NULL), ==, 2);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* A run of 6 iterations, and 3 + checkpoint + resume to 6, write the same
 * table and the same log (but for the elapsed times). */
static void
test_log_and_resume (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *log = g_build_filename (f->dir, "log.jsonl", NULL);
  g_autofree char *out2 = g_build_filename (f->dir, "out2.json", NULL);
  g_autofree char *log2 = g_build_filename (f->dir, "log2.jsonl", NULL);
  g_autofree char *ckpt = g_build_filename (f->dir, "ckpt.json", NULL);
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(EpdTable) a = NULL;
  g_autoptr(EpdTable) b = NULL;
  g_autoptr(GError) error = NULL;
  const char *common[] = { "--init", f->start, "--reward", "logdensity", "--val-every", "2",
                           "--val-seeds", "2", "--val-latents", "8" };

  g_assert_cmpint (run_rdpo (&e1, common[0], common[1], common[2], common[3], common[4], common[5],
                             common[6], common[7], common[8], common[9], "--iters", "6",
                             "--out", out, "--log", log, NULL), ==, 0);
  g_assert_cmpint (run_rdpo (&e2, common[0], common[1], common[2], common[3], common[4], common[5],
                             common[6], common[7], common[8], common[9], "--iters", "3",
                             "--out", out2, "--log", log2, "--checkpoint", ckpt, NULL), ==, 0);
  g_assert_cmpint (run_rdpo (&e3, common[0], common[1], common[2], common[3], common[4], common[5],
                             common[6], common[7], common[8], common[9], "--iters", "6",
                             "--out", out2, "--log", log2, "--resume", ckpt, NULL), ==, 0);
  a = epd_table_load (out, &error);
  g_assert_no_error (error);
  b = epd_table_load (out2, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (a->r, 6 * sizeof (double), b->r, 6 * sizeof (double));
  g_assert_cmpmem (a->weight, 6 * sizeof (double), b->weight, 6 * sizeof (double));
  text = read_text (log);
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 7);   /* 6 lines and the empty tail */
  g_assert_nonnull (strstr (lines[0], "\"mixed_reward_mean\""));
  g_assert_nonnull (strstr (lines[0], "\"logdensity_mean\""));
  g_assert_nonnull (strstr (lines[5], "\"step\":6"));
  {
    g_autofree char *text2 = read_text (log2);
    g_auto(GStrv) lines2 = g_strsplit (text2, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines2), ==, 7);
    for (guint i = 0; i < 6; i++)
      {
        /* Everything before "elapsed_sec" matches: losses, rewards, step. */
        const char *cut = strstr (lines[i], "\"elapsed_sec\"");

        g_assert_nonnull (cut);
        g_assert_cmpint (strncmp (lines[i], lines2[i], cut - lines[i]), ==, 0);
      }
  }
}

static gboolean
log_has_a_line (gpointer user_data)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (user_data, &text, NULL, NULL) && strchr (text, '\n') != NULL;
}

/* Ctrl-C stops the run, writes the best table and a checkpoint, exits 130. */
static void
test_interrupt (Fixture *f, gconstpointer data)
{
  g_autofree char *epd = epd_test_cli_path ();
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *log = g_build_filename (f->dir, "log.jsonl", NULL);
  g_autofree char *ckpt = g_build_filename (f->dir, "ckpt.json", NULL);
  const char *argv[] = { epd, "rdpo", "--init", f->start, "--reward", "logdensity", "--iters", "100000000",
                         "--out", out, "--log", log, "--checkpoint", ckpt, "--checkpoint-every", "0", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) table = NULL;
  GPid pid;
  int status;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 600 && !log_has_a_line (log); i++)
    g_usleep (50000);
  g_assert_true (log_has_a_line (log));
  kill (pid, SIGINT);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  table = epd_table_load (out, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR));
}

/* A scorer that answers 8 times, then prints "[[[[..." 200000 deep: a clear
 * error (not a crash in json-glib's recursive parser) in the middle of training,
 * and the best table so far is still written, marked as RDPO's with the start
 * table's metadata under "init" and the command line. */
static void
test_deep_scorer (Fixture      *f,
                  gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *script = g_build_filename (f->dir, "deep.sh", NULL);
  g_autofree char *text = g_strdup_printf (
    "n=$(cat '%s/count' 2>/dev/null || echo 0); echo $((n + 1)) > '%s/count'\n"
    "if [ \"$n\" -lt 8 ]; then echo '[0.5]'; else head -c 200000 /dev/zero | tr '\\000' '['; fi\n",
    f->dir, f->dir);
  g_autofree char *reward = g_strdup_printf ("command:sh '%s'", script);
  g_autofree char *err = NULL;
  g_autoptr(EpdTable) table = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  /* One sample per call: 1 before training, then 4 per iteration (start, 2 rollouts,
   * evaluation). Every size is given, so no warm-up runs. */
  status = run_rdpo (&err, "--init", f->start, "--iters", "5", "--val-every", "1", "--val-seeds", "1",
                     "--val-latents", "1", "--batch", "1", "--group", "2", "--latents", "1", "--out", out,
                     "--reward", reward, NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "epd: error: "));
  g_assert_nonnull (strstr (err, "nested deeper than"));
  g_assert_nonnull (strstr (err, "wrote the best table so far"));
  table = epd_table_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (table->metadata, "created_by"), ==, "epd rdpo (Stage 2)");
  g_assert_true (json_object_has_member (table->metadata, "init"));
  g_assert_nonnull (strstr (json_object_get_string_member (table->metadata, "command"), "--init"));
}

/* --timeout 0, -1 and nan silently became 60 s. */
static void
test_bad_timeout (Fixture *f, gconstpointer data)
{
  const char *bad[] = { "0", "-1", "nan", "inf" };
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *err = NULL;

      g_assert_cmpint (run_rdpo (&err, "--init", f->start, "--reward", "logdensity", "--iters", "1",
                                 "--out", out, "--timeout", bad[i], NULL), ==, 2);
      g_assert_nonnull (strstr (err, "epd: error: --timeout must be a positive number of seconds"));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

/* Outputs are checked before training: none may overwrite an input or
 * another output, be a folder, or be a symbolic link (an atomic write would
 * replace the link, not write through it). */
static void
test_outputs (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *ckpt = g_build_filename (f->dir, "ckpt.json", NULL);
  g_autofree char *link = g_build_filename (f->dir, "link.json", NULL);
  g_autofree char *start_text = read_text (f->start);
  const struct { const char *option, *path, *other_option, *other_path, *message; } cases[] = {
    { "--log", f->start, "--checkpoint", ckpt, "--log and --init are the same file" },
    { "--checkpoint", out, "--log", ckpt, "--out and --checkpoint are the same file" },
    { "--log", out, "--checkpoint", ckpt, "--out and --log are the same file" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      g_autofree char *after = NULL;

      g_assert_cmpint (run_rdpo (&err, "--init", f->start, "--reward", "logdensity", "--iters", "1",
                                 "--out", out, cases[i].option, cases[i].path,
                                 cases[i].other_option, cases[i].other_path, NULL), ==, 2);
      g_test_message ("%s", err);
      g_assert_nonnull (strstr (err, cases[i].message));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      after = read_text (f->start);
      g_assert_cmpstr (after, ==, start_text);
    }
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (run_rdpo (&err, "--init", f->start, "--reward", "logdensity", "--iters", "1",
                               "--out", f->dir, NULL), ==, 1);
    g_assert_nonnull (strstr (err, "is a folder, not a file"));
    g_assert_null (strstr (err, "iter "));
  }
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (symlink (ckpt, link), ==, 0);
    g_assert_cmpint (run_rdpo (&err, "--init", f->start, "--reward", "logdensity", "--iters", "1",
                               "--out", link, NULL), ==, 1);
    g_assert_nonnull (strstr (err, "is a symbolic link, not a regular file"));
    g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  }
}

/* Whether a live (not zombie) process of group pgid remains, after up to 2 s. */
static gboolean
group_lingers (long long pgid)
{
  for (guint tries = 0; tries < 200; tries++, g_usleep (10000))
    {
      g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      gboolean found = FALSE;

      while (proc != NULL && (name = g_dir_read_name (proc)) != NULL && !found)
        {
          g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
          g_autofree char *stat = NULL;
          const char *rest;
          long long group;
          char state;

          found = g_ascii_isdigit (name[0]) && g_file_get_contents (path, &stat, NULL, NULL) &&
                  (rest = strrchr (stat, ')')) != NULL && sscanf (rest, ") %c %*d %lld", &state, &group) == 2 &&
                  group == pgid && state != 'Z' && state != 'X';
        }
      if (!found)
        return FALSE;
    }
  return TRUE;
}

/* SIGTERM while the reward command scores the start table (before Ctrl-C
 * was caught): the scorer's group and its /tmp/epd-reward-* folder were left
 * behind and --out never written. */
static void
test_sigterm_scorer (Fixture *f, gconstpointer data)
{
  g_autofree char *epd = epd_test_cli_path ();
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *tmp = g_build_filename (f->dir, "tmp", NULL);
  g_autofree char *script = g_build_filename (f->dir, "slow.sh", NULL);
  g_autofree char *pgid_path = g_build_filename (f->dir, "pgid", NULL);
  g_autofree char *text = g_strdup_printf ("read -r _ _ _ _ group _ < /proc/$$/stat; echo \"$group\" > '%s'\n"
                                           "sleep 600\n", pgid_path);
  g_autofree char *reward = g_strdup_printf ("command:sh '%s'", script);
  const char *argv[] = { epd, "rdpo", "--init", f->start, "--reward", reward, "--iters", "3",
                         "--out", out, NULL };
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "TMPDIR", tmp, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) left = NULL;
  g_autofree char *pgid_text = NULL;
  GPid pid;
  int status;

  g_assert_cmpint (g_mkdir (tmp, 0700), ==, 0);
  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_true (g_spawn_async (NULL, (char **) argv, envp,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 600 && !g_file_test (pgid_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (50000);
  g_assert_true (g_file_get_contents (pgid_path, &pgid_text, NULL, NULL));
  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  left = g_dir_open (tmp, 0, NULL);
  g_assert_null (g_dir_read_name (left));
  g_assert_false (group_lingers (g_ascii_strtoll (pgid_text, NULL, 10)));
  g_rmdir (tmp);
}

/* Sizes not given come from the warm-up, which says what it chose; the table
 * records the sizes the run used, and a size given on the command line wins. */
static void
test_warmup_sizes (Fixture      *f,
                   gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out.json", NULL);
  g_autofree char *err = NULL, *err2 = NULL;
  g_autoptr(EpdTable) table = NULL, table2 = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *r;
  const char *chosen;
  guint latents = 0, group = 0, batch = 0, val_seeds = 0, val_latents = 0;

  g_assert_cmpint (run_rdpo (&err, "--init", f->start, "--reward", "logdensity", "--iters", "2",
                             "--out", out, NULL), ==, 0);
  chosen = strstr (err, "-> --latents");
  g_assert_nonnull (chosen);
  g_assert_cmpint (sscanf (chosen, "-> --latents %u --group %u --batch %u --val-seeds %u --val-latents %u",
                           &latents, &group, &batch, &val_seeds, &val_latents), ==, 5);
  g_assert_cmpuint (group, ==, 4);
  /* Powers of two in the rule's ranges, about 256 samples an iteration. */
  g_assert_cmpuint (latents & (latents - 1), ==, 0);
  g_assert_cmpuint (latents, >=, 4);
  g_assert_cmpuint (latents, <=, 64);
  g_assert_cmpuint (batch, ==, CLAMP (256 / (4 * latents), 2, 16));
  g_assert_cmpuint (val_seeds, ==, 16);
  table = epd_table_load (out, &error);
  g_assert_no_error (error);
  r = json_object_get_object_member (table->metadata, "rdpo");
  g_assert_cmpint (json_object_get_int_member (r, "latents"), ==, latents);
  g_assert_cmpint (json_object_get_int_member (r, "batch"), ==, batch);
  g_assert_cmpint (json_object_get_int_member (r, "val_seeds"), ==, val_seeds);
  g_assert_cmpint (json_object_get_int_member (r, "val_latents"), ==, val_latents);
  g_assert_cmpfloat (json_object_get_double_member (r, "kl_coef"), ==, 0.2);
  g_assert_cmpint (run_rdpo (&err2, "--init", f->start, "--reward", "logdensity", "--iters", "2",
                             "--latents", "2", "--out", out, NULL), ==, 0);
  g_assert_nonnull (strstr (err2, "-> --latents 2 "));
  table2 = epd_table_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (table2->metadata, "rdpo"),
                                               "latents"), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/rl/rdpo-cli/bad-arguments", Fixture, NULL, fixture_setup, test_bad_arguments, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/log-and-resume", Fixture, NULL, fixture_setup, test_log_and_resume, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/warmup-sizes", Fixture, NULL, fixture_setup, test_warmup_sizes, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/deep-scorer", Fixture, NULL, fixture_setup, test_deep_scorer, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/interrupt", Fixture, NULL, fixture_setup, test_interrupt, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/bad-timeout", Fixture, NULL, fixture_setup, test_bad_timeout, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/outputs", Fixture, NULL, fixture_setup, test_outputs, fixture_teardown);
  g_test_add ("/rl/rdpo-cli/sigterm-scorer", Fixture, NULL, fixture_setup, test_sigterm_scorer, fixture_teardown);
  return g_test_run ();
}
