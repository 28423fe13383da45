/* epd-dataset.c: placeholder until its owner lands it. */
