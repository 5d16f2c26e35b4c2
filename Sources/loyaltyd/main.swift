import Foundation
import LoyaltyServer

/// loyaltyd: reads its configuration from the environment, serves until SIGTERM or SIGINT.
let configuration: ServerConfiguration
do {
    configuration = try ServerConfiguration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("loyaltyd: \(error)\n".utf8))
    exit(2)
}

let server: Server
do {
    server = try Server(configuration: configuration)
} catch {
    FileHandle.standardError.write(Data("loyaltyd: cannot listen on \(configuration.host):\(configuration.port): \(error)\n".utf8))
    exit(1)
}

let signalSources = installShutdownSignals(server)
server.run()
