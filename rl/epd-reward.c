/* SPDX-License-Identifier: MIT */
/* epd-reward.c: reward terms of final samples and their weighted sum.
 *
 * sharpness: the variance of the 4-neighbour discrete Laplacian of the image's luma
 * (pixels mapped from [-1, 1] to [0, 1]; Rec. 709 weights for RGB), over interior
 * pixels only so that borders add nothing. A flat image scores 0; edges and fine
 * detail raise it; blur lowers it.
 *
 * command:CMD: the protocol for external scorers.
 *   1. A fresh folder DIR (g_dir_make_tmp) receives, for image models, img-0000.png,
 *      img-0001.png, ... (8-bit grey or RGB) and manifest.json:
 *        {"images": [{"file": "img-0000.png", "index": 0}, ...],
 *         "shape": [side, side, channels], "count": B}
 *      For vector models (e.g. 2-D mixtures) there are no PNGs and the manifest holds
 *        {"images": [], "samples": [[x, y, ...], ...], "shape": [dim], "count": B}.
 *   2. `/bin/sh -c 'CMD "$EPD_REWARD_DIR"'` runs with DIR appended as its last argument
 *      and in $EPD_REWARD_DIR; stdin is empty.
 *   3. The scores are DIR/scores.json if the command wrote it, else its standard output:
 *      a JSON list of B finite numbers, in manifest order.
 *   A non-zero exit (its stderr tail is quoted), output that is not such a list, or a run
 *   longer than the timeout (the command's whole process group is killed) is an error.
 *   DIR is removed afterwards in every case. */
#include "epd-reward.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-model.h"
#include "epd-classifier.h"
#include "epd-file.h"
#include "epd-json.h"
#include "epd-numeric.h"

#define DEFAULT_TIMEOUT_S 60.0
#define STDERR_TAIL 400

typedef struct _RewardTerm RewardTerm;

typedef gboolean (*TermScoreFunc) (EpdReward    *reward,
                                   RewardTerm   *term,
                                   const double *x,
                                   const double *z,
                                   gsize         batch,
                                   double       *out,
                                   GCancellable *cancellable,
                                   GError      **error);

struct _RewardTerm
{
  const char    *name;
  double         weight;
  TermScoreFunc  score;
  char          *command;     /* command: only */
  EpdClassifier *classifier;  /* classifier only */
};

struct _EpdReward
{
  EpdDenoiser     *model;
  EpdSolveOptions  teacher;
  double           timeout_s;
  guint            dim;
  guint            side;
  guint            channels;
  gboolean         is_image;
  GPtrArray       *terms;     /* of RewardTerm */
};

static void
reward_term_free (gpointer data)
{
  RewardTerm *term = data;

  g_free (term->command);
  epd_classifier_free (term->classifier);
  g_free (term);
}

/* ---- logdensity ---- */

static gboolean
score_logdensity (EpdReward    *reward,
                  RewardTerm   *term,
                  const double *x,
                  const double *z,
                  gsize         batch,
                  double       *out,
                  GCancellable *cancellable,
                  GError      **error)
{
  epd_gmm_log_density (EPD_GMM (reward->model), x, NULL, batch, out);
  return TRUE;
}

/* ---- teacher ---- */

static gboolean
score_teacher (EpdReward    *reward,
               RewardTerm   *term,
               const double *x,
               const double *z,
               gsize         batch,
               double       *out,
               GCancellable *cancellable,
               GError      **error)
{
  gsize n = batch * reward->dim;
  g_autofree double *x_init = g_new (double, n);
  g_autofree double *x_teacher = g_new (double, n);

  if (z == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "the teacher reward needs the noise z each sample started from");
      return FALSE;
    }
  epd_solve_init_from_noise (&reward->teacher, z, n, x_init);
  if (!epd_solve (reward->model, &reward->teacher, x_init, batch, x_teacher, NULL, NULL,
                  cancellable, error))
    {
      g_prefix_error (error, "teacher reward: ");
      return FALSE;
    }
  for (gsize b = 0; b < batch; b++)
    {
      double sum = 0.0;

      for (guint i = 0; i < reward->dim; i++)
        {
          double diff = x[b * reward->dim + i] - x_teacher[b * reward->dim + i];
          sum += diff * diff;
        }
      out[b] = -sqrt (sum);
    }
  return TRUE;
}

