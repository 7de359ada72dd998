/// The `api` section: the path prefix of every ACME URL (`external_url + base_path + path`).
struct ApiConfig: Sendable, Equatable {
    var basePath: String = ""
}

extension ApiConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("base_path", into: &basePath)
        r.finish()
    }
}
