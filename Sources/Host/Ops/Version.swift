/// The version this build reports in `--version`, `/livez` and the `Server` header.
enum AcmeehVersion {
    static let string = "0.1.0"
}
