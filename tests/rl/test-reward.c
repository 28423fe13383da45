/* SPDX-License-Identifier: MIT */
/* test-reward.c: every reward term on inputs with known answers, the weighted sum,
 * spec errors, and the external-command protocol (success, bad output, wrong length,
 * non-finite scores, non-zero exit, timeout, clean-up). */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "epd-gmm.h"
#include "epd-classifier.h"
#include "epd-reward.h"

#define SIDE 28

/* A stand-in image model: 28x28 grey rows, D(x, s) = x / (1 + s^2). Only its shape
 * matters to image rewards. */
#define TEST_TYPE_IMAGE_MODEL (test_image_model_get_type ())
G_DECLARE_FINAL_TYPE (TestImageModel, test_image_model, TEST, IMAGE_MODEL, GObject)

struct _TestImageModel
{
  GObject parent_instance;
};

static guint
image_get_dim (EpdDenoiser *self)
{
  return SIDE * SIDE;
}

static gboolean
image_denoise (EpdDenoiser  *self,
               const double *x,
               const double *sigma,
               gsize         batch,
               double       *out,
               GError      **error)
{
  for (gsize b = 0; b < batch; b++)
    for (guint i = 0; i < SIDE * SIDE; i++)
      out[b * SIDE * SIDE + i] = x[b * SIDE * SIDE + i] / (1.0 + sigma[b] * sigma[b]);
  return TRUE;
}

static gboolean
image_get_shape (EpdDenoiser *self,
                 guint       *side,
                 guint       *channels)
{
  *side = SIDE;
  *channels = 1;
  return TRUE;
}

static void
test_image_model_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = image_get_dim;
  iface->denoise = image_denoise;
  iface->get_image_shape = image_get_shape;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestImageModel, test_image_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER, test_image_model_iface_init))

static void
test_image_model_class_init (TestImageModelClass *klass)
{
}

static void
test_image_model_init (TestImageModel *self)
{
}

/* A two-component 2-D mixture with different widths. */
static EpdGmm *
make_gmm (void)
{
  const double weights[] = { 0.3, 0.7 };
  const double means[] = { -1.0, 0.5, 2.0, -1.5 };
  const double stds[] = { 0.4, 0.9 };
  g_autoptr(GError) error = NULL;
  EpdGmm *gmm = epd_gmm_new (2, 2, weights, means, stds, "test", &error);

  g_assert_no_error (error);
  return gmm;
}

static EpdReward *
parse_ok (const char  *spec,
          EpdDenoiser *model,
          double       timeout_s)
{
  EpdRewardContext context = { model, NULL, timeout_s };
  g_autoptr(GError) error = NULL;
  EpdReward *reward = epd_reward_parse (spec, &context, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reward);
  return reward;
}

static void
test_logdensity (void)
{
  g_autoptr(EpdGmm) gmm = make_gmm ();
  g_autoptr(EpdReward) reward = parse_ok ("logdensity", EPD_DENOISER (gmm), 0);
  const double x[] = { -1.0, 0.5, 0.3, 0.2, 5.0, -4.0 };
  double scores[3], terms[3];
  g_autoptr(GError) error = NULL;

  g_assert_true (epd_reward_score (reward, x, NULL, 3, scores, terms, NULL, &error));
  g_assert_no_error (error);
  for (guint b = 0; b < 3; b++)
    {
      /* Closed form: log sum_k w_k N(x; mu_k, s_k^2 I) in 2-D. */
      double d0 = pow (x[2 * b] + 1.0, 2) + pow (x[2 * b + 1] - 0.5, 2);
      double d1 = pow (x[2 * b] - 2.0, 2) + pow (x[2 * b + 1] + 1.5, 2);
      double p = 0.3 * exp (-d0 / (2 * 0.16)) / (2 * G_PI * 0.16) +
                 0.7 * exp (-d1 / (2 * 0.81)) / (2 * G_PI * 0.81);

      g_assert_cmpfloat_with_epsilon (scores[b], log (p), 1e-10);
      g_assert_cmpfloat (terms[b], ==, scores[b]);
    }
  g_assert_cmpuint (epd_reward_n_terms (reward), ==, 1);
  g_assert_cmpstr (epd_reward_term_name (reward, 0), ==, "logdensity");
}

