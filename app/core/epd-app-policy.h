/* SPDX-License-Identifier: MIT
 *
 * epd-app-policy.h: the choices the `epd` command line and the studio share,
 * so both front ends answer the same question the same way. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

/* Latency NFE budgets accepted anywhere an NFE list is given (--nfe). */
#define EPD_NFE_MIN 1
#define EPD_NFE_MAX 1000

/* TRUE when table was made for MODEL (its metadata "model") with exactly these
 * settings: solver, steps, K, AFS and the grid's times (to 1e-9 relative). */
gboolean    epd_table_fits             (const EpdTable    *table,
                                        const char        *model,
                                        EpdSolverKind      solver,
                                        guint              steps,
                                        guint              k,
                                        gboolean           afs,
                                        const EpdSchedule *schedule);

/* The shipped table that fits (epd_table_fits) or NULL; *name receives
 * "builtin:NAME". */
EpdTable   *epd_find_shipped_table     (const char        *model,
                                        EpdSolverKind      solver,
                                        guint              steps,
                                        guint              k,
                                        gboolean           afs,
                                        const EpdSchedule *schedule,
                                        char             **name);

/* Made by RDPO (Stage 2): its metadata's created_by says "epd rdpo". */
gboolean    epd_table_is_rdpo          (const EpdTable    *table);

/* The shipped table that fits (epd_table_fits), preferring one made by RDPO
 * (prefer_rdpo) or one not made by RDPO (a distilled table), else any that
 * fits; NULL if none does. *name receives "builtin:NAME". The editor starts
 * from the distilled table, Compare's B is the RDPO one. */
EpdTable   *epd_find_shipped_table_preferring (const char        *model,
                                               EpdSolverKind      solver,
                                               guint              steps,
                                               guint              k,
                                               gboolean           afs,
                                               const EpdSchedule *schedule,
                                               gboolean           prefer_rdpo,
                                               char             **name);

/* Narrows the schedule's sigma range to the part the model was trained on
 * (a learned model reports it): sigma_min rises to the model's smallest sigma
 * and sigma_max falls to its largest, each only where keep_min / keep_max is
 * FALSE (the user did not set it). The EDM range stays the default: a model
 * trained wider gains only steps in pure noise, one trained narrower would be
 * asked about noise levels it never saw. Flow-matching schedules and models
 * without a range are left alone. TRUE when it changed the schedule. */
gboolean    epd_schedule_fit_model     (EpdSchedule       *schedule,
                                        EpdDenoiser       *model,
                                        gboolean           keep_min,
                                        gboolean           keep_max);

/* The tolerance of the studio's reference (teacher) solve, from the window's
 * tolerance rtol: kept for models up to 64 dimensions, at least 1e-5 for larger
 * ones (the empirical image models: the reference in seconds), and at least 1e-3
 * for learned networks (models that report a trained sigma range), where an
 * evaluation costs milliseconds: 1e-3 is the tolerance of `epd compare --protocol`'s
 * reference on them (97 evaluations per image on the Fashion-MNIST UNet). */
double      epd_studio_teacher_rtol    (EpdDenoiser       *model,
                                        double             rtol);

/* The reward a model is improved and judged with when none is named:
 * "logdensity" for a Gaussian mixture (exact), "classifier" for 28x28 grey
 * images (what the project's classifier reads), else "teacher". A Vulkan
 * denoiser answers for its CPU model. */
const char *epd_default_reward         (EpdDenoiser       *model);

/* "N,N,..." as a GArray of guint, each in [min, max]; option names the option
 * in the error message. Empty lists and stray characters are errors. */
GArray     *epd_parse_number_list      (const char        *option,
                                        const char        *text,
                                        guint              min,
                                        guint              max,
                                        GError           **error);

G_END_DECLS
