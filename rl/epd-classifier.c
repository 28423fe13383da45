/* epd-classifier.c: placeholder until its owner lands it. */
