import Metrics

/// The observer that records plugin calls: `acmeeh_ca_sign_duration_seconds{backend}`,
/// `acmeeh_ca_signing_errors_total` (each backend sign call that failed, a failover that
/// then signed included), `acmeeh_challenge_validation_duration_seconds{type}`, and
/// `acmeeh_ca_revocations_delivered_total` / `acmeeh_ca_revocations_failed_total` (each
/// revocation a CA backend confirmed, or refused for good).
extension ServerMetrics {
    var pluginObserver: PluginCallObserver {
        let signingErrors = counter(MetricNames.caSigningErrors)
        let revocationsDelivered = counter("acmeeh_ca_revocations_delivered_total")
        let revocationsFailed = counter("acmeeh_ca_revocations_failed_total")
        return PluginCallObserver(
            caSigned: { [self] backend, duration, failed in
                timer(MetricNames.caSignDuration, [("backend", backend)]).record(duration: duration)
                if failed { signingErrors.increment() }
            },
            validated: { [self] type, duration in
                timer(MetricNames.validationDuration, [("type", type)]).record(duration: duration)
            },
            caRevocationSettled: { _, delivered in
                (delivered ? revocationsDelivered : revocationsFailed).increment()
            })
    }
}

extension Metrics.Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
