/* SPDX-License-Identifier: MIT */
/* Push constants shared by the empirical-denoiser kernels (emp-*.comp).
 * Rows row0 .. row0 + rows - 1 of the call are one pass; the scratch
 * buffers (logits, row sums, partial sums) are indexed from 0 within it. */
layout (push_constant) uniform Push
{
  uint row0;
  uint rows;
  uint n;        /* training images */
  uint dim;
  uint chunk;    /* images per partial sum of the weighted sum */
} pc;
