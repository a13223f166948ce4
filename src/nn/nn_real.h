/* nn_real.h — the floating-point type of the layer code. float64 throughout for now; the
 * layers are written against nn_real so that a float32 inference path can be added. */
#ifndef MLPOT_NN_REAL_H
#define MLPOT_NN_REAL_H

typedef double nn_real;

#endif
