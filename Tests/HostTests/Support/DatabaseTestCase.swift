import XCTest

@testable import Host

/// A test case with a fresh database of its own (`testDB`, dropped afterwards) and the
/// pools it opened on it (`makeDatabase`, shut down afterwards).
class DatabaseTestCase: XCTestCase {
    var testDB: TestDatabase!
    private var databases: [Database] = []

    override func setUpWithError() throws {
        do {
            testDB = try TestDatabase.create()
        } catch {
            // Never a silent skip: no PostgreSQL is a failure with the reason.
            XCTFail("PostgreSQL for the tests is unavailable: \(error)")
            throw error
        }
    }

    override func tearDown() async throws {
        for db in databases { await db.shutdown() }
        databases = []
        testDB?.drop()
    }

    /// A pool on this test's database, shut down in tearDown.
    func makeDatabase(_ adjust: (inout DatabaseConfig) -> Void = { _ in }) -> Database {
        var config = testDB.config
        adjust(&config)
        let db = Database(config: config)
        databases.append(db)
        return db
    }
}
