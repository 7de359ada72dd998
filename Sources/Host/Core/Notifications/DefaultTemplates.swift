/// The built-in templates: a subject, a text body and an HTML body for every notification
/// type, using the variables docs/notifications.md lists. Text bodies end with a shared
/// signature and HTML bodies sit in a shared page; a file in `smtp.templates_path` replaces
/// any one of them whole.
enum DefaultTemplates {
    static func source(_ type: NotificationType, _ part: NotificationTemplates.Part) -> String {
        let mail = email(type)
        switch part {
        case .subject: return mail.subject
        case .text: return mail.text + textSignature
        case .html: return page(mail.heading, mail.html)
        }
    }

    private struct Email {
        let subject: String
        let text: String
        let heading: String
        let html: String
    }

    // MARK: Shared pieces

    /// `a.example, b.example`
    private static let names = "{{#domains}}{{.}}{{^last()}}, {{/last()}}{{/domains}}"
    /// One indented `- name` line per domain.
    private static let textNames = """
    {{#domains}}
        - {{.}}
    {{/domains}}
    """
    private static let htmlNames = """
    <ul style="margin:0;padding-left:18px;">{{#domains}}<li><code style="\(code)">{{.}}</code></li>{{/domains}}</ul>
    """

    private static let htmlIdentifiers = """
    <ul style="margin:0;padding-left:18px;">{{#identifiers}}<li><code style="\(code)">{{.}}</code></li>{{/identifiers}}</ul>
    """

    private static let textSignature = """

    -- 
    acmeeh ACME server {{server_url}}
    Sent {{timestamp}}{{#account_id}} about ACME account {{account_id}}{{/account_id}} ({{type}}).

    """

    private static let code = "font-family:Menlo,Consolas,monospace;font-size:13px;"
    private static let errorBox = "margin:12px 0;padding:8px 12px;background:#fdecea;border-left:4px solid #c62828;"
        + "font-family:Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap;"
    private static let warningBox = "margin:12px 0;padding:8px 12px;background:#fff4e5;border-left:4px solid #e65100;"

    /// A row of the facts table.
    private static func row(_ label: String, _ value: String) -> String {
        "<tr><td style=\"padding:4px 16px 4px 0;color:#52606d;vertical-align:top;white-space:nowrap;\">\(label)</td>"
            + "<td style=\"padding:4px 0;vertical-align:top;\">\(value)</td></tr>"
    }

    private static func table(_ rows: String...) -> String {
        "<table style=\"border-collapse:collapse;margin:12px 0;\">\n" + rows.joined(separator: "\n") + "\n</table>"
    }

    private static func page(_ heading: String, _ content: String) -> String {
        """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>\(heading)</title></head>
        <body style="margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#1f2933;">
        <div style="max-width:600px;margin:0 auto;background:#ffffff;border:1px solid #d9dee4;border-radius:6px;padding:24px;">
        <h2 style="margin:0 0 16px;font-size:18px;color:#1f2933;">\(heading)</h2>
        \(content)
        <p style="margin:24px 0 0;padding-top:12px;border-top:1px solid #d9dee4;font-size:12px;color:#616e7c;">acmeeh ACME server \
        <a href="{{server_url}}" style="color:#616e7c;">{{server_url}}</a> &middot; sent {{timestamp}}\
        {{#account_id}} about ACME account {{account_id}}{{/account_id}} ({{type}})</p>
        </div>
        </body>
        </html>

        """
    }

    // MARK: The templates

