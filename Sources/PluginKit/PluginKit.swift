// PluginKit: what every acmeeh plugin written in Swift would otherwise repeat.
// Linked statically into each plugin (never into the host), so each plugin has
// its own copy and its own globals.
//
// - `PluginDescriptor.ca` / `.challenge` / `.notifier`: the static descriptor, with thunks for
//   every ABI function except `create`, which is one line per plugin:
//   `create: { createInstance(MyInstance.self, $0, $1, $2) }`.
// - `PluginInstance`, `CAInstance`, `ChallengeInstance`, `NotifierInstance`: what an instance class
//   implements; it is boxed with `Unmanaged` (retained from create to destroy).
// - `SignRequest`, `SignOutcome`, `RevokeRequest`, `ChallengeRequest`, `CRLRequest`,
//   `NotifierMessage`: the ABI's borrowed structs copied into Swift values; `struct_size` is checked against the
//   frozen v1 size and only min(struct_size, ours) bytes are read (`borrowedStruct`).
// - `PluginABI`: the ABI version this PluginKit was built against; `crl: true` on
//   `PluginDescriptor.ca` installs ABI 1.1 `ca_sign_crl` (`CAInstance.signCRL`).
// - `PluginError` and `ProblemType`: thrown errors become a filled `acmeeh_error`
//   (detail truncated to fit on a UTF-8 boundary, always NUL-terminated).
// - `Buffers`: malloc'ed outputs, released by the descriptor's `buffer_free`.
// - `StrictConfig`: the config JSON decoded with unknown keys rejected and
//   every message naming `<config_path>.<key>`.
// - `HostLog`: logging through `acmeeh_host_api.log`.
// - `Deadline`: CLOCK_MONOTONIC milliseconds, time left, `check()`.
// - `NetworkSyntax`: parsing of IPs, CIDRs, resolvers, domain names, URLs in configs.
