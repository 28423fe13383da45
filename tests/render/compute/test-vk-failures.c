/* SPDX-License-Identifier: MIT
 *
 * test-vk-failures.c: what the Vulkan denoiser does when the device cannot do
 * a call, is lost, or hangs, and what other threads see meanwhile. Runs on
 * any Vulkan device ("vulkan": lavapipe in CI); the failures are simulated
 * through epd-vk-private.h, sizes kept small. Registered plain and under the
 * validation layer. */
#include <math.h>
#include <string.h>

#include "epd-gmm.h"
#include "epd-vk-denoiser.h"
#include "epd-vk-private.h"

/* float32 kernels against float64: the relative error measured in
 * test-vk-parity is below 2.1e-6; a generous bound here. */
#define TOL 2e-5
#define BATCH 100

static EpdVkContext *
open_context (void)
{
  g_autoptr(GError) error = NULL;
  EpdVkContext *context = epd_vk_context_new ("vulkan", &error);

  g_assert_no_error (error);
  return context;
}

static void
assert_no_validation_messages (EpdVkContext *context)
{
  guint n = 0;

  epd_vk_context_get_messages (context, &n);
  g_assert_cmpuint (n, ==, 0);
}

static void
make_batch (double *x,
            double *sigma)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);

  for (guint r = 0; r < BATCH; r++)
    {
      sigma[r] = 0.05 + 0.1 * (r % 20);
      x[2 * r] = g_rand_double_range (rand, -3, 3);
      x[2 * r + 1] = g_rand_double_range (rand, -3, 3);
    }
}

static void
assert_close (const double *got,
              const double *want,
              gsize         n)
{
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (got[i] - want[i]), <=, TOL * MAX (1.0, fabs (want[i])));
}

typedef struct
{
  EpdVkContext  *context;
  EpdGmm        *gmm;
  EpdVkDenoiser *vk;
  double         x[2 * BATCH], sigma[BATCH], want[2 * BATCH], got[2 * BATCH];
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  range_limit)
{
  g_autoptr(GError) error = NULL;

  f->context = open_context ();
  if (GPOINTER_TO_SIZE (range_limit) > 0)
    epd_vk_context_limit_buffer_range (f->context, GPOINTER_TO_SIZE (range_limit));
  f->gmm = epd_gmm_new_preset ("ring8", &error);
  g_assert_no_error (error);
  f->vk = epd_vk_denoiser_new (f->context, EPD_DENOISER (f->gmm), &error);
  g_assert_no_error (error);
  make_batch (f->x, f->sigma);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (f->gmm), f->x, f->sigma, BATCH, f->want, &error));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  range_limit)
{
  assert_no_validation_messages (f->context);
  g_clear_object (&f->vk);
  g_clear_object (&f->gmm);
  g_clear_object (&f->context);
}

static void
denoise_ok (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  memset (f->got, 0, sizeof f->got);
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (f->vk), f->x, f->sigma, BATCH, f->got, &error));
  g_assert_no_error (error);
}

/* Storage buffers of 256 bytes hold 32 rows of x: a batch of 100 goes as 4
 * submissions, on the device, with the device's results. */
static void
test_oversized_batch (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  double exact[2 * BATCH];

  g_assert_cmpuint (epd_vk_context_get_max_buffer_range (f->context), ==, 256);
  denoise_ok (f);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 4);
  g_assert_false (epd_vk_denoiser_fell_back (f->vk));
  assert_close (f->got, f->want, 2 * BATCH);
  /* float32 results, so not the CPU model's bits. */
  memcpy (exact, f->want, sizeof exact);
  g_assert_true (memcmp (f->got, exact, sizeof exact) != 0);
}

/* A failure other than a lost device costs one call: it runs on the CPU model
 * (its exact float64 results), and the next call is on the device again. */
static void
test_failure_per_call (Fixture       *f,
                       gconstpointer  data)
{
  const char *label = epd_denoiser_describe (EPD_DENOISER (f->vk));

  denoise_ok (f);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 1);
  epd_vk_context_simulate_failure (f->context, VK_ERROR_OUT_OF_DEVICE_MEMORY);
  denoise_ok (f);
  g_assert_cmpmem (f->got, sizeof f->got, f->want, sizeof f->want);
  g_assert_false (epd_vk_denoiser_fell_back (f->vk));
  g_assert_false (epd_vk_context_is_lost (f->context));
  g_assert_true (epd_denoiser_describe (EPD_DENOISER (f->vk)) == label);
  denoise_ok (f);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 2);
  assert_close (f->got, f->want, 2 * BATCH);
}

/* VK_ERROR_DEVICE_LOST switches to the CPU model for good. The string
 * describe() gave before stays valid (meson test fills freed memory through
 * MALLOC_PERTURB_, so a freed label would not read back). */
