#ifndef NEARCAIPI_CBLAS_SHIM_H
#define NEARCAIPI_CBLAS_SHIM_H

// Debian's libopenblas-dev installs OpenBLAS's cblas.h (which also declares the
// openblas_* controls) through the alternatives system at this path.
#include <cblas.h>

// OpenBLAS chooses its kernels (AVX-512, AVX2, ...) at run time from the CPU it finds;
// openblas_get_corename reports which one it took so benchmarks can name it.
static inline const char *nc_blas_core_name(void) { return openblas_get_corename(); }
static inline int nc_blas_thread_count(void) { return openblas_get_num_threads(); }
static inline void nc_blas_set_thread_count(int n) { openblas_set_num_threads(n); }

#endif
