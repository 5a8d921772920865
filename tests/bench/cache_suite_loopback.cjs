// Preload for the cache test suite's origin (`node -r .../cache_suite_loopback.cjs test-engine/server/server.mjs`).
//
// The suite's server calls `server.listen(port)`, which binds every interface: on a shared machine that would
// expose a test origin which answers any PUT with stored config. Every net.Server.listen without an explicit
// host is rewritten to listen on 127.0.0.1 only; this file is ours, the suite's code stays untouched.
'use strict'

const net = require('net')

const LOOPBACK = '127.0.0.1'
const originalListen = net.Server.prototype.listen

function isPort (value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))
}

net.Server.prototype.listen = function listenOnLoopback (...args) {
  if (args.length === 0 || typeof args[0] === 'function') {
    args.unshift(0, LOOPBACK) // listen([callback]): a random port, still on loopback
  } else if (isPort(args[0])) {
    // listen(port[, host][, backlog][, callback]): insert or replace the host
    if (typeof args[1] === 'string') {
      args[1] = LOOPBACK
    } else {
      args.splice(1, 0, LOOPBACK)
    }
  } else if (args[0] !== null && typeof args[0] === 'object' && !(args[0] instanceof net.Server) &&
             args[0].path === undefined && args[0].fd === undefined && args[0].handle === undefined &&
             args[0]._handle === undefined) {
    args[0] = { ...args[0], host: LOOPBACK }
  }
  return originalListen.apply(this, args)
}
