import CLibPQ
import Glibc

extension Connection {
    /// Subscribes this connection to `channel` (PostgreSQL LISTEN): notifications sent on it by
    /// transactions that commit from now on are queued for `notifications(waitingMilliseconds:)`.
    public func listen(_ channel: String) throws(PostgresError) {
        _ = try query("LISTEN " + Self.escapeIdentifier(channel))
    }

    /// The channels notified since the last call, waiting up to `waitingMilliseconds` for one when
    /// none has arrived yet; empty at the timeout. Throws when the connection is lost meanwhile.
    /// Only for an idle connection (outside any query): it reads whatever the server sends.
    public func notifications(waitingMilliseconds: Int32) throws(PostgresError) -> [String] {
        let deadline = Self.monotonicMilliseconds() + Int64(waitingMilliseconds)
        while true {
            // What arrives may be no notification (a FATAL message before the end of a lost
            // connection, say): then wait on for what is left of the time.
            let channels = try consumeNotifications()
            let left = deadline - Self.monotonicMilliseconds()
            guard channels.isEmpty, left > 0 else { return channels }
            var descriptor = pollfd(fd: PQsocket(live), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, Int32(left)) < 0 && errno != EINTR {
                throw PostgresError(code: .connectionLost, message: "poll on the connection failed: errno \(errno)")
            }
        }
    }

    private static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Reads what the socket holds and takes libpq's queued notifications.
    private func consumeNotifications() throws(PostgresError) -> [String] {
        guard PQconsumeInput(live) == 1, PQstatus(live) == CONNECTION_OK else {
            throw PostgresError(code: .connectionLost, message: Self.libpqMessage(live))
        }
        var channels: [String] = []
        while let notice = PQnotifies(live) {
            channels.append(String(cString: notice.pointee.relname))
            PQfreemem(notice)
        }
        return channels
    }
}
