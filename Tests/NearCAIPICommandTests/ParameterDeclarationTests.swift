import Foundation
import Testing

/// Every verb declares each of its parameters once, and the parser and the help text are made
/// from the declarations. This checks them against what a user sees and what the parser
/// accepts: each declared option and flag has its entry in the verb's help, with its default;
/// each parameter is in a usage line; a name the verb does not declare — made up, or another
/// verb's — is a usage error. The declarations come from the executable itself
/// (`nearcaipi --dump-declarations`), so nothing here restates them.
@Suite struct ParameterDeclarationTests {
    struct Declared {
        let kind: String
        let name: String?
        let usage: String
        let shownDefault: String?
    }

    struct Declarations {
        let verbs: [(name: String, parameters: [Declared])]
        let everyVerb: [Declared]
    }

    static func declarations() throws -> Declarations {
        let result = try Tool.run(["--dump-declarations"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        func parameters(_ list: Any?) throws -> [Declared] {
            try #require(list as? [[String: Any]]).map { entry in
                Declared(kind: entry["kind"] as? String ?? "", name: entry["name"] as? String,
                         usage: entry["usage"] as? String ?? "", shownDefault: entry["default"] as? String)
            }
        }
        let verbs = try #require(object["verbs"] as? [[String: Any]]).map { verb in
            (name: verb["name"] as? String ?? "", parameters: try parameters(verb["parameters"]))
        }
        return Declarations(verbs: verbs, everyVerb: try parameters(object["every_verb"]))
    }

    /// The help's Options block as entries by option name, each entry's lines joined and its
    /// spaces collapsed (so a default broken across lines reads whole).
    static func optionEntries(_ help: String) -> [String: String] {
        var entries: [String: String] = [:]
        var current: String? = nil
        let block = help.components(separatedBy: "\n\n").first { $0.hasPrefix("Options:\n") || $0.hasPrefix("Every verb also takes:\n") }
        for line in (block ?? "").split(separator: "\n").dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            if line.hasPrefix("  --"), let name = words.first {
                current = name
                entries[name] = words.joined(separator: " ")
            } else if let current {
                entries[current]! += " " + words.joined(separator: " ")
            }
        }
        return entries
    }

    static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test func everyDeclaredParameterIsInItsHelpWithItsDefault() throws {
        let declarations = try Self.declarations()
        #expect(declarations.verbs.count == 21)
        for verb in declarations.verbs {
            let help = try Tool.run([verb.name, "--help"]).standardOutput
            let usage = Self.collapsed(help.components(separatedBy: "\n\n")[0])
            let entries = Self.optionEntries(help)
            for parameter in verb.parameters {
                #expect(usage.contains(parameter.usage), "\(verb.name): '\(parameter.usage)' not in the usage line")
                guard let name = parameter.name else { continue }
                let entry = try #require(entries[name], "\(verb.name): no Options entry for \(name)")
                if let shown = parameter.shownDefault {
                    #expect(entry.contains("(default: \(Self.collapsed(shown))"), "\(verb.name) \(name): \(entry)")
                } else {
                    #expect(!entry.contains("(default:"), "\(verb.name) \(name): \(entry)")
                }
            }
            #expect(entries.count == verb.parameters.filter { $0.name != nil }.count, "\(verb.name): undeclared entries")
        }
        let overview = Self.optionEntries(try Tool.run(["--help"]).standardOutput)
        for parameter in declarations.everyVerb {
            let entry = try #require(overview[parameter.name ?? ""], "no overview entry for \(parameter.usage)")
            if let shown = parameter.shownDefault { #expect(entry.contains("(default: \(shown)")) }
        }
    }

    @Test func anUndeclaredOptionIsAUsageError() throws {
        let declarations = try Self.declarations()
        let everyName = Set(declarations.verbs.flatMap { $0.parameters.compactMap(\.name) })
        for verb in declarations.verbs {
            try expectUsageError([verb.name, "--no-such-option"], "unknown option '--no-such-option'")
            // Another verb's option is as unknown here as a made-up one.
            let own = Set(verb.parameters.compactMap(\.name))
            if let foreign = everyName.subtracting(own).sorted().first {
                try expectUsageError([verb.name, foreign, "x"], "unknown option '\(foreign)'")
            }
        }
    }
}
