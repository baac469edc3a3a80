import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// The verbs, in the order `nearcaipi --help` lists them.
let commands: [any Command.Type] = [SampleCommand.self, ScanCommand.self, InitCommand.self, StatusCommand.self,
                                     FeedbackCommand.self, TrainCommand.self, PredictCommand.self, RollbackCommand.self,
                                     ExportCommand.self, LabelCommand.self, ExplainCommand.self,
                                     EvalExplanationsCommand.self, SimulateCommand.self, ExpertCommand.self, BenchCommand.self]
let version = "0.1.0"

@MainActor func overview() -> String {
    var text = """
    nearcaipi \(version) — interactive, explainable OK/NOK inspection of part images.

    Usage: nearcaipi <verb> [options]
           nearcaipi <verb> --help

    Verbs:

    """
    let width = commands.map { $0.name.count }.max() ?? 0
    for command in commands {
        text += "  \(command.name)\(String(repeating: " ", count: width - command.name.count))  \(command.summary)\n"
    }
    text += """

    Every verb also takes:
      --backend NAME  how the network is computed: onednn (the default: oneDNN's direct
                      convolutions) or openblas (im2col + OpenBLAS, the reference); the
                      environment variable \(Backend.environmentVariable) sets the same

    """
    text += "\nExit status: 0 done, 1 the work failed, 2 the command line was wrong."
    return text
}

@MainActor func runMain(_ words: [String]) -> Int32 {
    guard let verb = words.first else {
        printError(overview())
        return 2
    }
    if verb == "--help" || verb == "-h" || verb == "help" {
        if words.count > 1, let command = commands.first(where: { $0.name == words[1] }) {
            print(command.help)
        } else {
            print(overview())
        }
        return 0
    }
    if verb == "--version" || verb == "version" {
        print("nearcaipi \(version)")
        return 0
    }
    guard let command = commands.first(where: { $0.name == verb }) else {
        printError("nearcaipi: unknown verb '\(verb)'. Run 'nearcaipi --help' for the list.")
        return 2
    }
    var rest = Array(words.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        print(command.help)
        return 0
    }
    do {
        try chooseBackend(&rest)
        let arguments = try Arguments(rest, options: command.options, flags: command.flags)
        try command.run(arguments)
        return 0
    } catch let error as UsageError {
        printError("nearcaipi \(command.name): \(error.message)")
        printError("Run 'nearcaipi \(command.name) --help' for usage.")
        return 2
    } catch {
        printError("nearcaipi \(command.name): \(userMessage(for: error))")
        return 1
    }
}

/// Takes `--backend NAME` out of the words (any verb accepts it) and sets the process's
/// backend; checks `NEARCAIPI_BACKEND` the same way.
func chooseBackend(_ words: inout [String]) throws {
    if let value = Backend.unrecognisedEnvironmentValue {
        throw UsageError("environment variable \(Backend.environmentVariable) must be onednn or openblas; got '\(value)'")
    }
    var chosen: String?
    if let index = words.firstIndex(of: "--backend") {
        guard index + 1 < words.count else { throw UsageError("option '--backend' needs a value: onednn or openblas") }
        chosen = words[index + 1]
        words.removeSubrange(index...(index + 1))
    } else if let index = words.firstIndex(where: { $0.hasPrefix("--backend=") }) {
        chosen = String(words[index].dropFirst("--backend=".count))
        words.remove(at: index)
    }
    guard let chosen else { return }
    guard let backend = Backend(rawValue: chosen) else {
        throw UsageError("option '--backend' takes onednn or openblas; got '\(chosen)'")
    }
    if backend == .oneDNN && !DNNL.isAvailable {
        throw RuntimeFailure("the oneDNN backend cannot start here (libdnnl did not create a CPU engine); "
                             + "use --backend openblas")
    }
    Backend.default = backend
}

/// OpenMP (under oneDNN) reads how long idle threads spin once, in its library constructor,
/// before `main`; setting it now would be too late. So when the environment says nothing,
/// the process sets the product's spin count (DNNL.preferredSpinCount: why) and replaces
/// itself with a fresh copy of the same command (one exec, before any thread or file).
/// If the exec fails, it goes on with OpenMP's default.
func startWithOpenMPWaitPolicy() {
    guard getenv(DNNL.waitPolicyVariable) == nil, getenv(DNNL.spinCountVariable) == nil else { return }
    setenv(DNNL.spinCountVariable, DNNL.preferredSpinCount, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}

startWithOpenMPWaitPolicy()
exit(runMain(Array(CommandLine.arguments.dropFirst())))
