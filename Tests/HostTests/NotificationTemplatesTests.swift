import Foundation
@testable import Host
import XCTest

/// The notification templates: every built-in one renders its variables, HTML escapes and
/// text does not, overrides replace one file each, and a bad override directory or template
/// is refused with its file (and line).
final class NotificationTemplatesTests: XCTestCase {
    func testTheTypesAreTheConfigurationsTypes() {
        XCTAssertEqual(NotificationType.allCases.count, 18)
        XCTAssertEqual(Set(NotificationType.allCases.map(\.rawValue)), NotificationsConfig.types)
    }
}
