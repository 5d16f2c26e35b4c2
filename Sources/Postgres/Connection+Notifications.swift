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
        var channels = try consumeNotifications()
        guard channels.isEmpty else { return channels }
        var descriptor = pollfd(fd: PQsocket(live), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, waitingMilliseconds)
        guard ready != 0 else { return [] }
        guard ready > 0 || errno == EINTR else {
            throw PostgresError(code: .connectionLost, message: "poll on the connection failed: errno \(errno)")
        }
        channels = try consumeNotifications()
        return channels
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
