#ifndef NEARCAIPI_CDNNL_SHIM_H
#define NEARCAIPI_CDNNL_SHIM_H

// oneDNN's C API as Debian's libdnnl-dev (2.6) installs it: operation descriptors
// (dnnl_*_desc_init) turned into primitive descriptors, then primitives.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <stddef.h>

// Debian builds oneDNN on the OpenMP runtime (libgomp), so the threads one call uses are
// OpenMP's per-thread setting. The library is already loaded as oneDNN's dependency; looking
// the two controls up at run time spares the package a link flag for libgomp.
static inline void nc_dnnl_set_thread_count(int n) {
    static void (*set)(int) = NULL;
    if (!set) set = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set) set(n);
}

static inline int nc_dnnl_thread_count(void) {
    static int (*get)(void) = NULL;
    if (!get) get = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    return get ? get() : 1;
}

// The implementation oneDNN chose for a primitive descriptor (e.g. "brgconv:avx512_core").
static inline const char *nc_dnnl_implementation(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success) return "?";
    return name ? name : "?";
}

// The memory descriptor of one of a primitive's arguments (src, weights, workspace, ...);
// a zero descriptor when the primitive has no such argument.
static inline dnnl_memory_desc_t nc_dnnl_query_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, index);
    dnnl_memory_desc_t zero = {0};
    return md ? *md : zero;
}

#endif
