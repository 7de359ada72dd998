/// The histogram buckets of each latency metric (seconds): requests mostly answer in
/// milliseconds, signing and validation reach out to other systems and can take seconds.
enum MetricBuckets {
    static let byName: [String: [Duration]] = [
        MetricNames.httpRequestDuration: milliseconds([1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]),
        MetricNames.caSignDuration: milliseconds([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]),
        MetricNames.validationDuration: milliseconds([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]),
    ]

    private static func milliseconds(_ values: [Double]) -> [Duration] {
        values.map { Duration.microseconds(Int64($0 * 1000)) }
    }
}
