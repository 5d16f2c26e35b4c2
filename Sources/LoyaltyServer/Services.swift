import Foundation
import LoyaltyStore

/// What handlers reach: the store, the counters and the configuration. Shared by all workers.
final class Services: Sendable {
    static let version = "0.1.0"
    let store: LoyaltyStore
    let metrics: Metrics
    let configuration: ServerConfiguration
    /// What all open batches may queue together.
    let batchBudget: BatchQueueBudget
    /// Each open connection as CLIENT LIST shows it.
    let clients = ClientDirectory()
    /// EVENTS WAITs parked until an event or their timeout.
    let eventWaiters: EventWaiters

    init(store: LoyaltyStore, metrics: Metrics, configuration: ServerConfiguration) {
        self.store = store
        self.metrics = metrics
        self.configuration = configuration
        batchBudget = BatchQueueBudget(bytesMax: configuration.batchQueueBytesMax)
        eventWaiters = EventWaiters(store: store, conninfo: configuration.databaseURL,
                                    pollMilliseconds: configuration.eventsPollMilliseconds)
    }
}
