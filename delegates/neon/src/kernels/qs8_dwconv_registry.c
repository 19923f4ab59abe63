/* The one list of qs8 depthwise variants, best first (see qs8_dwconv.h). */
#include <stddef.h>

#include "qs8_dwconv.h"

void qs8_dwconv_16c__scalar(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);

const qs8_dwconv_ukernel qs8_dwconv_ukernels[] = {
    {"qs8_dwconv_16c__scalar", 0, qs8_dwconv_16c__scalar},
    {NULL, 0, NULL},
};
