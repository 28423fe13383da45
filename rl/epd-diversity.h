/* epd-diversity.h: how varied a batch of final samples is (helper E2).
 * Mixtures: mode coverage (entropy of the nearest-component histogram,
 * normalised to [0,1] by log(number of components)). Image models: entropy of the
 * classifier's class histogram, normalised by log(10). */
#pragma once

#include "solver/epd.h"

G_BEGIN_DECLS

gboolean epd_diversity_measure (EpdDenoiser  *model,
                                const double *x_final,
                                gsize         batch,
                                double       *diversity,
                                GError      **error);

G_END_DECLS
