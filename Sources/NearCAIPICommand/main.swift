import Foundation
import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// The verbs, in the order `nearcaipi --help` lists them.
let commands: [any Command.Type] = [SampleCommand.self, ScanCommand.self, InitCommand.self, StatusCommand.self,
                                     FeedbackCommand.self, PretrainCommand.self, TrainCommand.self, PredictCommand.self, RollbackCommand.self, PromoteCommand.self, RevertCommand.self, MigrateCommand.self,
                                     ExportCommand.self, LabelCommand.self, ExplainCommand.self,
                                     EvalExplanationsCommand.self, EvalNeighboursCommand.self, EvalDetectionCommand.self, SimulateCommand.self, ExpertCommand.self, BenchCommand.self]
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
    text += "\nEvery verb also takes:\n"
    text += HelpText.optionLines(everyVerbTakes.compactMap(\.helpEntry)).joined(separator: "\n")
    text += "\n\nExit status: 0 done, 1 the work failed, 2 the command line was wrong."
    return text
}

/// How the network is computed, for the whole process.
let backendOption = Option<Backend?>(
    name: "--backend", placeholder: "NAME",
    help: "how the network is computed: onednn (oneDNN's direct convolutions) or openblas (im2col + OpenBLAS, the reference)",
    format: ValueFormat { (text) throws(Refusal) in
        guard let backend = Backend(rawValue: text) else { throw Refusal("takes onednn or openblas; got '\(text)'") }
        return backend
    },
    defaultDescription: "onednn", note: "the environment variable \(Backend.environmentVariable) sets the same")

/// The options every verb accepts besides its own.
let everyVerbTakes: [any Parameter] = [backendOption]

/// Every verb's declared parameters as one JSON object, for tools that read the command line's
/// shape (completion scripts; the test that checks every declaration against the help texts).
@MainActor func declarationsJSON() throws -> String {
    struct Declaration: Encodable {
        var kind: String
        var name: String?
        var repeatable: Bool?
        var usage: String
        var `default`: String?

        init(_ parameter: any Parameter) {
            switch parameter.kind {
            case .positional: kind = "positional"
            case .flag(let flag): kind = "flag"; name = flag
            case .option(let option, let repeats): kind = "option"; name = option; repeatable = repeats
            }
            usage = parameter.usage
            `default` = parameter.helpEntry?.shownDefault
        }
    }
    struct Verb: Encodable {
        var name: String
        var parameters: [Declaration]
    }
    struct Declarations: Encodable {
        var verbs: [Verb]
        var every_verb: [Declaration]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let declarations = Declarations(verbs: commands.map { Verb(name: $0.name, parameters: $0.parameters.map(Declaration.init)) },
                                    every_verb: everyVerbTakes.map(Declaration.init))
    return String(decoding: try encoder.encode(declarations), as: UTF8.self)
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
    if verb == "--dump-declarations" {
        do {
            print(try declarationsJSON())
            return 0
        } catch {
            printError("nearcaipi: cannot describe the declarations: \(error)")
            return 1
        }
    }
    if verb == "--version" || verb == "version" {
        print("nearcaipi \(version)")
        return 0
    }
    guard let command = commands.first(where: { $0.name == verb }) else {
        printError("nearcaipi: unknown verb '\(verb)'. Run 'nearcaipi --help' for the list.")
        return 2
    }
    let rest = Array(words.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        print(command.help)
        return 0
    }
    do {
        if let value = Backend.unrecognisedEnvironmentValue {
            throw UsageError("environment variable \(Backend.environmentVariable) must be onednn or openblas; got '\(value)'")
        }
        let arguments = try Arguments(rest, declared: command.parameters + everyVerbTakes)
        if let backend = try arguments[backendOption] { try choose(backend) }
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

/// Makes `backend` the process's backend, if it can start here.
func choose(_ backend: Backend) throws {
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
