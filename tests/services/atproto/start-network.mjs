// Starts the reference Bluesky PDS (TestNetworkNoAppView: in-memory PLC + SQLite PDS) for the tests.
// Prints one JSON line {"pds": url, "plc": url} when ready; stops on SIGTERM/SIGINT or when stdin closes.
import net from 'node:net'
import { TestNetworkNoAppView } from '@atproto/dev-env'

// The PDS and PLC listen on a bare port (all interfaces); tests must only be reachable on loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}

const network = await TestNetworkNoAppView.create({})
console.log(JSON.stringify({ pds: network.pds.url, plc: network.plc.url }))

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
