import Postgres

/// How the read pool stands against the primary, for INFO's `# Replication` section.
public enum ReadReplicaStatus: Sendable, Equatable {
    /// No DATABASE_READ_URL: every read goes to the primary.
    case none
    /// The read pool is a standby; `lagSeconds` is how far its replay is behind, as PostgreSQL
    /// formats it ("0.000" when it has replayed everything it received).
    case streaming(lagSeconds: String)
    /// The read URL names a server that is not in recovery (a primary): its reads are not stale.
    case notStandby
    /// The read pool did not answer: the replica is down (stale reads fall back to the primary
    /// meanwhile) or every read connection stayed busy for the whole acquire timeout.
    case unreachable
}

extension LoyaltyStore {
    /// Asks the read pool how far behind it is. A standby that has replayed all it received
    /// reports 0 even when the primary has been idle for a while (the last replayed commit is
    /// old then, but nothing is missing).
    public func readReplicaStatus() -> ReadReplicaStatus {
        guard readPool !== pool else { return .none }
        do {
            guard let row = try readPool.withConnection({ conn in
                try conn.query("""
                    SELECT pg_is_in_recovery() AS standby,
                           CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                                ELSE round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 3)
                           END::numeric(12, 3)::text AS lag
                    """).first
            }) else { return .unreachable }
            guard try row.string("standby") == "t" else { return .notStandby }
            return .streaming(lagSeconds: row["lag"] ?? "unknown")
        } catch {
            return .unreachable
        }
    }
}
