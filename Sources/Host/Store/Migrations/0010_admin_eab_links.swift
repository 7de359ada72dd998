/// Marks the account links that came from an external account binding credential
/// (`from_eab`), so that binding again replaces exactly those and keeps the links an
/// operator made for the account itself.
enum Migration0010 {
    static let adminEABLinks = Migration(version: 10, name: "admin_eab_links", sql: sql)

    private static let sql = #"""
        ALTER TABLE admin.account_allowed_identifiers ADD COLUMN from_eab boolean NOT NULL DEFAULT false;
        ALTER TABLE admin.account_csr_profiles ADD COLUMN from_eab boolean NOT NULL DEFAULT false;
        """#
}
