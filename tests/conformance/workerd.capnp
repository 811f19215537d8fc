# workerd config for the conformance Worker. tests/runtimes_test.ts copies it
# beside the bundled worker.js, puts a free port in the socket's address and
# makes the empty `cache` directory that backs the Worker's Cache API
# (`caches.default`, `caches.open()`); the cache service needs `--experimental`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "cache", cache = (path = "cache")),
  ],
  sockets = [(name = "http", address = "127.0.0.1:PORT", http = (), service = "main")],
);

const main :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  cacheApiOutbound = "cache",
);
