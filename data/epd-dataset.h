/* SPDX-License-Identifier: MIT */
/* epd-dataset.h: image datasets in memory.
 *
 * An EpdDataset holds n images of side x side x channels float pixels in
 * [-1, 1], row-major [n][side][side][channels] (the layout of the denoiser's
 * image rows), optional labels and class names. It is reference counted and
 * immutable once loaded, so threads may share it.
 *
 * Sources: idx files (Fashion-MNIST, gzip or raw) and folders of PNG images.
 * Subsets: the first N images, or the first N images of every class. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

typedef struct _EpdDataset EpdDataset;

typedef enum {
  EPD_DATASET_SPLIT_TRAIN,
  EPD_DATASET_SPLIT_TEST,
} EpdDatasetSplit;

/* Which images to keep, in file order. first_n 0 = all; per_class > 0 keeps the
 * first per_class images of every class (needs labels; first_n is then ignored)
 * and fails if a class has fewer. */
typedef struct {
  gsize first_n;
  guint per_class;
} EpdDatasetSubset;

/* The folder of Fashion-MNIST: $EPD_FASHION_MNIST_DIR if set, else
 * /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist). */
const char  *epd_dataset_fashion_mnist_dir (void);
/* The ten Fashion-MNIST class names ("T-shirt/top" ... "Ankle boot"). */
const char *const *epd_dataset_fashion_mnist_classes (void);

/* {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from the folder above. */
EpdDataset  *epd_dataset_load_fashion_mnist (EpdDatasetSplit         split,
                                             const EpdDatasetSubset *subset,
                                             GError                **error);
/* One idx3 image file (u8, [n][rows][cols], rows == cols) and optionally an idx1
 * label file of the same count. Names ending in ".gz" are gunzipped. Pixels
 * p map to p / 127.5 - 1. subset may be NULL (everything). */
EpdDataset  *epd_dataset_load_idx           (const char             *images_path,
                                             const char             *labels_path,
                                             const EpdDatasetSubset *subset,
                                             GError                **error);
/* Every *.png in dir, sorted by file name; each is center-cropped to a square and
 * scaled to side x side with Cairo's filter. channels 1 = grey (Rec. 709 luma),
 * 3 = RGB. Alpha is composited over black. No labels. */
EpdDataset  *epd_dataset_load_png_dir       (const char             *dir,
                                             guint                   side,
                                             guint                   channels,
                                             GError                **error);
/* A new dataset with the chosen images (copied), e.g. of a PNG folder. */
EpdDataset  *epd_dataset_subset             (EpdDataset             *self,
                                             const EpdDatasetSubset *subset,
                                             GError                **error);

/* From arrays: pixels [n][side*side*channels] are copied (and must lie in
 * [-1, 1]); labels (may be NULL) are copied; n_classes 0 with labels = max + 1. */
EpdDataset  *epd_dataset_new_from_data      (const char             *name,
                                             const float            *pixels,
                                             const guint8           *labels,
                                             gsize                   n,
                                             guint                   side,
                                             guint                   channels,
                                             GError                **error);

EpdDataset  *epd_dataset_ref                (EpdDataset *self);
void         epd_dataset_unref              (EpdDataset *self);

/* Short name, e.g. "fashion-mnist:train" or the PNG folder's path. */
const char  *epd_dataset_get_name           (EpdDataset *self);
gsize        epd_dataset_get_n              (EpdDataset *self);
guint        epd_dataset_get_side           (EpdDataset *self);
guint        epd_dataset_get_channels       (EpdDataset *self);
/* side * side * channels */
guint        epd_dataset_get_dim            (EpdDataset *self);
/* [n][dim] floats in [-1, 1], owned by the dataset. */
const float *epd_dataset_get_pixels         (EpdDataset *self);
const float *epd_dataset_get_image          (EpdDataset *self,
                                             gsize       index);
/* [n] labels, or NULL when the dataset has none. */
const guint8 *epd_dataset_get_labels        (EpdDataset *self);
/* 0 without labels. */
guint        epd_dataset_get_n_classes      (EpdDataset *self);
/* The class's name, or NULL when unnamed or out of range. */
const char  *epd_dataset_get_class_name     (EpdDataset *self,
                                             guint       klass);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdDataset, epd_dataset_unref)

G_END_DECLS
