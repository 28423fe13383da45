/* SPDX-License-Identifier: MIT */
/* epd-distill.h: Stage 1, distilling an EPD (or EPD-Plugin) table from teacher trajectories.
 *
 * For each training noise the adaptive teacher, sampled at the grid's times, gives
 * the states x*_1 .. x*_N. The student runs EPD along its OWN trajectory; step n
 * starts from the student's x_n (held fixed) and its parameters are fitted to
 * x*_{n+1} by the squared distance (the default) or the L2 distance
 * (EpdDistillLoss). The final step uses the same loss against the teacher's final
 * sample (the reference uses an image-feature loss there, which has no meaning
 * for general models).
 *
 * Parameterisation (as in the paper): r = sigmoid(p), weight = softmax(q),
 * scale_* = 1 + s (2 sigmoid(p/2) - 1) with a user range s (0 disables the scale).
 * Gradients are exact: weight and scale_dir enter the output linearly, and r and
 * scale_time go through the denoiser's directional derivative
 * (epd_denoiser_denoise_jvp: analytic where the model has one, finite differences
 * otherwise). Adam with a cosine learning-rate schedule. Deterministic for a seed.
 * Flow-matching schedules run the same equations in flow time t on the model's
 * flow view (epd_flow_denoiser_new(), as epd_solve() does); that view has no
 * exact JVP, so r and scale_time get finite-difference JVPs there. */
#pragma once

#include <gio/gio.h>

#include "epd-types.h"
#include "epd-denoiser.h"
#include "epd-schedule.h"
#include "epd-solver.h"
#include "epd-table.h"

G_BEGIN_DECLS

/* The per-step loss: the squared distance to the teacher's state, or the L2
 * distance itself (the benchmark's metric: every noise pulls with the same
 * weight, so a few noises that end in another mode do not dominate). */
typedef enum
{
  EPD_DISTILL_LOSS_SQUARED,
  EPD_DISTILL_LOSS_L2,
} EpdDistillLoss;

#define EPD_DISTILL_MAX_TEACHER_HEUN 64

typedef struct
{
  EpdSolverKind   solver;            /* EPD_SOLVER_EPD or EPD_SOLVER_EPD_PLUGIN */
  guint           steps;             /* grid intervals */
  guint           n_points;          /* K */
  EpdSchedule     schedule;
  gboolean        afs;
  guint           max_order;         /* EPD-Plugin's iPNDM order, 1..4 */
  double          scale_dir_range;   /* s of scale_dir; 0 disables it */
  double          scale_time_range;  /* s of scale_time; 0 disables it */
  guint           n_train;           /* training noises */
  guint           n_val;             /* validation noises */
  guint           batch;             /* noises per iteration; 0 = all training noises */
  guint           iterations;
  double          learning_rate;     /* Adam's peak rate, decayed by a cosine to lr_final */
  double          lr_final;
  guint           val_every;         /* validate every so many iterations; 0 = about 20 times,
                                      * at most EPD_DISTILL_MAX_VAL_EVERY apart */
  guint32         train_seed;
  guint32         val_seed;          /* must differ from train_seed */
  double          teacher_rtol;
  /* 0: the adaptive teacher (Dormand-Prince 5(4) at teacher_rtol). M > 0: Heun on
   * the grid refined with M times between grid times (steps * (M + 1) intervals
   * of the same schedule, which pass through every grid time), the paper's
   * teacher with M = 3; at most EPD_DISTILL_MAX_TEACHER_HEUN. */
  guint           teacher_heun_m;
  EpdDistillLoss  loss;
  const char     *model_spec;        /* recorded in the metadata; may be NULL */
  const EpdTable *init;              /* starting table; NULL = the uniform table */
  /* Optional teacher states [steps][n][dim] of the training and validation noises
   * (epd_distill_teacher_states() from epd_distill_initial_states()), so that
   * several distillations on one grid share one teacher solve. Borrowed: they
   * must outlive the run (also an async one). NULL: solved here. */
  const double   *teacher_train;
  const double   *teacher_val;
  /* The final stage: from the step-wise stage's best table, Adam on the mean L2
   * error of the FINAL sample (the benchmark's metric) over final_n_train noises
   * (minibatches of final_batch), gradients by central differences of the table
   * parameters, validated every EPD_DISTILL_FINAL_VAL_EVERY iterations on the
   * validation noises and stopped after final_patience validations without a new
   * best. 0 iterations skips it; EPD_DISTILL_FINAL_AUTO (the default) runs
   * EPD_DISTILL_DEFAULT_FINAL_ITERATIONS on models of dimension up to
   * EPD_DISTILL_FINAL_AUTO_MAX_DIM and skips it on larger ones, whose forward
   * runs (2 per parameter an iteration) would cost minutes to hours. */
  guint           final_iterations;
  guint           final_n_train;
  guint           final_batch;
  double          final_lr;          /* Adam's peak rate, cosine-decayed to 1 % of it */
  guint           final_patience;
  /* Distil the step-wise stage on the polynomial, log-SNR and time-uniform grids
   * (schedule's sigma range) and keep the one with the lowest validation error;
   * the final stage then runs on that grid only. The init table, if any, seeds
   * every grid. */
  gboolean        search_schedule;
  /* Threads for the final stage's central differences (one probe of the
   * table parameters at a time each) and, on a model of dimension up to
   * EPD_DISTILL_FINAL_AUTO_MAX_DIM, for the grid search's step-wise stages
   * (one grid each; progress is reported for the caller's grids only);
   * 0 = the processors that the load average leaves free (this process
   * counted as one of them), at least one. The result does not depend on
   * it, bit for bit. */
  guint           threads;
} EpdDistillOptions;

