// Preload (node -r) for test servers that call listen(PORT) on all interfaces, such as
// @modelcontextprotocol/server-everything: it pins every port-only listen() to 127.0.0.1 and, once the
// socket listens, writes "LISTENING <port>" to stderr (so PORT=0 lets the OS choose a free port).
'use strict';
const net = require('net');
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const portOnly = typeof args[0] === 'number' || /^\d+$/.test(String(args[0]));
  if (portOnly && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') process.stderr.write(`\nLISTENING ${address.port}\n`);
  });
  return originalListen.apply(this, args);
};
