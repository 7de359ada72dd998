import Foundation
@testable import Host
import XCTest

/// The notification templates: every built-in one renders its variables, HTML escapes and
/// text does not, overrides replace one file each, and a bad override directory or template
/// is refused with its file (and line).
final class NotificationTemplatesTests: XCTestCase {
    /// Every variable of every type (docs/notifications.md), with values easy to find.
    static var sample: [String: Any] { [
        "server_url": "https://acme.example.test",
        "timestamp": "2031-05-06T07:08:09Z",
        "account_id": "acct-7f3e",
        "contacts": ["pki@example.test", "ops@example.test"],
        "tos_agreed": true,
        "eab_kid": "kid-eab-42",
        "error": "identifier www.forbidden.test is not allowed",
        "order_id": "order-5b1c",
        "certificate_id": "cert-9d2a",
        "serial_number": "4F1A0C77",
        "domains": ["www.example.test", "api.example.test"],
        "not_after": "2031-08-04T07:08:09Z",
        "reason": "keyCompromise",
        "days_remaining": 12,
        "warning_days": 14,
        "identifiers": ["dns:www.forbidden.test", "dns:ok.example.test"],
        "challenge_type": "http-01",
        "identifier_type": "dns",
        "identifier_value": "host.example.test",
        "authz_id": "authz-31c8",
        "old_jwk_thumbprint": "oldThumbprintAbc",
        "jwk_thumbprint": "newThumbprintXyz",
        "username": "alice",
        "role": "auditor",
        "password": "Xk9-secret-once",
    ] }

    /// The values each type's text and HTML bodies must show.
    static let keyValues: [NotificationType: [String]] = [
        .registrationSucceeded: ["acct-7f3e", "pki@example.test", "ops@example.test", "kid-eab-42", "agreed"],
        .registrationFailed: ["identifier www.forbidden.test is not allowed"],
        .deliverySucceeded: ["order-5b1c", "cert-9d2a", "4F1A0C77", "www.example.test", "api.example.test", "2031-08-04T07:08:09Z"],
        .deliveryFailed: ["order-5b1c", "www.example.test", "api.example.test", "is not allowed"],
        .revocationSucceeded: ["cert-9d2a", "4F1A0C77", "www.example.test", "keyCompromise"],
        .revocationFailed: ["cert-9d2a", "4F1A0C77", "is not allowed"],
        .expirationWarning: ["4F1A0C77", "12 day(s)", "www.example.test", "2031-08-04T07:08:09Z", "14-day", "cert-9d2a"],
        .orderRejected: ["dns:www.forbidden.test", "dns:ok.example.test", "is not allowed", "acct-7f3e"],
        .orderQuotaExceeded: ["is not allowed", "acct-7f3e"],
        .orderStaleRecovered: ["order-5b1c", "www.example.test", "api.example.test"],
        .challengeFailed: ["http-01", "dns:host.example.test", "authz-31c8", "is not allowed"],
        .csrValidationFailed: ["order-5b1c", "www.example.test", "is not allowed"],
        .accountDeactivated: ["acct-7f3e", "2031-05-06T07:08:09Z"],
        .accountRevoked: ["acct-7f3e", "keyCompromise"],
        .keyRolloverSucceeded: ["oldThumbprintAbc", "newThumbprintXyz", "acct-7f3e"],
        .authorizationDeactivated: ["authz-31c8", "dns:host.example.test", "acct-7f3e"],
        .adminUserCreated: ["alice", "auditor", "Xk9-secret-once"],
        .adminPasswordReset: ["alice", "Xk9-secret-once"],
    ]

    /// The values each type's subject must show.
    static let subjectValues: [NotificationType: [String]] = [
        .registrationSucceeded: ["acct-7f3e"],
        .deliverySucceeded: ["www.example.test, api.example.test"],
        .deliveryFailed: ["www.example.test, api.example.test"],
        .revocationSucceeded: ["4F1A0C77"],
        .revocationFailed: ["4F1A0C77"],
        .expirationWarning: ["www.example.test", "12 day(s)"],
        .orderStaleRecovered: ["order-5b1c"],
        .challengeFailed: ["http-01", "host.example.test"],
        .csrValidationFailed: ["www.example.test"],
        .accountDeactivated: ["acct-7f3e"],
        .accountRevoked: ["acct-7f3e"],
        .keyRolloverSucceeded: ["acct-7f3e"],
        .authorizationDeactivated: ["host.example.test"],
    ]

