import Metrics

/// The observer that records plugin calls: `acmeeh_ca_sign_duration_seconds{backend}`,
/// `acmeeh_ca_signing_errors_total` (each backend sign call that failed, a failover that
/// then signed included) and `acmeeh_challenge_validation_duration_seconds{type}`.
extension ServerMetrics {
    var pluginObserver: PluginCallObserver {
        let signingErrors = counter(MetricNames.caSigningErrors)
        return PluginCallObserver(
            caSigned: { [self] backend, duration, failed in
                timer(MetricNames.caSignDuration, [("backend", backend)]).record(duration: duration)
                if failed { signingErrors.increment() }
            },
            validated: { [self] type, duration in
                timer(MetricNames.validationDuration, [("type", type)]).record(duration: duration)
            })
    }
}

extension Metrics.Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