/* ---- classifier ---- */

static gboolean
score_classifier (EpdReward    *reward,
                  RewardTerm   *term,
                  const double *x,
                  const double *z,
                  gsize         batch,
                  double       *out,
                  GCancellable *cancellable,
                  GError      **error)
{
  guint n_classes = epd_classifier_n_classes (term->classifier);
  g_autofree double *probs = g_new (double, batch * n_classes);

  epd_classifier_predict (term->classifier, x, batch, probs);
  for (gsize b = 0; b < batch; b++)
    {
      double best = probs[b * n_classes];

      for (guint c = 1; c < n_classes; c++)
        best = MAX (best, probs[b * n_classes + c]);
      out[b] = best;
    }
  return TRUE;
}

/* ---- sharpness ---- */

/* Luma in [0, 1] of pixel (row, col) of one image row laid out [side][side][channels]. */
static double
pixel_luma (const double *image,
            guint         side,
            guint         channels,
            guint         row,
            guint         col)
{
  const double *p = image + ((gsize) row * side + col) * channels;

  if (channels == 3)
    return 0.5 * (0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2] + 1.0);
  return 0.5 * (p[0] + 1.0);
}

double
epd_reward_sharpness (const double *image,
                      guint         side,
                      guint         channels)
{
  double sum = 0.0, sum_sq = 0.0;
  gsize n = 0;

  for (guint r = 1; r + 1 < side; r++)
    for (guint c = 1; c + 1 < side; c++)
      {
        double lap = pixel_luma (image, side, channels, r - 1, c) +
                     pixel_luma (image, side, channels, r + 1, c) +
                     pixel_luma (image, side, channels, r, c - 1) +
                     pixel_luma (image, side, channels, r, c + 1) -
                     4.0 * pixel_luma (image, side, channels, r, c);
        sum += lap;
        sum_sq += lap * lap;
        n++;
      }
  if (n == 0)
    return 0.0;
  return MAX (0.0, sum_sq / n - (sum / n) * (sum / n));
}

static gboolean
score_sharpness (EpdReward    *reward,
                 RewardTerm   *term,
                 const double *x,
                 const double *z,
                 gsize         batch,
                 double       *out,
                 GCancellable *cancellable,
                 GError      **error)
{
  for (gsize b = 0; b < batch; b++)
    out[b] = epd_reward_sharpness (x + b * reward->dim, reward->side, reward->channels);
  return TRUE;
}

/* ---- command: writing the batch ---- */