    func testTheTypesAreTheConfigurationsTypes() {
        XCTAssertEqual(NotificationType.allCases.count, 18)
        XCTAssertEqual(Set(NotificationType.allCases.map(\.rawValue)), NotificationsConfig.types)
    }

    func testEveryBuiltInTemplateRendersItsVariables() throws {
        let templates = try NotificationTemplates.load(directory: nil)
        XCTAssertEqual(Set(Self.keyValues.keys), Set(NotificationType.allCases))
        for type in NotificationType.allCases {
            var context = Self.sample
            context["type"] = type.rawValue
            let mail = templates.render(type, context)
            XCTAssertFalse(mail.subject.isEmpty, "\(type)")
            XCTAssertFalse(mail.subject.contains { $0.isNewline }, "\(type)")
            for value in Self.subjectValues[type] ?? [] {
                XCTAssertTrue(mail.subject.contains(value), "\(type) subject \(mail.subject) lacks \(value)")
            }
            for value in Self.keyValues[type] ?? [] {
                XCTAssertTrue(mail.text.contains(value), "\(type) text lacks \(value):\n\(mail.text)")
                XCTAssertTrue(mail.html.contains(value), "\(type) html lacks \(value):\n\(mail.html)")
            }
            for body in [mail.text, mail.html] {
                XCTAssertTrue(body.contains("https://acme.example.test"), "\(type)")
                XCTAssertTrue(body.contains("(\(type.rawValue))"), "\(type) names its type")
                XCTAssertFalse(body.contains("{{") || body.contains("}}"), "\(type) leaves a tag")
            }
            XCTAssertTrue(mail.html.hasPrefix("<!DOCTYPE html>"), "\(type)")
            XCTAssertTrue(mail.html.contains("</html>"), "\(type)")
            XCTAssertFalse(mail.text.contains("<"), "\(type) text has markup")
        }
    }

    func testOnlyTheAdminTemplatesShowThePassword() throws {
        let templates = try NotificationTemplates.load(directory: nil)
        for type in NotificationType.allCases where type != .adminUserCreated && type != .adminPasswordReset {
            let mail = templates.render(type, Self.sample)
            XCTAssertFalse((mail.subject + mail.text + mail.html).contains("Xk9-secret-once"), "\(type)")
        }
    }

    func testListsAndEmptyValues() throws {
        let templates = try NotificationTemplates.load(directory: nil)
        let text = templates.render(.deliverySucceeded, Self.sample).text
        XCTAssertTrue(text.contains("  Names:\n    - www.example.test\n    - api.example.test\n\n"), text)

        var context = Self.sample
        context["eab_kid"] = ""
        context["tos_agreed"] = false
        let registered = templates.render(.registrationSucceeded, context)
        XCTAssertFalse(registered.text.contains("External account"), registered.text)
        XCTAssertFalse(registered.html.contains("External account"))
        XCTAssertTrue(registered.text.contains("Terms of service:  not agreed"), registered.text)
        XCTAssertTrue(registered.text.contains("Contacts:          pki@example.test, ops@example.test\n"), registered.text)

        context["account_id"] = ""
        XCTAssertFalse(templates.render(.registrationFailed, context).text.contains("about ACME account"))
        var deactivated = Self.sample
        deactivated["type"] = "account_deactivated"
        XCTAssertTrue(templates.render(.accountDeactivated, deactivated).text
            .hasSuffix("\n-- \nacmeeh ACME server https://acme.example.test\n"
                + "Sent 2031-05-06T07:08:09Z about ACME account acct-7f3e (account_deactivated).\n"))
    }

