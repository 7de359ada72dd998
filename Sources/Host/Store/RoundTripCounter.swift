import NIOConcurrencyHelpers

/// The number of SQL round trips a `Database` pool has made, over every connection it
/// ever opened (closed ones included): the figure behind `acmeeh_db_round_trips_total`.
/// Each connection adds its own (`Connection.roundTrips`) as it goes.
final class RoundTripCounter: Sendable {
    private let count = NIOLockedValueBox<Int>(0)

    func add(_ n: Int) { count.withLockedValue { $0 += n } }

    var total: Int { count.withLockedValue { $0 } }
}