/* One image row in [-1, 1] -> an RGB24 surface (grey repeated on the three channels). */
static cairo_surface_t *
image_to_surface (const double *image,
                  guint         side,
                  guint         channels)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) side, (int) side);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  for (guint r = 0; r < side; r++)
    for (guint c = 0; c < side; c++)
      {
        const double *p = image + ((gsize) r * side + c) * channels;
        guint32 rgb = 0;

        for (guint k = 0; k < 3; k++)
          {
            double v = p[channels == 3 ? k : 0];
            guint32 byte = (guint32) lround (CLAMP ((v + 1.0) * 127.5, 0.0, 255.0));
            rgb = (rgb << 8) | byte;
          }
        *(guint32 *) (data + (gsize) r * stride + c * 4) = rgb;
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static gboolean
write_png (const double *image,
           guint         side,
           guint         channels,
           const char   *path,
           GError      **error)
{
  cairo_surface_t *surface = image_to_surface (image, side, channels);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);

  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot write %s: %s",
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static void
manifest_add_shape (JsonBuilder     *builder,
                    const EpdReward *reward)
{
  json_builder_set_member_name (builder, "shape");
  json_builder_begin_array (builder);
  if (reward->is_image)
    {
      json_builder_add_int_value (builder, reward->side);
      json_builder_add_int_value (builder, reward->side);
      json_builder_add_int_value (builder, reward->channels);
    }
  else
    json_builder_add_int_value (builder, reward->dim);
  json_builder_end_array (builder);
}

static void
manifest_add_samples (JsonBuilder     *builder,
                      const EpdReward *reward,
                      const double    *x,
                      gsize            batch)
{
  json_builder_set_member_name (builder, "samples");
  json_builder_begin_array (builder);
  for (gsize b = 0; b < batch; b++)
    {
      json_builder_begin_array (builder);
      for (guint i = 0; i < reward->dim; i++)
        json_builder_add_double_value (builder, x[b * reward->dim + i]);
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);
}

static gboolean
write_batch (const EpdReward *reward,
             const double    *x,
             gsize            batch,
             const char      *dir,
             GError         **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *manifest_path = g_build_filename (dir, "manifest.json", NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (gsize b = 0; reward->is_image && b < batch; b++)
    {
      g_autofree char *file = g_strdup_printf ("img-%04" G_GSIZE_FORMAT ".png", b);
      g_autofree char *path = g_build_filename (dir, file, NULL);

      if (!write_png (x + b * reward->dim, reward->side, reward->channels, path, error))
        return FALSE;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "file");
      json_builder_add_string_value (builder, file);
      json_builder_set_member_name (builder, "index");
      json_builder_add_int_value (builder, (gint64) b);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  if (!reward->is_image)
    manifest_add_samples (builder, reward, x, batch);
  manifest_add_shape (builder, reward);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, (gint64) batch);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_file (generator, manifest_path, error);
}

/* Removes dir and everything below it; best effort (a temp folder). */
static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

/* ---- command: running it ---- */

/* Scores for any batch fit in far less; a scorer printing without end
 * (`yes`) is stopped here instead of filling memory. */
#define STDOUT_MAX ((gsize) 16 << 20)
#define READ_CHUNK 65536

/* One run: the shell leads its own process group; the run is over when the
 * shell has exited and both pipes are at EOF, or at the timeout (a process
 * that left the group may hold the pipes open forever), overflow or
 * cancellation. Whatever ends it, the group is killed. */
typedef struct
{
  GMainContext *context;
  GPid          pgid;
  gboolean      exited;
  guint         open_pipes;
  guint         pending;     /* async operations in flight */
  gboolean      timed_out;
  gboolean      overflow;
  GCancellable *io;          /* cancels the reads and the wait when the run is over */
  GByteArray   *out;
  GByteArray   *err;         /* the last STDERR_TAIL bytes */
  GError       *error;
} CommandRun;

typedef struct
{
  CommandRun   *run;
  GInputStream *stream;
  GByteArray   *into;
} PipeRead;

static void
child_new_group (gpointer data)
{
  setpgid (0, 0);
}

static void
kill_group (CommandRun *run)
{
  if (run->pgid > 0)
    kill (-run->pgid, SIGKILL);
}

static gboolean
on_timeout (gpointer data)
{
  CommandRun *run = data;

  run->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs in the cancelling thread: wakes the run's loop, which then stops. */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  CommandRun *run = data;

  g_main_context_wakeup (run->context);
}

static void read_next (PipeRead *read);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  PipeRead *read = data;
  CommandRun *run = read->run;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  gsize len = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  run->pending--;
  if (len == 0)
    {
      if (error != NULL && run->error == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        run->error = g_steal_pointer (&error);
      run->open_pipes--;
      g_free (read);
      return;
    }
  g_byte_array_append (read->into, g_bytes_get_data (bytes, NULL), len);
  if (read->into == run->err && run->err->len > STDERR_TAIL)
    g_byte_array_remove_range (run->err, 0, run->err->len - STDERR_TAIL);
  if (read->into == run->out && run->out->len > STDOUT_MAX)
    run->overflow = TRUE;
  read_next (read);
}

static void
read_next (PipeRead *read)
{
  read->run->pending++;
  g_input_stream_read_bytes_async (read->stream, READ_CHUNK, G_PRIORITY_DEFAULT, read->run->io,
                                   on_read, read);
}

static void
start_read (CommandRun   *run,
            GInputStream *stream,
            GByteArray   *into)
{
  PipeRead *read = g_new0 (PipeRead, 1);

  read->run = run;
  read->stream = stream;
  read->into = into;
  run->open_pipes++;
  read_next (read);
}

static void
on_waited (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  CommandRun *run = data;

  run->pending--;
  run->exited = g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
}

static GSubprocess *
spawn_command (const char *command,
               const char *dir,
               GError    **error)
{
  /* stdin is /dev/null (GSubprocess's default). */
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *script = g_strdup_printf ("%s \"$EPD_REWARD_DIR\"", command);
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "EPD_REWARD_DIR", dir, TRUE);
  /* Its own process group, so that a timeout kills the shell's children too. */
  g_subprocess_launcher_set_child_setup (launcher, child_new_group, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, error, "/bin/sh", "-c", script, NULL);
  if (process == NULL)
    g_prefix_error (error, "cannot run reward command '%s': ", command);
  return process;
}

