import Dispatch
import Glibc

/// SIGTERM and SIGINT start a graceful shutdown. Keep the returned sources alive while serving.
public func installShutdownSignals(_ server: Server) -> [any DispatchSourceSignal] {
    [SIGTERM, SIGINT].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { server.shutdown() }
        source.resume()
        return source
    }
}