static void
test_lost_for_good (Fixture       *f,
                    gconstpointer  data)
{
  const char *before = epd_denoiser_describe (EPD_DENOISER (f->vk));

  g_assert_nonnull (strstr (before, "(Vulkan, float32)"));
  epd_vk_context_simulate_failure (f->context, VK_ERROR_DEVICE_LOST);
  denoise_ok (f);
  g_assert_true (epd_vk_context_is_lost (f->context));
  g_assert_true (epd_vk_denoiser_fell_back (f->vk));
  g_assert_cmpmem (f->got, sizeof f->got, f->want, sizeof f->want);
  g_assert_nonnull (strstr (before, "(Vulkan, float32)"));
  g_assert_nonnull (strstr (epd_denoiser_describe (EPD_DENOISER (f->vk)), "CPU fallback"));
  denoise_ok (f);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 0);
}

typedef struct
{
  EpdVkDenoiser *vk;
  const char    *first;
  const char    *other;   /* the one other string seen, if any */
  gint           stop;
} Reader;

static gpointer
read_labels (gpointer data)
{
  Reader *r = data;

  while (!g_atomic_int_get (&r->stop))
    {
      const char *now = epd_denoiser_describe (EPD_DENOISER (r->vk));

      /* At most two strings, each readable to its end. */
      g_assert_cmpuint (strlen (now), >, 10);
      if (now != r->first)
        {
          g_assert_true (r->other == NULL || r->other == now);
          r->other = now;
        }
    }
  return NULL;
}

/* describe() from another thread while a call falls back. */
static void
test_describe_from_another_thread (Fixture       *f,
                                   gconstpointer  data)
{
  Reader r = { f->vk };
  const char *after;
  GThread *thread;

  r.first = epd_denoiser_describe (EPD_DENOISER (f->vk));
  epd_vk_context_simulate_loss (f->context);
  thread = g_thread_new ("describe", read_labels, &r);
  denoise_ok (f);
  after = epd_denoiser_describe (EPD_DENOISER (f->vk));
  g_atomic_int_set (&r.stop, TRUE);
  g_thread_join (thread);
  g_assert_true (after != r.first);
  g_assert_true (r.other == NULL || r.other == after);
  g_assert_nonnull (strstr (r.first, "(Vulkan, float32)"));
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
run_cancel_loop (gpointer data)
{
  GMainContext *context = data;

  g_main_context_push_thread_default (context);
  g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return NULL;
}

/* A hung device: the wait gives up when the thread's cancellable is
 * cancelled (not a device failure), and the next call, the device working
 * again, waits for the abandoned submission and then runs normally. */
static void
test_cancel_hung_wait (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) loop_context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (200);
  g_autoptr(GError) error = NULL;
  GThread *canceller;

  g_source_set_callback (timeout, cancel_later, cancellable, NULL);
  g_source_attach (timeout, loop_context);
  canceller = g_thread_new ("cancel", run_cancel_loop, loop_context);
  epd_vk_context_simulate_hang (f->context, TRUE);
  g_cancellable_push_current (cancellable);
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (f->vk), f->x, f->sigma, BATCH, f->got, &error));
  g_cancellable_pop_current (cancellable);
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (epd_vk_denoiser_fell_back (f->vk));
  epd_vk_context_simulate_hang (f->context, FALSE);
  denoise_ok (f);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 1);
  assert_close (f->got, f->want, 2 * BATCH);
}

/* Already cancelled: nothing is submitted. */
static void
test_cancelled_before (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_cancellable_push_current (cancellable);
  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (f->vk), f->x, f->sigma, BATCH, f->got, &error));
  g_cancellable_pop_current (cancellable);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (epd_vk_denoiser_get_n_submits (f->vk), ==, 0);
  g_assert_false (epd_vk_denoiser_fell_back (f->vk));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/vk/failures/oversized-batch", Fixture, GSIZE_TO_POINTER (256),
              fixture_set_up, test_oversized_batch, fixture_tear_down);
  g_test_add ("/vk/failures/per-call", Fixture, NULL, fixture_set_up, test_failure_per_call, fixture_tear_down);
  g_test_add ("/vk/failures/lost-for-good", Fixture, NULL, fixture_set_up, test_lost_for_good, fixture_tear_down);
  g_test_add ("/vk/failures/describe-from-another-thread", Fixture, NULL, fixture_set_up,
              test_describe_from_another_thread, fixture_tear_down);
  g_test_add ("/vk/failures/cancel-hung-wait", Fixture, NULL, fixture_set_up, test_cancel_hung_wait,
              fixture_tear_down);
  g_test_add ("/vk/failures/cancelled-before", Fixture, NULL, fixture_set_up, test_cancelled_before,
              fixture_tear_down);
  return g_test_run ();
}