static gboolean
run_over (CommandRun   *run,
          GCancellable *cancellable)
{
  return (run->exited && run->open_pipes == 0) || run->timed_out || run->overflow ||
         g_cancellable_is_cancelled (cancellable);
}

/* Runs the command to its end, timeout, overflow or cancellation on a
 * private main context. */
static void
run_command (GSubprocess  *process,
             double        timeout_s,
             CommandRun   *run,
             GCancellable *cancellable)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new ((guint) ceil (MIN (timeout_s, 1e6) * 1000.0));
  gulong cancel_handler = 0;
  /* NULL when the command has already exited and been reaped. */
  const char *pid = g_subprocess_get_identifier (process);

  run->context = context;
  run->pgid = pid ? (GPid) g_ascii_strtoll (pid, NULL, 10) : 0;
  run->io = g_cancellable_new ();
  run->out = g_byte_array_new ();
  run->err = g_byte_array_new ();
  g_main_context_push_thread_default (context);
  g_source_set_callback (timeout, on_timeout, run, NULL);
  g_source_attach (timeout, context);
  /* A signal handler rather than a GCancellableSource: the source can leak when another
   * thread cancels while it is being destroyed. Already cancelled: it runs at once. */
  if (cancellable != NULL)
    cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), run, NULL);
  run->pending++;
  g_subprocess_wait_async (process, run->io, on_waited, run);
  start_read (run, g_subprocess_get_stdout_pipe (process), run->out);
  start_read (run, g_subprocess_get_stderr_pipe (process), run->err);
  while (!run_over (run, cancellable))
    g_main_context_iteration (context, TRUE);
  /* Nothing the scorer started outlives the run; then the reads and the
   * wait finish (cancelled) before run goes away. */
  kill_group (run);
  g_cancellable_cancel (run->io);
  while (run->pending > 0)
    g_main_context_iteration (context, TRUE);
  g_cancellable_disconnect (cancellable, cancel_handler);
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);
  g_clear_object (&run->io);
  run->context = NULL;
}

static void
command_run_clear (CommandRun *run)
{
  g_clear_pointer (&run->out, g_byte_array_unref);
  g_clear_pointer (&run->err, g_byte_array_unref);
  g_clear_error (&run->error);
}

static char *
stderr_tail (GByteArray *err)
{
  gsize len = err ? err->len : 0;
  const char *data = err ? (const char *) err->data : NULL;
  gsize start = len > STDERR_TAIL ? len - STDERR_TAIL : 0;
  g_autofree char *tail = data ? g_utf8_make_valid (data + start, (gssize) (len - start)) : NULL;

  return g_strdup (tail && *tail ? g_strstrip (tail) : "(no output on stderr)");
}

