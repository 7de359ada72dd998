import ArgumentParser
import Foundation

/// `acmeeh admin create-user --username NAME --email ADDRESS [--role admin|auditor]`: an
/// admin API user with a random password, printed once (the database keeps only its hash).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Admin API users.", subcommands: [AdminCreateUser.self])
}

struct AdminCreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-user", abstract: "Create an admin API user and print its password (shown once).")

    @OptionGroup var globals: GlobalOptions
    @Option(help: "The login name.") var username: String
    @Option(help: "The user's mail address.") var email: String
    @Option(help: "admin (may change things) or auditor (read-only).") var role: String = "auditor"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        guard let role = AdminUser.Role(rawValue: role) else {
            invocation.fail(CLIError("admin create-user: --role must be admin or auditor, not \"\(self.role)\""))
        }
        guard !username.isEmpty, email.contains("@") else {
            invocation.fail(CLIError("admin create-user: --username must not be empty and --email must be a mail address"))
        }
        let password = AdminPasswords.generate(length: invocation.config.adminAPI.passwordLength)
        let (username, email) = (self.username, self.email)
        let user: AdminUser
        do {
            let hash = try await AdminPasswords.hash(password)
            user = try await EAB.withStore(invocation.config) {
                try $0.insertAdminUser(username: username, email: email, passwordHash: hash, role: role)
            }
        } catch let error as StoreError where error.isUniqueViolation {
            invocation.fail(CLIError("admin create-user: a user named \"\(username)\" already exists"))
        } catch {
            invocation.fail(CLIError("admin create-user: \(error)"))
        }
        if json {
            var object = AdminUsers.json(user)
            object["password"] = password
            print(String(decoding: AdminReply.bytes(object), as: UTF8.self))
        } else {
            print("user:     \(user.username) (\(user.role.rawValue), id \(user.id.uuidString.lowercased()))")
            print("password: \(password)")
            print("The password is shown only now.")
        }
    }
}
