#ifndef NEARCAIPI_CPOSTGRES_SHIM_H
#define NEARCAIPI_CPOSTGRES_SHIM_H

// Debian's libpq-dev puts the client header under postgresql/; the headers it includes with
// quotes are found beside it.
#include <postgresql/libpq-fe.h>

// PQsetNoticeProcessor's callback as a plain function: notices (e.g. "relation already
// exists, skipping") are the server talking to a person at a console, not errors; the store
// drops them instead of letting libpq print them on standard error under the screens.
static inline void nc_pg_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void nc_pg_silence_notices(PGconn *connection) {
    PQsetNoticeProcessor(connection, nc_pg_ignore_notice, 0);
}

#endif
