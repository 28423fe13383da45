/* SPDX-License-Identifier: MIT
 * epd-linalg.h: small dense symmetric linear algebra in double precision. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Eigen-decomposition of the symmetric n x n matrix a (row-major, read only) by cyclic
 * Jacobi rotations: a = V diag(evals) V^T, eigenvectors in the columns of vecs
 * (row-major n x n). Accurate to a few ulps of the largest eigenvalue; O(n^3) per sweep,
 * meant for n up to a few hundred. */
void   epd_sym_eigen (const double *a,
                      guint         n,
                      double       *evals,
                      double       *vecs);

/* out = a^{1/2} for a symmetric positive semi-definite a (negative eigenvalues from
 * rounding are clamped to zero). */
void   epd_sym_sqrt  (const double *a,
                      guint         n,
                      double       *out);

G_END_DECLS