    private static func email(_ type: NotificationType) -> Email {
        switch type {
        case .registrationSucceeded:
            return Email(
                subject: "ACME account {{account_id}} registered",
                text: """
                Hello,

                an ACME account was registered at {{server_url}} with this address as one
                of its contacts.

                  Account:           {{account_id}}
                  Contacts:          {{#contacts}}{{.}}{{^last()}}, {{/last()}}{{/contacts}}
                  Terms of service:  {{#tos_agreed}}agreed{{/tos_agreed}}{{^tos_agreed}}not agreed{{/tos_agreed}}
                {{#eab_kid}}
                  External account:  {{eab_kid}}
                {{/eab_kid}}
                  Registered:        {{timestamp}}

                Certificates issued, revoked or about to expire for this account are
                reported to these contacts. If you did not expect this registration, ask
                your PKI operators to deactivate the account.

                """,
                heading: "ACME account registered",
                html: """
                <p>Hello,</p>
                <p>An ACME account was registered at <a href="{{server_url}}">{{server_url}}</a> with this address as one of its contacts.</p>
                \(table(
                    row("Account", "<code style=\"\(code)\">{{account_id}}</code>"),
                    row("Contacts", "{{#contacts}}{{.}}{{^last()}}, {{/last()}}{{/contacts}}"),
                    row("Terms of service", "{{#tos_agreed}}agreed{{/tos_agreed}}{{^tos_agreed}}not agreed{{/tos_agreed}}"),
                    "{{#eab_kid}}" + row("External account", "<code style=\"\(code)\">{{eab_kid}}</code>") + "{{/eab_kid}}",
                    row("Registered", "{{timestamp}}")))
                <p>Certificates issued, revoked or about to expire for this account are reported to these contacts. \
                If you did not expect this registration, ask your PKI operators to deactivate the account.</p>
                """)

        case .registrationFailed:
            return Email(
                subject: "ACME account registration refused",
                text: """
                Hello,

                a request to register an ACME account at {{server_url}} with this address
                as a contact was refused:

                  {{error}}

                No account was created. If the request was yours, correct the problem and
                register again; if it was not, no action is needed.

                """,
                heading: "ACME account registration refused",
                html: """
                <p>Hello,</p>
                <p>A request to register an ACME account at <a href="{{server_url}}">{{server_url}}</a> with this address as a contact was refused:</p>
                <p style="\(errorBox)">{{error}}</p>
                <p>No account was created. If the request was yours, correct the problem and register again; if it was not, no action is needed.</p>
                """)

        case .deliverySucceeded:
            return Email(
                subject: "Certificate issued for \(names)",
                text: """
                Hello,

                a certificate was issued for order {{order_id}} of ACME account
                {{account_id}}.

                  Serial number:   {{serial_number}}
                  Valid until:     {{not_after}}
                  Certificate ID:  {{certificate_id}}
                  Names:
                \(textNames)

                Your ACME client downloads it from the order. Renew it before
                {{not_after}}.

                """,
                heading: "Certificate issued",
                html: """
                <p>Hello,</p>
                <p>A certificate was issued for order <code style="\(code)">{{order_id}}</code> of ACME account <code style="\(code)">{{account_id}}</code>.</p>
                \(table(
                    row("Serial number", "<code style=\"\(code)\">{{serial_number}}</code>"),
                    row("Valid until", "{{not_after}}"),
                    row("Certificate ID", "<code style=\"\(code)\">{{certificate_id}}</code>"),
                    row("Names", htmlNames)))
                <p>Your ACME client downloads it from the order. Renew it before {{not_after}}.</p>
                """)

        case .deliveryFailed:
            return Email(
                subject: "Certificate not issued for \(names)",
                text: """
                Hello,

                the certificate for order {{order_id}} of ACME account {{account_id}} could
                not be issued: the certificate authority did not sign it.

                  Error: {{error}}
                  Names:
                \(textNames)

                The order is now invalid. Check the error, then place a new order with your
                ACME client; if the problem persists, contact your PKI operators.

                """,
                heading: "Certificate not issued",
                html: """
                <p>Hello,</p>
                <p>The certificate for order <code style="\(code)">{{order_id}}</code> of ACME account <code style="\(code)">{{account_id}}</code> \
                could not be issued: the certificate authority did not sign it.</p>
                <p style="\(errorBox)">{{error}}</p>
                \(table(row("Names", htmlNames)))
                <p>The order is now invalid. Check the error, then place a new order with your ACME client; \
                if the problem persists, contact your PKI operators.</p>
                """)

        case .revocationSucceeded:
            return Email(
                subject: "Certificate {{serial_number}} revoked",
                text: """
                Hello,

                the certificate with serial number {{serial_number}} was revoked
                (reason: {{reason}}).

                  Certificate ID:  {{certificate_id}}
                  Revoked:         {{timestamp}}
                  Names:
                \(textNames)

                Relying parties learn of the revocation through OCSP and the next CRL.
                Replace the certificate wherever it is still installed.

                """,
                heading: "Certificate revoked",
                html: """
                <p>Hello,</p>
                <p>The certificate with serial number <code style="\(code)">{{serial_number}}</code> was revoked.</p>
                \(table(
                    row("Reason", "<code style=\"\(code)\">{{reason}}</code>"),
                    row("Certificate ID", "<code style=\"\(code)\">{{certificate_id}}</code>"),
                    row("Revoked", "{{timestamp}}"),
                    row("Names", htmlNames)))
                <p>Relying parties learn of the revocation through OCSP and the next CRL. Replace the certificate wherever it is still installed.</p>
                """)

        case .revocationFailed:
            return Email(
                subject: "Revocation of certificate {{serial_number}} failed",
                text: """
                Hello,

                the certificate with serial number {{serial_number}} could not be revoked:
                the certificate authority did not accept the revocation.

                  Error:           {{error}}
                  Certificate ID:  {{certificate_id}}

                Until the revocation succeeds, relying parties still treat the certificate
                as valid. Try again, or contact your PKI operators, at once if its private
                key is compromised.

                """,
                heading: "Certificate revocation failed",
                html: """
                <p>Hello,</p>
                <p>The certificate with serial number <code style="\(code)">{{serial_number}}</code> could not be revoked: \
                the certificate authority did not accept the revocation.</p>
                <p style="\(errorBox)">{{error}}</p>
                \(table(row("Certificate ID", "<code style=\"\(code)\">{{certificate_id}}</code>")))
                <p style="\(warningBox)">Until the revocation succeeds, relying parties still treat the certificate as valid.</p>
                <p>Try again, or contact your PKI operators, at once if its private key is compromised.</p>
                """)

        case .expirationWarning:
            return Email(
                subject: "Certificate for \(names) expires in {{days_remaining}} day(s)",
                text: """
                Hello,

                the certificate with serial number {{serial_number}} expires in
                {{days_remaining}} day(s), on {{not_after}}.

                  Names:
                \(textNames)
                  Certificate ID:  {{certificate_id}}
                  Account:         {{account_id}}

                Renew it with your ACME client before then (for example `certbot renew`)
                and install the new certificate. If it has already been replaced, ignore
                this message. This is the {{warning_days}}-day warning.

                """,
                heading: "Certificate expires in {{days_remaining}} day(s)",
                html: """
                <p>Hello,</p>
                <p style="\(warningBox)">The certificate with serial number <code style="\(code)">{{serial_number}}</code> \
                expires in <strong>{{days_remaining}} day(s)</strong>, on {{not_after}}.</p>
                \(table(
                    row("Names", htmlNames),
                    row("Certificate ID", "<code style=\"\(code)\">{{certificate_id}}</code>"),
                    row("Account", "<code style=\"\(code)\">{{account_id}}</code>")))
                <p>Renew it with your ACME client before then (for example <code style="\(code)">certbot renew</code>) and install the new certificate. \
                If it has already been replaced, ignore this message. This is the {{warning_days}}-day warning.</p>
                """)

        case .orderRejected:
            return Email(
                subject: "ACME order refused by the identifier policy",
                text: """
                Hello,

                a new order from ACME account {{account_id}} was refused because the
                server's identifier policy does not allow all of its names:

                  Error: {{error}}
                  Identifiers:
                {{#identifiers}}
                    - {{.}}
                {{/identifiers}}

                No certificate will be issued for this order. Remove the names the policy
                does not allow, or ask your PKI operators whether they should be allowed.

                """,
                heading: "ACME order refused",
                html: """
                <p>Hello,</p>
                <p>A new order from ACME account <code style="\(code)">{{account_id}}</code> was refused because the server's identifier policy \
                does not allow all of its names:</p>
                <p style="\(errorBox)">{{error}}</p>
                \(table(row("Identifiers", htmlIdentifiers)))
                <p>No certificate will be issued for this order. Remove the names the policy does not allow, \
                or ask your PKI operators whether they should be allowed.</p>
                """)

        case .orderQuotaExceeded:
            return Email(
                subject: "ACME order refused: quota reached",
                text: """
                Hello,

                a new order from ACME account {{account_id}} was refused because the
                account reached its quota:

                  {{error}}

                Try again once older orders or certificates leave the quota's window, or
                ask your PKI operators for a higher limit.

                """,
                heading: "ACME order refused: quota reached",
                html: """
                <p>Hello,</p>
                <p>A new order from ACME account <code style="\(code)">{{account_id}}</code> was refused because the account reached its quota:</p>
                <p style="\(errorBox)">{{error}}</p>
                <p>Try again once older orders or certificates leave the quota's window, or ask your PKI operators for a higher limit.</p>
                """)

        case .orderStaleRecovered:
            return Email(
                subject: "Order {{order_id}} was interrupted and is now invalid",
                text: """
                Hello,

                the issuance of order {{order_id}} of ACME account {{account_id}} was
                interrupted and did not complete in time. The server's cleanup marked the
                order invalid; no certificate was issued for it.

                  Names:
                \(textNames)

                Place a new order with your ACME client to get the certificate.

                """,
                heading: "Order interrupted",
                html: """
                <p>Hello,</p>
                <p>The issuance of order <code style="\(code)">{{order_id}}</code> of ACME account <code style="\(code)">{{account_id}}</code> \
                was interrupted and did not complete in time. The server's cleanup marked the order invalid; no certificate was issued for it.</p>
                \(table(row("Names", htmlNames)))
                <p>Place a new order with your ACME client to get the certificate.</p>
                """)

        case .challengeFailed:
            return Email(
                subject: "{{challenge_type}} validation failed for {{identifier_value}}",
                text: """
                Hello,

                the {{challenge_type}} challenge for {{identifier_type}}:{{identifier_value}} failed,
                so the server could not confirm control of that identifier.

                  Error:          {{error}}
                  Authorization:  {{authz_id}}
                  Account:        {{account_id}}

                Fix the cause and order again: for http-01 the file under
                /.well-known/acme-challenge/ must be served on port 80; for dns-01 the
                _acme-challenge TXT record must be published; for tls-alpn-01 port 443
                must answer with the validation certificate.

                """,
                heading: "Challenge failed",
                html: """
                <p>Hello,</p>
                <p>The <code style="\(code)">{{challenge_type}}</code> challenge for <code style="\(code)">{{identifier_type}}:{{identifier_value}}</code> \
                failed, so the server could not confirm control of that identifier.</p>
                <p style="\(errorBox)">{{error}}</p>
                \(table(
                    row("Authorization", "<code style=\"\(code)\">{{authz_id}}</code>"),
                    row("Account", "<code style=\"\(code)\">{{account_id}}</code>")))
                <p>Fix the cause and order again:</p>
                <ul>
                <li>http-01: the file under <code style="\(code)">/.well-known/acme-challenge/</code> must be served on port 80;</li>
                <li>dns-01: the <code style="\(code)">_acme-challenge</code> TXT record must be published;</li>
                <li>tls-alpn-01: port 443 must answer with the validation certificate.</li>
                </ul>
                """)

        case .csrValidationFailed:
            return Email(
                subject: "Certificate request refused for \(names)",
                text: """
                Hello,

                the certificate signing request (CSR) sent to finalize order {{order_id}}
                of ACME account {{account_id}} was refused:

                  Error: {{error}}
                  Names of the order:
                \(textNames)

                The CSR must name exactly the identifiers of the order, with a key and
                signature the server accepts. Correct it and finalize the order again, or
                place a new order.

                """,
                heading: "Certificate request refused",
                html: """
                <p>Hello,</p>
                <p>The certificate signing request (CSR) sent to finalize order <code style="\(code)">{{order_id}}</code> \
                of ACME account <code style="\(code)">{{account_id}}</code> was refused:</p>
                <p style="\(errorBox)">{{error}}</p>
                \(table(row("Names of the order", htmlNames)))
                <p>The CSR must name exactly the identifiers of the order, with a key and signature the server accepts. \
                Correct it and finalize the order again, or place a new order.</p>
                """)

        case .accountDeactivated:
            return Email(
                subject: "ACME account {{account_id}} deactivated",
                text: """
                Hello,

                ACME account {{account_id}} was deactivated at its holder's request on
                {{timestamp}}. It can no longer place orders; certificates it already
                obtained stay valid until they expire or are revoked.

                If you did not deactivate it, contact your PKI operators at once.

                """,
                heading: "ACME account deactivated",
                html: """
                <p>Hello,</p>
                <p>ACME account <code style="\(code)">{{account_id}}</code> was deactivated at its holder's request on {{timestamp}}. \
                It can no longer place orders; certificates it already obtained stay valid until they expire or are revoked.</p>
                <p>If you did not deactivate it, contact your PKI operators at once.</p>
                """)

        case .accountRevoked:
            return Email(
                subject: "ACME account {{account_id}} revoked",
                text: """
                Hello,

                the PKI operators revoked ACME account {{account_id}}.

                  Reason: {{reason}}

                The account can no longer place orders. Contact your PKI operators if you
                believe this is a mistake or need a new account.

                """,
                heading: "ACME account revoked",
                html: """
                <p>Hello,</p>
                <p>The PKI operators revoked ACME account <code style="\(code)">{{account_id}}</code>.</p>
                \(table(row("Reason", "{{reason}}")))
                <p>The account can no longer place orders. Contact your PKI operators if you believe this is a mistake or need a new account.</p>
                """)

        case .keyRolloverSucceeded:
            return Email(
                subject: "ACME account {{account_id}}: key changed",
                text: """
                Hello,

                the key of ACME account {{account_id}} was replaced (key rollover,
                RFC 8555 section 7.3.5).

                  Old key thumbprint:  {{old_jwk_thumbprint}}
                  New key thumbprint:  {{jwk_thumbprint}}
                  Changed:             {{timestamp}}

                Requests signed with the old key are no longer accepted. If you did not
                change the key, the account may be compromised: contact your PKI operators
                at once.

                """,
                heading: "ACME account key changed",
                html: """
                <p>Hello,</p>
                <p>The key of ACME account <code style="\(code)">{{account_id}}</code> was replaced (key rollover, RFC 8555 section 7.3.5).</p>
                \(table(
                    row("Old key thumbprint", "<code style=\"\(code)\">{{old_jwk_thumbprint}}</code>"),
                    row("New key thumbprint", "<code style=\"\(code)\">{{jwk_thumbprint}}</code>"),
                    row("Changed", "{{timestamp}}")))
                <p>Requests signed with the old key are no longer accepted. \
                <strong>If you did not change the key</strong>, the account may be compromised: contact your PKI operators at once.</p>
                """)

        case .authorizationDeactivated:
            return Email(
                subject: "Authorization for {{identifier_value}} deactivated",
                text: """
                Hello,

                ACME account {{account_id}} deactivated its authorization for
                {{identifier_type}}:{{identifier_value}}.

                  Authorization:  {{authz_id}}

                New orders for this identifier need a fresh validation.

                """,
                heading: "Authorization deactivated",
                html: """
                <p>Hello,</p>
                <p>ACME account <code style="\(code)">{{account_id}}</code> deactivated its authorization for \
                <code style="\(code)">{{identifier_type}}:{{identifier_value}}</code>.</p>
                \(table(row("Authorization", "<code style=\"\(code)\">{{authz_id}}</code>")))
                <p>New orders for this identifier need a fresh validation.</p>
                """)

        case .adminUserCreated:
            return Email(
                subject: "Your acmeeh administrator account",
                text: """
                Hello {{username}},

                an administrator account was created for you on the acmeeh ACME server at
                {{server_url}}.

                  Username:  {{username}}
                  Role:      {{role}}
                  Password:  {{password}}

                The password is shown in this message only. Change it when you first sign
                in, then delete this message.

                """,
                heading: "Administrator account created",
                html: """
                <p>Hello {{username}},</p>
                <p>An administrator account was created for you on the acmeeh ACME server at <a href="{{server_url}}">{{server_url}}</a>.</p>
                \(table(
                    row("Username", "<code style=\"\(code)\">{{username}}</code>"),
                    row("Role", "{{role}}"),
                    row("Password", "<code style=\"\(code)\">{{password}}</code>")))
                <p style="\(warningBox)">The password is shown in this message only. Change it when you first sign in, then delete this message.</p>
                """)

        case .adminPasswordReset:
            return Email(
                subject: "Your acmeeh administrator password was reset",
                text: """
                Hello {{username}},

                the password of your administrator account on the acmeeh ACME server at
                {{server_url}} was reset on {{timestamp}}.

                  Username:      {{username}}
                  New password:  {{password}}

                The password is shown in this message only. Change it when you next sign
                in, then delete this message. If you did not ask for the reset, tell the
                other administrators at once.

                """,
                heading: "Administrator password reset",
                html: """
                <p>Hello {{username}},</p>
                <p>The password of your administrator account on the acmeeh ACME server at <a href="{{server_url}}">{{server_url}}</a> \
                was reset on {{timestamp}}.</p>
                \(table(
                    row("Username", "<code style=\"\(code)\">{{username}}</code>"),
                    row("New password", "<code style=\"\(code)\">{{password}}</code>")))
                <p style="\(warningBox)">The password is shown in this message only. Change it when you next sign in, then delete this message. \
                If you did not ask for the reset, tell the other administrators at once.</p>
                """)
        }
    }
}
