/* SPDX-License-Identifier: MIT */
/* epd-flowmatch.c: D_fm(x, t) = D_ve(x / (1 - t), t / (1 - t)), so the VE
 * solvers run unchanged in flow-matching time. */
#include "epd-flowmatch.h"

struct _EpdFlowDenoiser
{
  GObject      parent_instance;
  EpdDenoiser *ve;
  char        *description;
};

static void epd_flow_denoiser_iface_init (EpdDenoiserInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpdFlowDenoiser, epd_flow_denoiser, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EPD_TYPE_DENOISER,
                                                      epd_flow_denoiser_iface_init))

static guint
flow_get_dim (EpdDenoiser *denoiser)
{
  return epd_denoiser_get_dim (EPD_FLOW_DENOISER (denoiser)->ve);
}

static const char *
flow_describe (EpdDenoiser *denoiser)
{
  return EPD_FLOW_DENOISER (denoiser)->description;
}

static gboolean
flow_get_image_shape (EpdDenoiser *denoiser,
                      guint       *side,
                      guint       *channels)
{
  return epd_denoiser_get_image_shape (EPD_FLOW_DENOISER (denoiser)->ve, side, channels);
}

static gboolean
flow_denoise (EpdDenoiser  *denoiser,
              const double *x,
              const double *t,
              gsize         batch,
              double       *out,
              GError      **error)
{
  EpdFlowDenoiser *self = EPD_FLOW_DENOISER (denoiser);
  guint dim = epd_denoiser_get_dim (self->ve);
  g_autofree double *y = g_new (double, batch * dim);
  g_autofree double *sigma = g_new (double, batch);

  for (gsize b = 0; b < batch; b++)
    {
      double te = MIN (t[b], EPD_FLOW_T_CAP);
      double keep = 1.0 - te;

      sigma[b] = te / keep;
      for (guint j = 0; j < dim; j++)
        y[b * dim + j] = x[b * dim + j] / keep;
    }
  return epd_denoiser_denoise (self->ve, y, sigma, batch, out, error);
}

static void
epd_flow_denoiser_iface_init (EpdDenoiserInterface *iface)
{
  iface->get_dim = flow_get_dim;
  iface->describe = flow_describe;
  iface->denoise = flow_denoise;
  iface->get_image_shape = flow_get_image_shape;
}

static void
epd_flow_denoiser_finalize (GObject *object)
{
  EpdFlowDenoiser *self = EPD_FLOW_DENOISER (object);

  g_clear_object (&self->ve);
  g_free (self->description);
  G_OBJECT_CLASS (epd_flow_denoiser_parent_class)->finalize (object);
}

static void
epd_flow_denoiser_class_init (EpdFlowDenoiserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = epd_flow_denoiser_finalize;
}

static void
epd_flow_denoiser_init (EpdFlowDenoiser *self)
{
}

EpdDenoiser *
epd_flow_denoiser_new (EpdDenoiser *ve)
{
  EpdFlowDenoiser *self;

  g_return_val_if_fail (EPD_IS_DENOISER (ve), NULL);
  self = g_object_new (EPD_TYPE_FLOW_DENOISER, NULL);
  self->ve = g_object_ref (ve);
  self->description = g_strdup_printf ("%s, flow-matching time", epd_denoiser_describe (ve));
  return EPD_DENOISER (self);
}