static gboolean
check_command_run (const char   *command,
                   GSubprocess  *process,
                   CommandRun   *run,
                   double        timeout_s,
                   GCancellable *cancellable,
                   GError      **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (run->timed_out)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO,
                   "reward command '%s' did not finish within %g s (or something it started kept its "
                   "output open) and was killed", command, timeout_s);
      return FALSE;
    }
  if (run->overflow)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO,
                   "reward command '%s' wrote more than %" G_GSIZE_FORMAT " MiB to its standard output "
                   "and was killed", command, STDOUT_MAX >> 20);
      return FALSE;
    }
  if (run->error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&run->error),
                                  "reward command '%s': ", command);
      return FALSE;
    }
  if (!run->exited || !g_subprocess_get_successful (process))
    {
      g_autofree char *tail = stderr_tail (run->err);

      if (g_subprocess_get_if_exited (process))
        g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "reward command '%s' exited with status %d: %s",
                     command, g_subprocess_get_exit_status (process), tail);
      else
        g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "reward command '%s' was killed by signal %d: %s",
                     command, g_subprocess_get_term_sig (process), tail);
      return FALSE;
    }
  return TRUE;
}

/* ---- command: reading the scores ---- */

static gboolean
parse_scores (const char *text,
              gsize       len,
              const char *source,
              gsize       batch,
              double     *out,
              GError    **error)
{
  /* Depth- and size-checked: a scorer printing "[[[[..." must not crash training. */
  g_autoptr(JsonNode) root = epd_json_parse (text, len, source, error);
  JsonArray *array;

  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s is not a JSON list of scores", source);
      return FALSE;
    }
  array = json_node_get_array (root);
  if (json_array_get_length (array) != batch)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s has %u scores for %" G_GSIZE_FORMAT " images",
                   source, json_array_get_length (array), batch);
      return FALSE;
    }
  for (guint i = 0; i < batch; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

      if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: score %u is not a number", source, i);
          return FALSE;
        }
      out[i] = json_node_get_double (node);
      if (!isfinite (out[i]))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC, "%s: score %u is not finite", source, i);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_scores (const char *command,
             const char *dir,
             GByteArray *out_bytes,
             gsize       batch,
             double     *out,
             GError    **error)
{
  g_autofree char *path = g_build_filename (dir, "scores.json", NULL);
  g_autofree char *source = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!epd_file_read_capped (path, EPD_FILE_MAX_JSON, &contents, &len, error))
        return FALSE;
      source = g_strdup_printf ("scores.json of reward command '%s'", command);
      return parse_scores (contents, len, source, batch, out, error);
    }
  source = g_strdup_printf ("the output of reward command '%s'", command);
  contents = out_bytes ? g_strndup ((const char *) out_bytes->data, out_bytes->len) : g_strdup ("");
  return parse_scores (contents, strlen (contents), source, batch, out, error);
}

static gboolean
score_command (EpdReward    *reward,
               RewardTerm   *term,
               const double *x,
               const double *z,
               gsize         batch,
               double       *out,
               GCancellable *cancellable,
               GError      **error)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-reward-XXXXXX", error);
  g_autoptr(GSubprocess) process = NULL;
  CommandRun run = { 0 };
  gboolean ok = FALSE;

  if (dir == NULL)
    return FALSE;
  if (write_batch (reward, x, batch, dir, error) &&
      (process = spawn_command (term->command, dir, error)) != NULL)
    {
      run_command (process, reward->timeout_s, &run, cancellable);
      ok = check_command_run (term->command, process, &run, reward->timeout_s, cancellable, error) &&
           read_scores (term->command, dir, run.out, batch, out, error);
    }
  command_run_clear (&run);
  remove_tree (dir);
  return ok;
}

/* ---- parsing the spec ---- */

static gboolean
require_image (const EpdReward *reward,
               const char      *name,
               GError         **error)
{
  if (!reward->is_image)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "reward '%s' needs an image model, but %s is not one", name,
                   epd_denoiser_describe (reward->model));
      return FALSE;
    }
  return TRUE;
}