static void
test_teacher (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("ring8", NULL);
  EpdSolveOptions options;
  EpdRewardContext context = { EPD_DENOISER (gmm), &options, 0 };
  g_autoptr(EpdReward) reward = NULL;
  g_autofree double *z = epd_random_latents (11, 4, 2);
  double x_init[8], x_teacher[8], scores[4];
  g_autoptr(GError) error = NULL;

  epd_solve_options_init (&options);
  options.solver = EPD_SOLVER_EULER;  /* the reward must switch to the teacher itself */
  options.steps = 5;
  reward = epd_reward_parse ("teacher", &context, &error);
  g_assert_no_error (error);
  options.solver = EPD_SOLVER_TEACHER;
  epd_solve_init_from_noise (&options, z, 8, x_init);
  g_assert_true (epd_solve (EPD_DENOISER (gmm), &options, x_init, 4, x_teacher, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (epd_reward_score (reward, x_teacher, z, 4, scores, NULL, NULL, &error));
  for (guint b = 0; b < 4; b++)
    g_assert_cmpfloat (fabs (scores[b]), <, 1e-9);
  /* Moving a sample by (0.3, 0.4) costs exactly its length 0.5. */
  x_teacher[0] += 0.3;
  x_teacher[1] += 0.4;
  g_assert_true (epd_reward_score (reward, x_teacher, z, 4, scores, NULL, NULL, &error));
  g_assert_cmpfloat_with_epsilon (scores[0], -0.5, 1e-9);
  /* Without the noise it cannot know the teacher's sample. */
  g_assert_false (epd_reward_score (reward, x_teacher, NULL, 4, scores, NULL, NULL, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

static void
fill_edge (double *image,
           double  blur)
{
  for (guint r = 0; r < SIDE; r++)
    for (guint c = 0; c < SIDE; c++)
      image[r * SIDE + c] = blur > 0 ? tanh ((c - 13.5) / blur) : (c < 14 ? -1.0 : 1.0);
}

static void
test_sharpness (void)
{
  g_autoptr(TestImageModel) model = g_object_new (TEST_TYPE_IMAGE_MODEL, NULL);
  g_autoptr(EpdReward) reward = parse_ok ("sharpness", EPD_DENOISER (model), 0);
  g_autofree double *x = g_new (double, 3 * SIDE * SIDE);
  double scores[3];
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < SIDE * SIDE; i++)
    x[i] = 0.25;
  fill_edge (x + SIDE * SIDE, 0);
  fill_edge (x + 2 * SIDE * SIDE, 3.0);
  g_assert_true (epd_reward_score (reward, x, NULL, 3, scores, NULL, NULL, &error));
  g_assert_cmpfloat (scores[0], ==, 0.0);
  /* A step from 0 to 1 in luma: each interior row has Laplacians +1 and -1 and 24 zeros,
   * so the variance is 2/26. */
  g_assert_cmpfloat_with_epsilon (scores[1], 2.0 / 26.0, 1e-12);
  g_assert_cmpfloat (scores[2], >, 0.0);
  g_assert_cmpfloat (scores[2], <, scores[1] / 10);
}

static void
test_classifier (void)
{
  g_autoptr(TestImageModel) model = g_object_new (TEST_TYPE_IMAGE_MODEL, NULL);
  g_autoptr(EpdClassifier) classifier = epd_classifier_new (SIDE * SIDE, 8, 10, 3);
  g_autofree char *dir = g_dir_make_tmp ("epd-test-reward-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.clf", NULL);
  g_autofree char *spec = g_strdup_printf ("classifier:%s=2", path);
  g_autoptr(EpdReward) reward = NULL;
  g_autofree double *x = g_new (double, 2 * SIDE * SIDE);
  double scores[2], probs[20];
  g_autoptr(GError) error = NULL;

  g_assert_true (epd_classifier_save (classifier, path, &error));
  reward = parse_ok (spec, EPD_DENOISER (model), 0);
  g_assert_cmpfloat (epd_reward_term_weight (reward, 0), ==, 2.0);
  for (guint i = 0; i < 2 * SIDE * SIDE; i++)
    x[i] = sin (0.37 * i);
  g_assert_true (epd_reward_score (reward, x, NULL, 2, scores, NULL, NULL, &error));
  epd_classifier_predict (classifier, x, 2, probs);
  for (guint b = 0; b < 2; b++)
    {
      double best = 0.0;

      for (guint c = 0; c < 10; c++)
        best = MAX (best, probs[b * 10 + c]);
      g_assert_cmpfloat (best, >, 0.1);
      g_assert_cmpfloat_with_epsilon (scores[b], 2.0 * best, 1e-12);
    }
  g_unlink (path);
  g_rmdir (dir);
}

static void
assert_parse_fails (const char  *spec,
                    EpdDenoiser *model,
                    gint         code)
{
  EpdRewardContext context = { model, NULL, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdReward) reward = epd_reward_parse (spec, &context, &error);

  g_assert_null (reward);
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("%s -> %s", spec, error->message);
}

static void
test_spec_errors (void)
{
  g_autoptr(EpdGmm) gmm = make_gmm ();
  g_autoptr(TestImageModel) image = g_object_new (TEST_TYPE_IMAGE_MODEL, NULL);

  assert_parse_fails ("", EPD_DENOISER (gmm), EPD_ERROR_INVALID);
  assert_parse_fails ("beauty", EPD_DENOISER (gmm), EPD_ERROR_INVALID);
  assert_parse_fails ("logdensity=abc", EPD_DENOISER (gmm), EPD_ERROR_INVALID);
  assert_parse_fails ("logdensity=inf", EPD_DENOISER (gmm), EPD_ERROR_INVALID);
  assert_parse_fails ("command:", EPD_DENOISER (gmm), EPD_ERROR_INVALID);
  assert_parse_fails ("logdensity", EPD_DENOISER (image), EPD_ERROR_UNSUPPORTED);
  assert_parse_fails ("sharpness", EPD_DENOISER (gmm), EPD_ERROR_UNSUPPORTED);
  assert_parse_fails ("classifier", EPD_DENOISER (gmm), EPD_ERROR_UNSUPPORTED);
  assert_parse_fails ("classifier:/nonexistent/c.clf", EPD_DENOISER (image), EPD_ERROR_IO);
}

/* ---- command: ---- */

typedef struct
{
  char *dir;
} CommandFixture;

static void
command_setup (CommandFixture *f,
               gconstpointer   data)
{
  f->dir = g_dir_make_tmp ("epd-test-cmd-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
command_teardown (CommandFixture *f,
                  gconstpointer   data)
{
  const char *names[] = { "score.sh", "seen-dir", "pgid", "late", NULL };

  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *path = g_build_filename (f->dir, names[i], NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* Writes the script and returns "command:sh SCRIPT". */
static char *
write_script (CommandFixture *f,
              const char     *body)
{
  g_autofree char *path = g_build_filename (f->dir, "score.sh", NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\necho \"$1\" > '%s/seen-dir'\n%s\n", f->dir, body);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return g_strdup_printf ("command:sh '%s'", path);
}

/* The folder the script was given must exist no more. */
static void
assert_cleaned (CommandFixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "seen-dir", NULL);
  g_autofree char *seen = NULL;

  g_assert_true (g_file_get_contents (path, &seen, NULL, NULL));
  g_strstrip (seen);
  g_assert_cmpstr (seen, !=, "");
  g_assert_false (g_file_test (seen, G_FILE_TEST_EXISTS));
}

static gboolean
score_with (CommandFixture *f,
            const char     *body,
            EpdDenoiser    *model,
            double          timeout_s,
            gsize           batch,
            double         *scores,
            GError        **error)
{
  g_autofree char *spec = write_script (f, body);
  g_autoptr(EpdReward) reward = parse_ok (spec, model, timeout_s);
  g_autofree double *x = g_new0 (double, batch * epd_denoiser_get_dim (model));
  gboolean ok;

  for (gsize i = 0; i < batch * epd_denoiser_get_dim (model); i++)
    x[i] = cos (0.1 * i);
  ok = epd_reward_score (reward, x, NULL, batch, scores, NULL, NULL, error);
  assert_cleaned (f);
  return ok;
}

/* Scores each PNG by its index after checking the manifest names it. */
static const char SCORE_IMAGES[] =
  "cd \"$1\" || exit 9\n"
  "n=0; out='['\n"
  "for f in img-*.png; do\n"
  "  grep -q \"\\\"file\\\" *: *\\\"$f\\\"\" manifest.json || exit 8\n"
  "  [ $n -gt 0 ] && out=\"$out,\"; out=\"$out$n.5\"; n=$((n+1))\n"
  "done\n"
  "echo \"$out]\"";

static void
test_command_success (CommandFixture *f,
                      gconstpointer   data)
{
  g_autoptr(TestImageModel) model = g_object_new (TEST_TYPE_IMAGE_MODEL, NULL);
  double scores[4];
  g_autoptr(GError) error = NULL;

  g_assert_true (score_with (f, SCORE_IMAGES, EPD_DENOISER (model), 10, 4, scores, &error));
  g_assert_no_error (error);
  for (guint b = 0; b < 4; b++)
    g_assert_cmpfloat (scores[b], ==, b + 0.5);
}

static void
test_command_scores_file (CommandFixture *f,
                          gconstpointer   data)
{
  g_autoptr(EpdGmm) gmm = make_gmm ();
  double scores[2];
  g_autoptr(GError) error = NULL;

  /* A noisy scorer writes scores.json; stdout is then ignored. Vector models get
   * their samples in the manifest. */
  g_assert_true (score_with (f, "echo loading weights...\n"
                             "grep -q '\"samples\"' \"$1/manifest.json\" || exit 7\n"
                             "echo '[-1e3, 42]' > \"$1/scores.json\"",
                             EPD_DENOISER (gmm), 10, 2, scores, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (scores[0], ==, -1000.0);
  g_assert_cmpfloat (scores[1], ==, 42.0);
}

static void
assert_command_fails (CommandFixture *f,
                      const char     *body,
                      double          timeout_s,
                      gint            code,
                      const char     *fragment)
{
  g_autoptr(EpdGmm) gmm = make_gmm ();
  double scores[3];
  g_autoptr(GError) error = NULL;

  g_assert_false (score_with (f, body, EPD_DENOISER (gmm), timeout_s, 3, scores, &error));
  g_assert_error (error, EPD_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_command_bad_output (CommandFixture *f,
                         gconstpointer   data)
{
  assert_command_fails (f, "echo hello", 10, EPD_ERROR_PARSE, "not valid JSON");
  /* json-glib recurses per level: a deep document is refused before it is parsed. */
  assert_command_fails (f, "head -c 200000 /dev/zero | tr '\\0' '['", 10, EPD_ERROR_PARSE,
                        "nested deeper than");
  assert_command_fails (f, "echo '{\"a\": 1}'", 10, EPD_ERROR_PARSE, "not a JSON list");
  assert_command_fails (f, "echo '[1, \"nan\", 2]'", 10, EPD_ERROR_PARSE, "score 1 is not a number");
}

static void
test_command_wrong_length (CommandFixture *f,
                           gconstpointer   data)
{
  assert_command_fails (f, "echo '[1, 2]'", 10, EPD_ERROR_SHAPE, "2 scores for 3");
}

static void
test_command_exit (CommandFixture *f,
                   gconstpointer   data)
{
  assert_command_fails (f, "echo 'CUDA out of memory' >&2; exit 3", 10, EPD_ERROR_IO,
                        "exited with status 3: CUDA out of memory");
}

/* The script's first line: its process group id (field 5 of /proc/PID/stat) into
 * the fixture's "pgid", with shell built-ins only so that it is written at once. */
#define WRITE_PGID "read -r _ _ _ _ group _ < /proc/$$/stat; echo \"$group\" > \"${0%/*}/pgid\"\n"

static GPid
read_pgid (CommandFixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "pgid", NULL);
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return (GPid) g_ascii_strtoll (text, NULL, 10);
}

/* Whether a process of group pgid still runs. A killed process whose parent died
 * stays a zombie until a reaper collects it, so zombies do not count. */
static gboolean
group_running (GPid pgid)
{
  g_autoptr(GDir) proc = NULL;
  const char *name;

  if (kill (-pgid, 0) != 0 && errno == ESRCH)
    return FALSE;
  proc = g_dir_open ("/proc", 0, NULL);
  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *stat = NULL;
      const char *rest;
      char state;
      long long group;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &stat, NULL, NULL)
          || (rest = strrchr (stat, ')')) == NULL
          || sscanf (rest, ") %c %*d %lld", &state, &group) != 2)
        continue;
      if (group == pgid && state != 'Z' && state != 'X')
        return TRUE;
    }
  return FALSE;
}

/* SIGKILL is delivered asynchronously: allow the kernel a moment to end the group. */
static void
assert_group_gone (GPid pgid)
{
  g_assert_cmpint (pgid, >, 1);
  for (guint i = 0; i < 200 && group_running (pgid); i++)
    g_usleep (10 * 1000);
  g_assert_false (group_running (pgid));
}

static void
test_command_timeout (CommandFixture *f,
                      gconstpointer   data)
{
  /* The shell's child sleeps too, away from the pipes, so that the reward returns
   * as soon as the shell dies: the whole process group must go, not the shell alone
   * (and a reward that killed nothing would hang here until the suite's timeout). */
  assert_command_fails (f, WRITE_PGID "sleep 600 </dev/null >/dev/null 2>&1 &\nwait", 2, EPD_ERROR_IO,
                        "within 2 s");
  assert_group_gone (read_pgid (f));
}

/* A process that leaves the group (setsid) and keeps stdout open: the run
 * waited for its end (25 s with --timeout 2) instead of the timeout. It
 * writes "late" when it ends, so the reward must return before that. */
static void
test_command_timeout_escaped (CommandFixture *f,
                              gconstpointer   data)
{
  g_autofree char *late = g_build_filename (f->dir, "late", NULL);

  assert_command_fails (f, "setsid sh -c 'sleep 4; echo > \"$1\"' sh \"${0%/*}/late\" &\nsleep 600", 1,
                        EPD_ERROR_IO, "within 1 s");
  g_assert_false (g_file_test (late, G_FILE_TEST_EXISTS));
  /* Let the escaped process finish before the fixture removes its folder. */
  for (guint i = 0; i < 1000 && !g_file_test (late, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * 1000);
}

/* A scorer that prints without end: its output was kept whole (2 GB in 10 s). */
static void
test_command_stdout_cap (CommandFixture *f,
                         gconstpointer   data)
{
  assert_command_fails (f, "yes", 3, EPD_ERROR_IO, "wrote more than 16 MiB to its standard output");
}

typedef struct
{
  GCancellable *cancellable;
  char         *pgid_path;
} CancelSoon;

/* Cancels once the script has started (written its group), as Ctrl-C mid-scoring. */
static gpointer
cancel_soon (gpointer data)
{
  CancelSoon *c = data;

  for (guint i = 0; i < 1000 && !g_file_test (c->pgid_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * 1000);
  g_usleep (100 * 1000);
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

static void
test_command_cancel (CommandFixture *f,
                     gconstpointer   data)
{
  g_autoptr(EpdGmm) gmm = make_gmm ();
  g_autofree char *spec = write_script (f, WRITE_PGID "sleep 30; echo '[1, 2]'");
  g_autoptr(EpdReward) reward = parse_ok (spec, EPD_DENOISER (gmm), 60);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *pgid_path = g_build_filename (f->dir, "pgid", NULL);
  CancelSoon soon = { cancellable, pgid_path };
  GThread *thread = g_thread_new ("cancel", cancel_soon, &soon);
  double x[4] = { 0 }, scores[2];

  /* Cancelling (Ctrl-C in the trainer) kills the command at once, not at the timeout. */
  g_assert_false (epd_reward_score (reward, x, NULL, 2, scores, NULL, cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_group_gone (read_pgid (f));
  assert_cleaned (f);
}

static void
test_weighted_sum (void)
{
  g_autoptr(TestImageModel) model = g_object_new (TEST_TYPE_IMAGE_MODEL, NULL);
  g_autoptr(EpdReward) reward = parse_ok ("sharpness=2, command=-0.5:echo '[10, 20]'; :",
                                          EPD_DENOISER (model), 10);
  g_autofree double *x = g_new (double, 2 * SIDE * SIDE);
  double scores[2], terms[4];
  g_autoptr(GError) error = NULL;

  fill_edge (x, 0);
  fill_edge (x + SIDE * SIDE, 2.0);
  g_assert_true (epd_reward_score (reward, x, NULL, 2, scores, terms, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (epd_reward_n_terms (reward), ==, 2);
  g_assert_cmpstr (epd_reward_term_name (reward, 1), ==, "command");
  g_assert_cmpfloat_with_epsilon (terms[0], 2.0 / 26.0, 1e-12);
  g_assert_cmpfloat (terms[2], ==, 10.0);
  g_assert_cmpfloat (terms[3], ==, 20.0);
  for (guint b = 0; b < 2; b++)
    g_assert_cmpfloat_with_epsilon (scores[b], 2.0 * terms[b] - 0.5 * terms[2 + b], 1e-12);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reward/logdensity", test_logdensity);
  g_test_add_func ("/reward/teacher", test_teacher);
  g_test_add_func ("/reward/sharpness", test_sharpness);
  g_test_add_func ("/reward/classifier", test_classifier);
  g_test_add_func ("/reward/spec-errors", test_spec_errors);
  g_test_add_func ("/reward/weighted-sum", test_weighted_sum);
  g_test_add ("/reward/command/success", CommandFixture, NULL, command_setup,
              test_command_success, command_teardown);
  g_test_add ("/reward/command/scores-file", CommandFixture, NULL, command_setup,
              test_command_scores_file, command_teardown);
  g_test_add ("/reward/command/bad-output", CommandFixture, NULL, command_setup,
              test_command_bad_output, command_teardown);
  g_test_add ("/reward/command/wrong-length", CommandFixture, NULL, command_setup,
              test_command_wrong_length, command_teardown);
  g_test_add ("/reward/command/exit", CommandFixture, NULL, command_setup,
              test_command_exit, command_teardown);
  g_test_add ("/reward/command/timeout-escaped", CommandFixture, NULL, command_setup,
              test_command_timeout_escaped, command_teardown);
  g_test_add ("/reward/command/stdout-cap", CommandFixture, NULL, command_setup,
              test_command_stdout_cap, command_teardown);
  g_test_add ("/reward/command/timeout", CommandFixture, NULL, command_setup,
              test_command_timeout, command_teardown);
  g_test_add ("/reward/command/cancel", CommandFixture, NULL, command_setup,
              test_command_cancel, command_teardown);
  return g_test_run ();
}