    func testMissingAndNilVariablesRenderEmpty() throws {
        let templates = try NotificationTemplates.load(directory: nil)
        let context: [String: Any] = ["serial_number": String?.none as Any, "days_remaining": Int?.none as Any]
        let mail = templates.render(.expirationWarning, context)
        XCTAssertEqual(mail.subject, "Certificate for  expires in  day(s)")
        XCTAssertTrue(mail.text.contains("the certificate with serial number  expires in\n day(s), on ."), mail.text)
        XCTAssertFalse((mail.subject + mail.text + mail.html).contains("nil"))
    }

    func testHTMLEscapesVariablesAndTextDoesNot() throws {
        let templates = try NotificationTemplates.load(directory: nil)
        var context = Self.sample
        context["error"] = #"<script>alert("x")</script> & 'y'"#
        context["identifier_value"] = "a&b<c>.example.test"
        context["domains"] = ["<b>bold</b>.example.test"]
        let challenge = templates.render(.challengeFailed, context)
        XCTAssertTrue(challenge.subject.contains("a&b<c>.example.test"), challenge.subject)
        XCTAssertTrue(challenge.text.contains(#"Error:          <script>alert("x")</script> & 'y'"#), challenge.text)
        XCTAssertTrue(challenge.html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"), challenge.html)
        XCTAssertTrue(challenge.html.contains("a&amp;b&lt;c&gt;.example.test"))
        XCTAssertFalse(challenge.html.contains("<script>"))

        let issued = templates.render(.deliverySucceeded, context)
        XCTAssertEqual(issued.subject, "Certificate issued for <b>bold</b>.example.test")
        XCTAssertTrue(issued.text.contains("    - <b>bold</b>.example.test\n"))
        XCTAssertTrue(issued.html.contains("&lt;b&gt;bold&lt;/b&gt;.example.test"))
    }

    func testSubjectIsOneTrimmedLine() throws {
        let directory = try TestPaths.temporaryDirectory("templates")
        try "  Certificate\n{{serial_number}}\r\n\t expires  \n\n".write(
            to: directory.appendingPathComponent("expiration_warning_subject.txt"), atomically: true, encoding: .utf8)
        let templates = try NotificationTemplates.load(directory: directory.path)
        XCTAssertEqual(templates.render(.expirationWarning, Self.sample).subject, "Certificate 4F1A0C77 expires")

        var context = Self.sample
        context["identifier_value"] = "evil.test\r\nBcc: victim@example.test\n"
        let subject = templates.render(.challengeFailed, context).subject
        XCTAssertEqual(subject, "http-01 validation failed for evil.test Bcc: victim@example.test")
    }

    func testAnOverrideReplacesOneTemplate() throws {
        let directory = try TestPaths.temporaryDirectory("templates")
        try "Renew {{serial_number}} within {{days_remaining}} days\n".write(
            to: directory.appendingPathComponent("expiration_warning_subject.txt"), atomically: true, encoding: .utf8)
        try "Error: {{error}}\n".write(
            to: directory.appendingPathComponent("registration_failed_body.txt"), atomically: true, encoding: .utf8)
        try "<p>{{error}}</p>\n".write(
            to: directory.appendingPathComponent("registration_failed_body.html"), atomically: true, encoding: .utf8)
        // Ignored: hidden files and subdirectories, whatever their names.
        try "junk".write(to: directory.appendingPathComponent(".DS_Store"), atomically: true, encoding: .utf8)
        let old = directory.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try "{{#broken".write(to: old.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)

        let defaults = try NotificationTemplates.load(directory: nil)
        let templates = try NotificationTemplates.load(directory: directory.path)
        let warning = templates.render(.expirationWarning, Self.sample)
        let builtIn = defaults.render(.expirationWarning, Self.sample)
        XCTAssertEqual(warning.subject, "Renew 4F1A0C77 within 12 days")
        XCTAssertEqual(warning.text, builtIn.text)
        XCTAssertEqual(warning.html, builtIn.html)

        var context = Self.sample
        context["error"] = "a <b> & c"
        let failed = templates.render(.registrationFailed, context)
        XCTAssertEqual(failed.text, "Error: a <b> & c\n")
        XCTAssertEqual(failed.html, "<p>a &lt;b&gt; &amp; c</p>\n")
        XCTAssertEqual(failed.subject, defaults.render(.registrationFailed, context).subject)

        for type in NotificationType.allCases where type != .expirationWarning && type != .registrationFailed {
            XCTAssertEqual(templates.render(type, Self.sample), defaults.render(type, Self.sample), "\(type)")
        }
    }

    /// The override example of docs/notifications.md.
    func testTheDocumentedOverrideRenders() throws {
        let directory = try TestPaths.temporaryDirectory("templates")
        try "[PKI] {{#domains}}{{#first()}}{{.}}{{/first()}}{{/domains}} expires in {{days_remaining}} days\n".write(
            to: directory.appendingPathComponent("expiration_warning_subject.txt"), atomically: true, encoding: .utf8)
        try """
        The certificate {{serial_number}} for
        {{#domains}}
          * {{.}}
        {{/domains}}
        expires on {{not_after}} ({{days_remaining}} days left).

        Renew it with: certbot renew --cert-name {{#domains}}{{#first()}}{{.}}{{/first()}}{{/domains}}
        Questions: pki-team@example.com

        """.write(to: directory.appendingPathComponent("expiration_warning_body.txt"), atomically: true, encoding: .utf8)
        let mail = try NotificationTemplates.load(directory: directory.path).render(.expirationWarning, Self.sample)
        XCTAssertEqual(mail.subject, "[PKI] www.example.test expires in 12 days")
        XCTAssertEqual(mail.text, """
        The certificate 4F1A0C77 for
          * www.example.test
          * api.example.test
        expires on 2031-08-04T07:08:09Z (12 days left).

        Renew it with: certbot renew --cert-name www.example.test
        Questions: pki-team@example.com

        """)
    }

    func testAnUnknownFileIsRefused() throws {
        let directory = try TestPaths.temporaryDirectory("templates")
        let file = directory.appendingPathComponent("expiry_warning_subject.txt")
        try "Expiring".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try NotificationTemplates.load(directory: directory.path)) { error in
            let error = error as? TemplateError
            XCTAssertEqual(error?.file, file.path)
            XCTAssertNil(error?.line)
            let description = error?.description ?? ""
            XCTAssertTrue(description.hasPrefix("\(file.path): not a notification template name"), description)
            XCTAssertTrue(description.contains("<type>_subject.txt, <type>_body.txt, <type>_body.html"), description)
            XCTAssertTrue(description.contains("expiration_warning"), description)
        }
    }

    func testAMissingDirectoryIsRefused() throws {
        let path = try TestPaths.temporaryDirectory("templates").appendingPathComponent("absent").path
        XCTAssertThrowsError(try NotificationTemplates.load(directory: path)) { error in
            XCTAssertEqual((error as? TemplateError)?.file, path)
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
    }

    func testABrokenTemplateIsRefusedWithItsFileAndLine() throws {
        let cases: [(file: String, text: String, line: Int, message: String)] = [
            // An unclosed section is reported where it opens, not at the end of the file.
            ("delivery_failed_body.txt", "Hello,\n\nNames: {{#domains}}{{.}} \nmore\ntext\n", 3, #"section "domains" is never closed"#),
            ("delivery_failed_body.html", "<p>\n{{=<% %>=}}\n<%#domains%>\n<%/domains%>\n<%^error%>\n", 5, #"section "error" is never closed"#),
            ("challenge_failed_body.html", "<p>\n{{#error}}x{{/domain}}\n</p>\n", 2, "closing tag does not match the open section"),
            ("challenge_failed_body.txt", "Hello,\nthe {{challenge type}} failed\n", 2, "unfinished tag or invalid name"),
            ("challenge_failed_subject.txt", "{{identifier_value", 1, "the template ends inside an unfinished tag"),
        ]
        for broken in cases {
            let directory = try TestPaths.temporaryDirectory("templates")
            let path = directory.appendingPathComponent(broken.file).path
            try broken.text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try NotificationTemplates.load(directory: directory.path), broken.file) { error in
                let description = "\(error)"
                XCTAssertEqual((error as? TemplateError)?.file, path)
                XCTAssertTrue(description.hasPrefix("\(path):\(broken.line): \(broken.message)"), description)
            }
        }
    }
}
