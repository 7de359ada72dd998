import Foundation
import Logging

/// Certificate Transparency (RFC 6962, `ct_logging`): submits a precertificate
/// (`add-pre-chain`) or an issued chain (`add-chain`) to every configured log at once and
/// collects the SCTs. A log that is down, slow or answers with a bad SCT costs at most its
/// `timeout_seconds` and only its own SCT; every outcome is logged.
struct CertificateTransparency: Sendable {
    /// One `ct_logging.logs[]` entry, ready to submit to.
    struct Log: Sendable {
        /// As configured (what events and logs name).
        let url: String
        /// The RFC 6962 §4 prefix: the URL without a trailing slash, ending in `/ct/v1`.
        let base: String
        /// nil: SCTs from this log are embedded without checking their signature.
        let key: CTLogKey?
        let timeoutSeconds: Int
    }

    /// One log's answer to one submission.
    struct Submission: Sendable {
        let log: Log
        let result: Result<SignedCertificateTimestamp, SubmissionError>
    }

    struct SubmissionError: Error, CustomStringConvertible {
        let description: String
    }

    let logs: [Log]
    /// `submit_precert`: precertificates before signing and SCTs embedded, rather than the
    /// issued chain submitted afterwards.
    let embedsSCTs: Bool
    let logger: Logger

    /// Reads every log's public key; the error of an unusable key file names its key path.
    init(config: CTLoggingConfig, logger: Logger) throws(CTLogKey.Unusable) {
        var logs: [Log] = []
        for (index, log) in config.logs.enumerated() {
            var key: CTLogKey? = nil
            if let path = log.publicKeyPath {
                do {
                    key = try CTLogKey(pemFile: path)
                } catch {
                    throw CTLogKey.Unusable(description: "ct_logging.logs[\(index)].public_key_path: \(error)")
                }
            } else {
                logger.warning("ct_logging.logs[\(index)] (\(log.url)) has no public_key_path: its SCTs are embedded unchecked")
            }
            var base = log.url
            while base.hasSuffix("/") { base.removeLast() }
            if !base.hasSuffix("/ct/v1") { base += "/ct/v1" }
            logs.append(Log(url: log.url, base: base, key: key, timeoutSeconds: log.timeoutSeconds))
        }
        self.logs = logs
        self.embedsSCTs = config.submitPrecert
        self.logger = logger
    }

    /// Submits `chain` (DER, leaf or precertificate first, then its issuer and the rest) to
    /// every log concurrently; returns when each log has answered or timed out, in log order.
    func submit(chain: [[UInt8]], precertificate: Bool) async -> [Submission] {
        let entry: CTEntry
        do throws(CTEntry.Unreadable) {
            guard chain.count >= (precertificate ? 2 : 1) else {
                throw CTEntry.Unreadable(description: "the CA returned no issuer certificate, which a precertificate entry needs")
            }
            entry = precertificate ? try CTEntry.precert(chain[0], issuer: chain[1]) : .x509(certificate: chain[0])
        } catch {
            return logs.map { Submission(log: $0, result: .failure(SubmissionError(description: error.description))) }
        }
        let body = Array((try? JSONSerialization.data(withJSONObject: ["chain": chain.map { Data($0).base64EncodedString() }])) ?? Data())
        let path = precertificate ? "/add-pre-chain" : "/add-chain"
        let results = await withTaskGroup(of: (Int, Result<SignedCertificateTimestamp, SubmissionError>).self) { group in
            for (index, log) in logs.enumerated() {
                group.addTask { (index, await Self.submit(body, entry: entry, to: log, path: path)) }
            }
            var results = [Result<SignedCertificateTimestamp, SubmissionError>?](repeating: nil, count: logs.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        let submissions = zip(logs, results).map { Submission(log: $0, result: $1!) }
        for submission in submissions {
            switch submission.result {
            case .success(let sct):
                logger.info("CT log returned an SCT", metadata: [
                    "ct_log": "\(submission.log.url)", "entry_type": "\(precertificate ? "precert" : "x509")",
                    "sct_timestamp": "\(sct.timestamp)", "verified": "\(submission.log.key != nil)"])
            case .failure(let error):
                logger.warning("CT log submission failed", metadata: [
                    "ct_log": "\(submission.log.url)", "entry_type": "\(precertificate ? "precert" : "x509")",
                    "error": "\(error)"])
            }
        }
        return submissions
    }

    private static func submit(_ body: [UInt8], entry: CTEntry, to log: Log, path: String) async -> Result<SignedCertificateTimestamp, SubmissionError> {
        do {
            let answer = try await CTLogClient.post(log.base + path, json: body, timeoutSeconds: log.timeoutSeconds)
            let sct = try SignedCertificateTimestamp(json: answer)
            if let key = log.key, !key.verifies(sct, for: entry) {
                return .failure(SubmissionError(description: "the SCT does not verify under the log's public key (wrong log ID or signature)"))
            }
            return .success(sct)
        } catch let error as CTLogClient.Failure {
            return .failure(SubmissionError(description: error.description))
        } catch {
            return .failure(SubmissionError(description: "malformed SCT: \(error)"))
        }
    }
}

extension CertificateTransparency.Submission {
    /// The `ct.submission` event of this outcome for the recorded certificate.
    func event(certificateID: UUID, serial: String, precertificate: Bool) -> DomainEvent {
        switch result {
        case .success(let sct):
            .ctSubmitted(certificateID: certificateID, serial: serial, logURL: log.url, precertificate: precertificate,
                         sct: Data(sct.encoded).base64EncodedString(), error: nil)
        case .failure(let error):
            .ctSubmitted(certificateID: certificateID, serial: serial, logURL: log.url, precertificate: precertificate,
                         sct: nil, error: error.description)
        }
    }
}
