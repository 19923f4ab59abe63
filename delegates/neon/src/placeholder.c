int edgelift_neon_placeholder(void) { return 0; }
