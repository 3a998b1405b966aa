# Local run of the dapo Worker under workerd, as Cloudflare runs it with
# wrangler.toml: an assets router in front (files from assets/, the API paths
# to the Worker) and the Worker with its ASSETS binding. Paths are relative to
# this file (modules) and to the current directory (assets), so start it in the
# build folder:
#   cd build/worker && workerd serve --experimental workerd.capnp
# (--experimental for the assets service; --socket-addr http=HOST:PORT moves
# the socket.)
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "router", assets = (
      path = "assets",
      config = "{\"run_worker_first\": [\"/v1/*\", \"/healthz\"]}",
      userWorker = "dapo",
    )),
    (name = "dapo", worker = .dapoWorker),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "router")],
);

const dapoWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "runtime.mjs", esModule = embed "runtime.mjs"),
    (name = "wasm_exec.js", esModule = embed "wasm_exec.js"),
    (name = "app.wasm", wasm = embed "app.wasm"),
  ],
  compatibilityDate = "2026-11-17",
  bindings = [(name = "ASSETS", service = (name = "router", entrypoint = "AssetWorker"))],
);
