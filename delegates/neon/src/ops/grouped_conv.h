/* Grouped CONV_2D (Keras Conv2D(groups=G): filter [OC][kh][kw][C / G]), the part of conv.c's CONV_2D whose
 * weights see only a group of the input channels. The builtin computes these with its reference ConvPerChannel
 * (gemmlowp's double rounding on every channel). One input channel per group (ConvNeXt's depthwise 7x7) runs
 * through the depthwise microkernels, weights repacked at prepare; larger groups through a plain grouped loop. */
#ifndef EDGELIFT_GROUPED_CONV_H
#define EDGELIFT_GROUPED_CONV_H

#include "op.h"
#include "util.h"

typedef struct el_window {
  int padding, stride_w, stride_h, dilation_w, dilation_h, activation;
} el_window;

typedef struct el_grouped_conv el_grouped_conv;

/* 1 when the weights' depth divides the input channels into groups that divide the output channels; else *why */
int el_grouped_conv_check(const el_weighted* t, const char** why);
/* Packs the constants (first call) and sets the geometry of these shapes into *g (allocated on first call). */
TfLiteStatus el_grouped_conv_prepare(TfLiteContext* c, const el_node* node, const el_window* win, const el_shape* in,
                                     const el_shape* out, const el_kernels* kernels, el_grouped_conv** g);
void el_grouped_conv_invoke(const el_grouped_conv* g, const el_node* node, const el_io* io);
void el_grouped_conv_release(el_grouped_conv* g);

#endif
