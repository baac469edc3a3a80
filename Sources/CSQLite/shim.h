#ifndef NEARCAIPI_CSQLITE_SHIM_H
#define NEARCAIPI_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is the macro ((sqlite3_destructor_type)-1): SQLite copies the bound
// buffer before the bind call returns. Swift cannot import a cast-to-function-pointer macro.
static inline int nc_sqlite_bind_text_copy(sqlite3_stmt *s, int i, const char *text, int n) {
    return sqlite3_bind_text(s, i, text, n, SQLITE_TRANSIENT);
}
static inline int nc_sqlite_bind_blob_copy(sqlite3_stmt *s, int i, const void *data, int n) {
    return sqlite3_bind_blob(s, i, data, n, SQLITE_TRANSIENT);
}
// sqlite3_config is variadic; the one setting the product needs gets a fixed signature.
static inline int nc_sqlite_config_serialized(void) {
    return sqlite3_config(SQLITE_CONFIG_SERIALIZED);
}

#endif
