import Dispatch
import Glibc

/// SIGTERM and SIGINT start a graceful shutdown. Call before `run()` starts the serving threads,
/// and keep the returned sources alive while serving.
///
/// The signals are blocked first, in the calling thread, so every thread started afterwards
/// inherits the block: a signal then waits, pending, for the dispatch source (a signalfd), even
/// one that arrives before the source is armed. Unblocked, it could land on a serving thread and
/// be dropped, and the server would never stop.
public func installShutdownSignals(_ server: Server) -> [any DispatchSourceSignal] {
    let signals = [SIGTERM, SIGINT]
    var blocked = sigset_t()
    sigemptyset(&blocked)
    for signalNumber in signals { sigaddset(&blocked, signalNumber) }
    pthread_sigmask(SIG_BLOCK, &blocked, nil)
    return signals.map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { server.shutdown() }
        source.resume()
        return source
    }
}
