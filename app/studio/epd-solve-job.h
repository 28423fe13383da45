/* SPDX-License-Identifier: MIT */
/* epd-solve-job.h: one live solve of the studio, free of GTK.
 *
 * The window copies its inputs into an EpdSolveRequest and runs it in a GTask
 * worker; the result carries everything the views draw. The teacher's trace
 * depends only on the model, schedule, grid, seed and batch, so it is shared
 * (reference counted) between results and reused while those stay the same:
 * dragging a coefficient re-runs only the student; the last teacher solved is
 * also kept here, so that a job which waited for another's same teacher (the
 * window's and Compare's) does not solve it again. */
#pragma once

#include <gio/gio.h>

#include "epd.h"
#include "epd-plot-error.h"

G_BEGIN_DECLS

/* A teacher trace with its key and the baselines' errors against it (they do
 * not depend on the table either), shared read-only between threads. */
typedef struct
{
  char           *key;
  EpdTrace       *trace;
  EpdTrace       *baseline_trace;  /* the teacher on the baselines' grid when it is
                                    * another (equal latency NFE), else NULL */
  EpdErrorReport *baselines;  /* per-step curves of Euler, DPM++(2M), iPNDM at the
                               * student's latency NFE (small models; images: on the
                               * student's grid, as a second teacher would cost
                               * minutes), and their final error against NFE
                               * (7 grids for small models, 3 for images) */
} EpdTeacherRun;

EpdTeacherRun *epd_teacher_run_ref   (EpdTeacherRun *self);
void           epd_teacher_run_unref (EpdTeacherRun *self);

/* What a running solve is doing: written by its worker, read by the main
 * loop (atomically), so that a long teacher solve shows how far it is. */
typedef enum
{
  EPD_SOLVE_PHASE_WAITING,    /* for another solve (jobs take turns) */
  EPD_SOLVE_PHASE_STUDENT,
  EPD_SOLVE_PHASE_TEACHER,    /* fraction: how far its noise level has come down, on a log scale */
  EPD_SOLVE_PHASE_BASELINES,  /* fraction: the baseline solves done */
  EPD_SOLVE_PHASE_DONE,
} EpdSolvePhase;

typedef struct _EpdSolveProgress EpdSolveProgress;

EpdSolveProgress *epd_solve_progress_new   (void);
EpdSolveProgress *epd_solve_progress_ref   (EpdSolveProgress *self);
void              epd_solve_progress_unref (EpdSolveProgress *self);
/* The phase, and in fraction how far it has come (0..1). */
EpdSolvePhase     epd_solve_progress_get   (EpdSolveProgress *self,
                                            double           *fraction);
/* How far a phase had come when the next one began (for tests). */
double            epd_solve_progress_reached (EpdSolveProgress *self,
                                              EpdSolvePhase     phase);
const char       *epd_solve_phase_describe (EpdSolvePhase     phase);

typedef struct
{
  EpdDenoiser     *model;       /* owned reference */
  char            *model_key;   /* spec + device: part of the teacher key */
  EpdSolveOptions  options;     /* options.table points at table */
  EpdTable        *table;       /* owned copy, or NULL for table-free solvers */
  guint32          seed;
  gsize            batch;
  EpdTeacherRun   *teacher;     /* a previous teacher, reused when its key matches; may be NULL */
  gboolean         teacher_wanted; /* run the teacher when none matches (default TRUE) */
  gint64           created_us;     /* for the timing log: time spent queued */
  EpdSolveProgress *progress;     /* optional (a reference): updated as the request runs */
} EpdSolveRequest;

typedef struct
{
  EpdTrace       *trace;
  EpdTeacherRun  *teacher;      /* may be NULL */
  EpdErrorReport *errors;       /* the table's, then the baselines'; empty without a teacher */
  EpdNfe          nfe;
  double          final_error;  /* NAN without a teacher */
  double          solve_ms;     /* the student's solve alone */
  double          total_ms;     /* the whole job */
  double          queued_ms;    /* from the request's creation to the job's start */
} EpdSolveResult;

/* Copies table; takes a reference on model and teacher. */
EpdSolveRequest *epd_solve_request_new    (EpdDenoiser           *model,
                                           const char            *model_key,
                                           const EpdSolveOptions *options,
                                           const EpdTable        *table,
                                           guint32                seed,
                                           gsize                  batch,
                                           EpdTeacherRun         *teacher);
void             epd_solve_request_free   (EpdSolveRequest       *self);
/* The key under which the request's teacher is cached. */
char            *epd_solve_request_teacher_key (const EpdSolveRequest *self);

EpdSolveResult  *epd_solve_request_run    (EpdSolveRequest       *self,
                                           GCancellable          *cancellable,
                                           GError               **error);
void             epd_solve_result_free    (EpdSolveResult        *self);

/* The steps (1..max_steps) at which options' solver has the latency NFE
 * nearest latency (the fewer steps on a tie). */
guint            epd_steps_for_latency     (const EpdSolveOptions *options,
                                            guint                  latency,
                                            guint                  max_steps);

/* An image model (any side, 1 or 3 channels) rather than points: the views
 * draw its rows as images and its live solves use a small batch. */
gboolean         epd_studio_is_image_model (EpdDenoiser      *model);

/* In a GTask worker thread; the request is consumed. */
void             epd_solve_request_run_async  (EpdSolveRequest     *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
EpdSolveResult  *epd_solve_request_run_finish (GAsyncResult        *result,
                                               GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdSolveRequest, epd_solve_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdSolveProgress, epd_solve_progress_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdSolveResult, epd_solve_result_free)

G_END_DECLS
