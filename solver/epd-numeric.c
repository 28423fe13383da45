/* SPDX-License-Identifier: MIT
 *
 * epd-numeric.c: the finite check and the Adam(W) step. */
#include "epd-numeric.h"

#include <math.h>

gssize
epd_first_non_finite (const double *v,
                      gsize         n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]))
      return (gssize) i;
  return -1;
}

typedef struct
{
  const EpdAdam *adam;
  double         lr;
  double         c1;   /* bias corrections of this step */
  double         c2;
} AdamStep;

static AdamStep
adam_step_init (const EpdAdam *adam,
                guint64        t,
                double         lr)
{
  return (AdamStep) { adam, lr, 1.0 - pow (adam->beta1, (double) t), 1.0 - pow (adam->beta2, (double) t) };
}

/* The one Adam(W) update: moments, then the parameter's new value. */
static inline double
adam_update (const AdamStep *s,
             double          p,
             double          g,
             double         *m,
             double         *v)
{
  const EpdAdam *a = s->adam;

  *m = a->beta1 * *m + (1.0 - a->beta1) * g;
  *v = a->beta2 * *v + (1.0 - a->beta2) * g * g;
  return p - s->lr * (a->weight_decay * p + (*m / s->c1) / (sqrt (*v / s->c2) + a->eps));
}

void
epd_adam_step (const EpdAdam *adam,
               guint64        t,
               double         lr,
               double        *p,
               const double  *grad,
               double        *m,
               double        *v,
               gsize          n)
{
  AdamStep s = adam_step_init (adam, t, lr);

  for (gsize i = 0; i < n; i++)
    p[i] = adam_update (&s, p[i], grad[i], &m[i], &v[i]);
}

void
epd_adam_step_float (const EpdAdam *adam,
                     guint64        t,
                     double         lr,
                     float         *p,
                     const float   *grad,
                     double        *m,
                     double        *v,
                     gsize          n)
{
  AdamStep s = adam_step_init (adam, t, lr);

  for (gsize i = 0; i < n; i++)
    p[i] = (float) adam_update (&s, p[i], grad[i], &m[i], &v[i]);
}
