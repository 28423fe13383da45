/* epd-vk-context.c: placeholder until its owner lands it. */
