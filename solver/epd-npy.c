/* epd-npy.c: placeholder until its owner lands it. */
