/// Something in a configuration file that loads but does less than the file asks:
/// printed at startup by `serve` and by `--validate-only`.
struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    /// The whole sentence, starting with the key or section (`crl is not active yet: …`).
    var message: String

    /// `FILE:LINE: message`.
    var description: String { "\(file):\(line): \(message)" }
}
