// loopback.mjs - preloaded (node --import) into the cache-tests origin
// server.  That server calls listen(port), which binds every address; the
// tests need loopback only, so a listen() given a port and no host binds
// 127.0.0.1.
import net from 'node:net'

const listen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
	const port = args[0]
	const isPort = typeof port === 'number' ||
	    (typeof port === 'string' && /^[0-9]+$/.test(port))

	if (isPort && typeof args[1] !== 'string')
		args.splice(1, 0, '127.0.0.1')
	return listen.apply(this, args)
}
