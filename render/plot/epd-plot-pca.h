/* SPDX-License-Identifier: MIT */
/* epd-plot-pca.h: a 2-D projection of high-dimensional trajectories.
 * The two principal components of a set of rows, found by power iteration on
 * X^T X without forming the dim x dim covariance. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

typedef struct
{
  guint   dim;
  double *mean;        /* [dim] */
  double *axis[2];     /* unit vectors [dim], orthogonal */
  double  variance[2]; /* variance of the rows along each axis */
} EpdPca;

/* rows: [n][dim]. NULL with an error when n < 2 or the rows are not finite. */
EpdPca *epd_pca_fit          (const double *rows,
                              gsize         n,
                              guint         dim,
                              GError      **error);
/* Every state of a trace (each step's x and x_final) as the row set; with
 * normalise, each state divided by sqrt(1 + t^2) (sigma time only), as the
 * trajectory plot draws them. */
EpdPca *epd_pca_fit_trace    (const EpdTrace *trace,
                              gboolean        normalise,
                              GError        **error);
void    epd_pca_project      (const EpdPca *self,
                              const double *row,
                              double       *u,
                              double       *v);
void    epd_pca_free         (EpdPca       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdPca, epd_pca_free)

G_END_DECLS