static gboolean
setup_classifier (EpdReward  *reward,
                  RewardTerm *term,
                  const char *path,
                  GError    **error)
{
  if (!require_image (reward, "classifier", error))
    return FALSE;
  if (reward->side != 28 || reward->channels != 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "reward 'classifier' needs 28x28 grey images (Fashion-MNIST), got %ux%ux%u",
                   reward->side, reward->side, reward->channels);
      return FALSE;
    }
  term->classifier = path ? epd_classifier_load (path, error) : epd_classifier_get_default (NULL, error);
  if (term->classifier == NULL)
    return FALSE;
  if (epd_classifier_n_inputs (term->classifier) != reward->dim)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "classifier %s takes %u inputs, the model has %u",
                   path ? path : "(default)", epd_classifier_n_inputs (term->classifier), reward->dim);
      return FALSE;
    }
  return TRUE;
}

/* name is the term without its weight, e.g. "classifier:/tmp/c.clf". */
static gboolean
setup_term (EpdReward  *reward,
            RewardTerm *term,
            const char *name,
            GError    **error)
{
  if (g_str_equal (name, "logdensity"))
    {
      term->name = "logdensity";
      term->score = score_logdensity;
      if (EPD_IS_GMM (reward->model))
        return TRUE;
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "reward 'logdensity' needs a Gaussian-mixture model on the CPU path, not %s",
                   epd_denoiser_describe (reward->model));
      return FALSE;
    }
  if (g_str_equal (name, "teacher"))
    {
      term->name = "teacher";
      term->score = score_teacher;
      return TRUE;
    }
  if (g_str_equal (name, "sharpness"))
    {
      term->name = "sharpness";
      term->score = score_sharpness;
      return require_image (reward, "sharpness", error);
    }
  if (g_str_equal (name, "classifier") || g_str_has_prefix (name, "classifier:"))
    {
      term->name = "classifier";
      term->score = score_classifier;
      return setup_classifier (reward, term, name[10] == ':' ? name + 11 : NULL, error);
    }
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "unknown reward '%s' (known: logdensity, teacher, classifier[:FILE], sharpness, "
               "command:CMD)", name);
  return FALSE;
}

static gboolean
parse_weight (const char *text,
              const char *term,
              double     *weight,
              GError    **error)
{
  char *end = NULL;

  *weight = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (*weight))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "reward term '%s': weight '%s' is not a finite number", term, text);
      return FALSE;
    }
  return TRUE;
}

/* "command[=W]:CMD": CMD runs to the end of the spec, commas and all. */
static RewardTerm *
parse_command_term (const char *text,
                    GError    **error)
{
  const char *colon = strchr (text, ':');
  g_autofree char *weight_text = NULL;
  g_autofree char *command = colon ? g_strstrip (g_strdup (colon + 1)) : NULL;
  RewardTerm *term;
  double weight = 1.0;

  if (text[7] == '=')
    {
      weight_text = g_strndup (text + 8, colon ? (gsize) (colon - text - 8) : strlen (text + 8));
      if (!parse_weight (weight_text, "command", &weight, error))
        return NULL;
    }
  if (command == NULL || command[0] == '\0')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "reward 'command' needs a command: command:CMD");
      return NULL;
    }
  term = g_new0 (RewardTerm, 1);
  term->name = "command";
  term->weight = weight;
  term->score = score_command;
  term->command = g_steal_pointer (&command);
  return term;
}