typedef struct
{
  const char   *phase;           /* "teacher", "training" (the step-wise stage) or "final"
                                  * (the final stage; iteration and iterations count its own) */
  guint         iteration;       /* iterations done */
  guint         iterations;
  double        loss;            /* this iteration's training loss, averaged over the steps: mean L2
                                  * distance per noise, or mean squared error per coordinate */
  double        val_error;       /* latest validation error: mean L2 distance of the final samples; NaN before the first */
  double        best_val_error;
  guint         steps;
  const double *val_per_step;    /* [steps] of the latest validation, NULL before the first */
  double        elapsed_s;
  double        remaining_s;     /* estimate; negative while unknown */
} EpdDistillProgress;

/* Called on the thread that runs epd_distill_run(), after every iteration; a GTK
 * app copies what it needs (val_per_step is valid only during the call) and
 * forwards it to the main loop (g_idle_add / g_main_context_invoke). */
typedef void (*EpdDistillProgressFunc) (const EpdDistillProgress *progress,
                                        gpointer                  user_data);

/* The defaults of the training settings, in one place: epd_distill_options_init()
 * and the command-line options (whose --help quotes them) both use these. */
#define EPD_DISTILL_DEFAULT_N_TRAIN     32
#define EPD_DISTILL_DEFAULT_N_VAL       128
#define EPD_DISTILL_DEFAULT_ITERATIONS  2000
#define EPD_DISTILL_DEFAULT_LR          0.2
#define EPD_DISTILL_DEFAULT_LR_FINAL    0.001
#define EPD_DISTILL_DEFAULT_MAX_ORDER   4
#define EPD_DISTILL_DEFAULT_SCALE_DIR   0.5
#define EPD_DISTILL_DEFAULT_SCALE_TIME  0.5
#define EPD_DISTILL_DEFAULT_RTOL        1e-6
#define EPD_DISTILL_DEFAULT_LOSS        EPD_DISTILL_LOSS_SQUARED
#define EPD_DISTILL_DEFAULT_LOSS_NAME   squared
#define EPD_DISTILL_DEFAULT_FINAL_ITERATIONS 200
#define EPD_DISTILL_DEFAULT_FINAL_N_TRAIN    256
#define EPD_DISTILL_DEFAULT_FINAL_BATCH      256
#define EPD_DISTILL_DEFAULT_FINAL_LR         0.1
#define EPD_DISTILL_DEFAULT_FINAL_PATIENCE   10
#define EPD_DISTILL_FINAL_VAL_EVERY          10
#define EPD_DISTILL_FINAL_AUTO               G_MAXUINT
#define EPD_DISTILL_FINAL_AUTO_MAX_DIM       256
/* Validation runs at most this many iterations apart (and after a cancel). */
#define EPD_DISTILL_MAX_VAL_EVERY       100
/* r = sigmoid(p) is kept in [EPD_DISTILL_R_MIN, 1 - EPD_DISTILL_R_MIN], so that an
 * exported table never has r rounded to exactly 0 or 1. */
#define EPD_DISTILL_R_MIN               1e-9

/* Defaults: EPD, 4 steps, K = 2, AFS, order 4, and the EPD_DISTILL_DEFAULT_* values;
 * seeds 0 and 1. */
void               epd_distill_options_init (EpdDistillOptions       *self);
/* The final stage's iterations for a model of dimension dim (resolves EPD_DISTILL_FINAL_AUTO). */
guint              epd_distill_final_iterations (const EpdDistillOptions *self,
                                                 guint                    dim);
