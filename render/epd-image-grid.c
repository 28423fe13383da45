/* epd-image-grid.c: placeholder until its owner lands it. */
