import NIOCore
import NIOPosix

/// The server's threads for HTTP and for Swift concurrency: one event loop per core (at most
/// `server.workers`), which also run every task, so a request's hops between its channel
/// and its handler stay on one thread instead of waking a second pool.
enum EventLoops {
    /// Sizes NIO's singleton group and installs it as the global executor. Call once, from
    /// `serve`, before anything uses the singleton group.
    static func takeOver(workers: Int) -> MultiThreadedEventLoopGroup {
        NIOSingletons.groupLoopCountSuggestion = max(1, min(workers, System.coreCount))
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        return MultiThreadedEventLoopGroup.singleton
    }
}

