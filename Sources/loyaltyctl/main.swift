import Foundation
import LoyaltyCore
import LoyaltyStore
import Postgres

/// loyaltyctl: the admin's verbs. Exit codes: 0 ok, 1 failure, 2 usage.
let verbs: [Verb] = setupVerbs + programVerbs + rewardVerbs + memberVerbs + dataRightsVerbs + listVerbs + runVerbs + importVerbs
    + reportVerbs + eventVerbs

func help(for candidates: [Verb]) -> String {
    var text = "usage:\n"
    for verb in candidates { text += "  loyaltyctl \(verb.usage)\n      \(verb.summary)\n" }
    text += "\nevery verb takes --database URL (else $DATABASE_URL, else libpq's defaults), --actor NAME and --help\n"
    text += "exit codes: 0 ok, 1 failure, 2 usage\n"
    return text
}

func main() -> Int32 {
    let argv = Array(CommandLine.arguments.dropFirst())
    let words = argv.prefix { !$0.hasPrefix("-") || Int($0) != nil }
    let match = verbs.filter { Array(words.prefix($0.words.count)) == $0.words }.max { $0.words.count < $1.words.count }
    guard let verb = match else {
        let related = verbs.filter { !words.isEmpty && $0.words.first == words.first }
        let wantsHelp = argv.isEmpty || argv.contains("--help") || argv.contains("-h")
        FileHandle.standardError.write(Data(((wantsHelp || !related.isEmpty ? "" : "unknown verb: \(words.joined(separator: " "))\n")
                                              + help(for: related.isEmpty ? verbs : related)).utf8))
        return wantsHelp ? 0 : 2
    }
    let rest = Array(argv.dropFirst(verb.words.count))
    if rest.contains("--help") || rest.contains("-h") {
        print(help(for: [verb]), terminator: "")
        return 0
    }
    do {
        let arguments = try Arguments(rest, valued: verb.valued.union(Verb.commonValued), repeated: verb.repeated, flags: verb.flags)
        try verb.run(Context(arguments: arguments), arguments)
        return 0
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("loyaltyctl: \(error.message)\n\(help(for: [verb]))".utf8))
        return 2
    } catch let error as DocumentRefused {
        FileHandle.standardError.write(Data("loyaltyctl: the document was refused; nothing was applied\n\(error.problems)\n".utf8))
        return 2
    } catch let error as Failure {
        FileHandle.standardError.write(Data("loyaltyctl: \(error.message)\n".utf8))
        return 1
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("loyaltyctl: \(databaseErrorText(error))\n".utf8))
        return 1
    } catch let error as LoyaltyError {
        FileHandle.standardError.write(Data("loyaltyctl: \(error.code.rawValue) \(error.message)\n".utf8))
        return 1
    } catch {
        FileHandle.standardError.write(Data("loyaltyctl: \(error)\n".utf8))
        return 1
    }
}

exit(main())
