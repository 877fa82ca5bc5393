// Preloaded with `node --require` so server-everything (which calls app.listen(PORT)) binds 127.0.0.1 only.
"use strict";
const net = require("node:net");

const host = process.env.BENCH_LISTEN_HOST || "127.0.0.1";
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") args.splice(1, 0, host);
  } else if (first && typeof first === "object" && first.path === undefined && first.host === undefined) {
    args[0] = { ...first, host };
  }
  return listen.apply(this, args);
};
