import Foundation

/// `server_settings`: cluster-wide switches every instance obeys (`maintenance_mode`, as
/// the reference ACMEEH stores it: a jsonb boolean).
extension Connection {
    static let maintenanceModeKey = "maintenance_mode"

    /// Whether maintenance mode is on (false when it was never set).
    func maintenanceMode() throws -> Bool {
        try queryFirst("SELECT value = 'true'::jsonb AS on FROM server_settings WHERE key = $1",
                       [.string(Self.maintenanceModeKey)])?.bool("on") ?? false
    }

    /// Switches maintenance mode for every instance.
    func setMaintenanceMode(_ on: Bool) throws {
        try execute(
            """
            INSERT INTO server_settings (key, value) VALUES ($1, to_jsonb($2::boolean))
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """, [.string(Self.maintenanceModeKey), .bool(on)])
    }
}
