/* epd-model.c: placeholder until its owner lands it. */
