/* epd-table.c: placeholder until its owner lands it. */
