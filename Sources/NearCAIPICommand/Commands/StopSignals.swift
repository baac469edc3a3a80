#if canImport(Glibc)
import Glibc
#endif

/// Calls `handler` with the signal's number on SIGINT or SIGTERM, instead of ending the
/// process. The two are unblocked first: a blocked signal mask is inherited across `exec`,
/// and a parent that launched the program from a thread that blocks them (a test runner
/// does) would otherwise leave the request pending, unseen, for ever.
func catchStopSignals(_ handler: @convention(c) (Int32) -> Void) {
    var stops = sigset_t()
    sigemptyset(&stops)
    for number in [SIGINT, SIGTERM] {
        sigaddset(&stops, number)
        signal(number, handler)
    }
    pthread_sigmask(SIG_UNBLOCK, &stops, nil)
}

/// Gives SIGINT and SIGTERM back their default action (ending the process).
func releaseStopSignals() {
    for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
}