/* Deep copies for a GTask's data (the model spec and the initial table are copied). */
EpdDistillOptions *epd_distill_options_copy (const EpdDistillOptions *self);
void               epd_distill_options_free (EpdDistillOptions       *self);
gboolean           epd_distill_options_validate (const EpdDistillOptions *self,
                                                 GError                 **error);

/* Distils a table: the step-wise stage, then the final stage (if
 * final_iterations > 0 and not cancelled); returns the table with the lowest
 * validation error seen in either. Cancelling during training validates the current parameters once more (so the
 * iterations done so far count) and returns the best table, with metadata
 * "cancelled": true (so a GTask running it should not check the cancellable
 * itself); cancelling during the teacher solve returns NULL with
 * G_IO_ERROR_CANCELLED. A parameter set whose table is invalid (a non-finite
 * value) is never chosen as the best: it is counted in "invalid_validations".
 * The metadata records the model, teacher and tolerance, seeds, options,
 * the loss and validation curves, per-step validation errors and the wall time. */
EpdTable          *epd_distill_run          (EpdDenoiser             *denoiser,
                                             const EpdDistillOptions *options,
                                             EpdDistillProgressFunc   progress,
                                             gpointer                 user_data,
                                             GCancellable            *cancellable,
                                             GError                 **error);

/* The same in a GTask worker thread; progress is called on that thread. */
void               epd_distill_run_async    (EpdDenoiser             *denoiser,
                                             const EpdDistillOptions *options,
                                             EpdDistillProgressFunc   progress,
                                             gpointer                 user_data,
                                             GCancellable            *cancellable,
                                             GAsyncReadyCallback      callback,
                                             gpointer                 callback_data);
EpdTable          *epd_distill_run_finish   (GAsyncResult            *result,
                                             GError                 **error);

/* Error of a table against the teacher on given noises, following the student's
 * own trajectory: per_step[n] (steps entries, may be NULL) is the mean L2 distance
 * after step n; returns the final one, or a negative value with error set. */
double             epd_distill_table_error  (EpdDenoiser             *denoiser,
                                             const EpdTable          *table,
                                             const double            *x_init,
                                             const double            *teacher_states,
                                             gsize                    batch,
                                             double                  *per_step,
                                             GError                 **error);

/* Loss and exact gradient of the step-by-step loss at raw parameters theta
 * (layout [p_r | q_weight | p_scale_dir | p_scale_time], each [steps][K]; see
 * epd_distill_n_params()) over noises x_init with teacher states
 * [steps][batch][dim]. Exposed for gradient checks. */
gsize              epd_distill_n_params     (const EpdDistillOptions *options);
gboolean           epd_distill_loss_grad    (EpdDenoiser             *denoiser,
                                             const EpdDistillOptions *options,
                                             const double            *theta,
                                             const double            *x_init,
                                             const double            *teacher_states,
                                             gsize                    batch,
                                             double                  *loss,
                                             double                  *grad,
                                             GError                 **error);
/* The final stage's loss: the mean L2 distance of the final samples from noises
 * x_init to the teacher's final samples teacher_final [batch][dim], and its
 * gradient (n_params entries; those of disabled scales are 0) by central
 * differences of step EPD_DISTILL_FINAL_FD_STEP in theta. Deterministic. */
#define EPD_DISTILL_FINAL_FD_STEP 1e-5
gboolean           epd_distill_final_loss_grad (EpdDenoiser             *denoiser,
                                                const EpdDistillOptions *options,
                                                const double            *theta,
                                                const double            *x_init,
                                                const double            *teacher_final,
                                                gsize                    batch,
                                                double                  *loss,
                                                double                  *grad,
                                                GError                 **error);
/* The table that raw parameters theta stand for (metadata empty). */
EpdTable          *epd_distill_table_from_params (const EpdDistillOptions *options,
                                                  const double            *theta);
/* The initial states t_max z of n noises z drawn from seed (the training noises
 * use options->train_seed, the validation noises options->val_seed). */
double            *epd_distill_initial_states (const EpdDistillOptions *options,
                                               guint32                  seed,
                                               guint                    n,
                                               guint                    dim);
/* Teacher states [steps][batch][dim] at the grid's times t_1..t_N from x_init. */
double            *epd_distill_teacher_states (EpdDenoiser             *denoiser,
                                               const EpdDistillOptions *options,
                                               const double            *x_init,
                                               gsize                    batch,
                                               GCancellable            *cancellable,
                                               GError                 **error);

G_END_DECLS
