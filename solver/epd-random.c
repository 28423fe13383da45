/* SPDX-License-Identifier: MIT */
/* epd-random.c: seeded normals (Box-Muller on GRand's Mersenne twister). */
#include "epd-random.h"

#include <math.h>

void
epd_random_normal_fill (GRand  *rand,
                        double *out,
                        gsize   n)
{
  for (gsize i = 0; i < n; i += 2)
    {
      /* 1 - u keeps the logarithm's argument in (0, 1]. */
      double u1 = 1.0 - g_rand_double (rand);
      double u2 = g_rand_double (rand);
      double radius = sqrt (-2.0 * log (u1));

      out[i] = radius * cos (2.0 * G_PI * u2);
      if (i + 1 < n)
        out[i + 1] = radius * sin (2.0 * G_PI * u2);
    }
}

double
epd_random_normal (GRand *rand)
{
  double v;

  epd_random_normal_fill (rand, &v, 1);
  return v;
}

double *
epd_random_latents (guint32 seed,
                    gsize   batch,
                    guint   dim)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  double *z = g_new (double, batch * dim);

  epd_random_normal_fill (rand, z, batch * dim);
  return z;
}