static RewardTerm *
parse_term (EpdReward  *reward,
            const char *text,
            GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  const char *eq = strrchr (text, '=');
  RewardTerm *term = g_new0 (RewardTerm, 1);

  term->weight = 1.0;
  name = eq ? g_strndup (text, (gsize) (eq - text)) : g_strdup (text);
  g_strstrip (name);
  if ((eq != NULL && !parse_weight (eq + 1, name, &term->weight, &local_error)) ||
      !setup_term (reward, term, name, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      reward_term_free (term);
      return NULL;
    }
  return term;
}

static gboolean
parse_terms (EpdReward  *reward,
             const char *spec,
             GError    **error)
{
  const char *p = spec;

  while (*p != '\0')
    {
      const char *comma = strchr (p, ',');
      g_autofree char *text = NULL;
      RewardTerm *term;

      while (g_ascii_isspace (*p))
        p++;
      if (g_str_has_prefix (p, "command:") || g_str_has_prefix (p, "command="))
        {
          term = parse_command_term (p, error);
          comma = NULL;
        }
      else
        {
          text = comma ? g_strndup (p, (gsize) (comma - p)) : g_strdup (p);
          term = parse_term (reward, g_strstrip (text), error);
        }
      if (term == NULL)
        return FALSE;
      g_ptr_array_add (reward->terms, term);
      p = comma ? comma + 1 : p + strlen (p);
    }
  return TRUE;
}

EpdReward *
epd_reward_parse (const char             *spec,
                  const EpdRewardContext *context,
                  GError                **error)
{
  g_autoptr(EpdReward) reward = NULL;

  g_return_val_if_fail (spec != NULL && context != NULL && EPD_IS_DENOISER (context->model), NULL);
  reward = g_new0 (EpdReward, 1);
  reward->model = g_object_ref (context->model);
  reward->terms = g_ptr_array_new_with_free_func (reward_term_free);
  reward->dim = epd_denoiser_get_dim (context->model);
  reward->is_image = epd_denoiser_get_image_shape (context->model, &reward->side, &reward->channels);
  reward->timeout_s = context->timeout_s > 0.0 ? context->timeout_s : DEFAULT_TIMEOUT_S;
  if (context->solve != NULL)
    reward->teacher = *context->solve;
  else
    epd_solve_options_init (&reward->teacher);
  reward->teacher.solver = EPD_SOLVER_TEACHER;
  reward->teacher.table = NULL;
  if (!parse_terms (reward, spec, error))
    return NULL;
  if (reward->terms->len == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "empty reward spec (use e.g. logdensity, classifier=1,sharpness=0.1)");
      return NULL;
    }
  return g_steal_pointer (&reward);
}

void
epd_reward_free (EpdReward *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->model);
  g_clear_pointer (&self->terms, g_ptr_array_unref);
  g_free (self);
}

guint
epd_reward_n_terms (const EpdReward *self)
{
  return self->terms->len;
}

const char *
epd_reward_term_name (const EpdReward *self,
                      guint            i)
{
  g_return_val_if_fail (i < self->terms->len, NULL);
  return ((RewardTerm *) g_ptr_array_index (self->terms, i))->name;
}

double
epd_reward_term_weight (const EpdReward *self,
                        guint            i)
{
  g_return_val_if_fail (i < self->terms->len, NAN);
  return ((RewardTerm *) g_ptr_array_index (self->terms, i))->weight;
}

static gboolean
check_finite_samples (const EpdReward *self,
                      const double    *x,
                      gsize            batch,
                      GError         **error)
{
  gssize bad = epd_first_non_finite (x, batch * self->dim);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "reward: final sample %" G_GSIZE_FORMAT " has a non-finite value", i / self->dim);
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_reward_score (EpdReward    *self,
                  const double *x_final,
                  const double *z,
                  gsize         batch,
                  double       *scores,
                  double       *term_scores,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_autofree double *term_out = g_new (double, MAX (batch, 1));

  if (!check_finite_samples (self, x_final, batch, error))
    return FALSE;
  for (gsize b = 0; b < batch; b++)
    scores[b] = 0.0;
  for (guint i = 0; i < self->terms->len && batch > 0; i++)
    {
      RewardTerm *term = g_ptr_array_index (self->terms, i);

      if (!term->score (self, term, x_final, z, batch, term_out, cancellable, error))
        return FALSE;
      for (gsize b = 0; b < batch; b++)
        {
          scores[b] += term->weight * term_out[b];
          if (term_scores != NULL)
            term_scores[i * batch + b] = term_out[b];
        }
    }
  return TRUE;
}

EpdDenoiser *
epd_reward_open_cpu_model (EpdDenoiser *sampler,
                           const char  *spec,
                           GError     **error)
{
  /* Already the exact CPU model: share it rather than loading a dataset twice. */
  if (EPD_IS_GMM (sampler) || EPD_IS_EMPIRICAL (sampler))
    return g_object_ref (sampler);
  return epd_model_from_spec (spec, error);
}
