/// The `database` section: where PostgreSQL is and how the pool is sized. `host` may list
/// several servers ("h1,h2", libpq tries them in order; one `port` serves them all).
struct DatabaseConfig: Sendable, Equatable {
    var host: String = "localhost"
    var port: Int = 5432
    var database: String
    var user: String
    var password: String? = nil
    var sslmode: String = "prefer"
    var minConnections: Int = 2
    /// 8, not the reference's 50: a request holds a connection for one pipelined batch at a
    /// time, and each connection is a thread of the pool.
    var maxConnections: Int = 8
    /// Seconds to wait for a connection (libpq `connect_timeout`, and the pool's checkout wait).
    var connectionTimeout: Int = 10
    /// Idle pooled connections older than this are closed (down to `minConnections`).
    var maxIdleSeconds: Int = 300
    var autoSetup: Bool = false
    /// libpq `target_session_attrs`: which server of a `host` list to settle on (nil: libpq's
    /// default, the first that accepts the connection).
    var targetSessionAttrs: String? = nil
}
