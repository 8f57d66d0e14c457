// driver.mjs - runs the HTTP caching test suite of cache-tests.fyi
// (github.com/http-tests/cache-tests, a checkout the user provides) through
// cuttle as a forward proxy, and summarises the results.  run.sh prepares
// the environment; see README.md.
//
// Environment: CACHE_TESTS_DIR (the suite's checkout, with its npm
// dependencies installed), CUTTLE (the binary), CT_WORKDIR (an empty
// directory for confs, logs and results), CT_CONF_EXTRA (optional lines
// appended to cuttle's configuration).  Argument: an optional suite or test
// id to run alone.
//
// The suite's origin server and cuttle both run here as children, on
// loopback ports of their own.  Suites run one after another; when cuttle
// dies during one, it is restarted and that suite's tests run again one at
// a time, so that each death is pinned on the one test that caused it, which
// then fails as "cuttle died".
//
// Exit status: 0 when every required test outside CDN-Cache-Control passes
// and cuttle never died, 1 otherwise, 2 on trouble running the suite.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const suiteDir = path.resolve(process.env.CACHE_TESTS_DIR)
const cuttleBin = path.resolve(process.env.CUTTLE)
const work = path.resolve(process.env.CT_WORKDIR)
const confExtra = process.env.CT_CONF_EXTRA || ''
const only = process.argv[2] || ''

// The suites of CDN-Cache-Control (RFC 9213) concern CDNs, not a forward
// proxy: their failures are listed but never fail the run.
const advisorySuites = new Set(['cdn-cache-control'])

function suiteImport (file) {
	return import(pathToFileURL(path.join(suiteDir, file)).href)
}

function die (msg) {
	console.error(`cache-tests: ${msg}`)
	process.exit(2)
}

for (const ev of ['uncaughtException', 'unhandledRejection']) {
	process.on(ev, err => {
		console.error(err)
		die('the run broke off')
	})
}

// The same undici module the suite's client loads for its interim-response
// tests (a CommonJS package is one instance, however imported).
const undici = createRequire(path.join(suiteDir, 'package.json'))('undici')
const { runTests, getResults } =
    await suiteImport('test-engine/client/runner.mjs')
const { testResults } = await suiteImport('test-engine/client/test.mjs')
const { determineTestResult, resultTypes } =
    await suiteImport('test-engine/lib/results.mjs')
const suites = (await suiteImport('tests/index.mjs')).default

const children = new Set()

function stopChildren () {
	for (const c of children)
		c.kill('SIGTERM')
}
process.on('exit', stopChildren)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		stopChildren()
		process.exit(2)
	})
}

function sleep (ms) {
	return new Promise(resolve => setTimeout(resolve, ms))
}

function exited (child) {
	return child.exitCode !== null || child.signalCode !== null
}

function exitText (child) {
	return child.signalCode !== null ? `killed by ${child.signalCode}`
	    : `exited with status ${child.exitCode}`
}

async function freePort () {
	const s = net.createServer()
	s.listen(0, '127.0.0.1')
	await once(s, 'listening')
	const port = s.address().port
	s.close()
	await once(s, 'close')
	return port
}

function canConnect (port) {
	return new Promise(resolve => {
		const s = net.connect(port, '127.0.0.1')
		s.on('connect', () => { s.destroy(); resolve(true) })
		s.on('error', () => resolve(false))
	})
}

function startChild (cmd, args, opts, logName) {
	const log = fs.openSync(path.join(work, logName), 'a')
	const child = spawn(cmd, args, {
		...opts, stdio: ['ignore', 'pipe', log]
	})
	children.add(child)
	child.on('exit', () => children.delete(child))
	child.stdout.on('data', d => fs.appendFileSync(log, d))
	return child
}

// The origin: the suite's own server, on a port the kernel picks.
async function startOrigin () {
	const child = startChild(process.execPath, [
		'--import', pathToFileURL(path.join(here, 'loopback.mjs')).href,
		path.join(suiteDir, 'test-engine/server/server.mjs')
	], {
		cwd: suiteDir,
		env: {
			...process.env,
			npm_package_config_protocol: 'http',
			npm_package_config_port: '0',
			npm_package_config_pidfile: path.join(work, 'origin.pid')
		}
	}, 'origin.log')
	let out = ''
	for await (const d of child.stdout) {
		out += d
		const m = out.match(/Listening on http:\/\/127\.0\.0\.1:([0-9]+)\//)
		if (m)
			return { child, port: Number(m[1]) }
	}
	die(`the origin server did not start; see ${work}/origin.log`)
}

function writeConf (port) {
	const conf = path.join(work, 'cuttle.conf')
	fs.writeFileSync(conf, [
		`http_port 127.0.0.1:${port}`,
		`pid_filename ${work}/cuttle.pid`,
		`access_log ${work}/access.log`,
		'shutdown_lifetime 1 second',
		// Root would otherwise become nobody, who cannot write here.
		`cache_effective_user ${os.userInfo().username}`,
		'http_access allow localhost',
		'http_access deny all',
		confExtra, ''
	].join('\n'))
	return conf
}

const proxy = { child: null, port: 0, conf: '', starts: 0, agent: null }

async function startProxy () {
	const child = startChild(cuttleBin, ['-N', '-f', proxy.conf], {},
	    'cuttle.log')
	proxy.child = child
	proxy.starts++
	for (let i = 0; i < 100; i++) {
		if (exited(child))
			break
		if (await canConnect(proxy.port))
			break
		await sleep(50)
	}
	if (exited(child) || !await canConnect(proxy.port))
		die(`cuttle did not start (${exitText(child)}); see ` +
		    `${work}/cuttle.log`)
	// A fresh agent: the old one's connections died with the old cuttle.
	// proxyTunnel off: plain http goes to the proxy as absolute-form
	// requests, not through CONNECT.
	proxy.agent = new undici.ProxyAgent({
		uri: `http://127.0.0.1:${proxy.port}`, proxyTunnel: false
	})
	undici.setGlobalDispatcher(proxy.agent)
}

async function proxyDied () {
	// Let a pending exit event arrive.
	await sleep(100)
	return exited(proxy.child)
}

// The client's requests all go through cuttle: fetch is undici's, whose
// global dispatcher is the proxy agent, and the interim-response tests,
// which compose a dispatcher of their own from a new Agent, get the proxy
// agent composed instead.
globalThis.fetch = undici.fetch
undici.Agent.prototype.compose = function (...interceptors) {
	return proxy.agent.compose(...interceptors)
}

function selectSuites () {
	if (only === '')
		return suites
	for (const s of suites) {
		if (s.id === only)
			return [s]
		const t = s.tests.find(t => t.id === only)
		if (t !== undefined) {
			// Alone, a test prints its requests and responses.
			t.dump = true
			return [{ ...s, tests: [t] }]
		}
	}
	die(`no suite or test has the id ${only}`)
}

const deaths = {}

async function runSuite (suite, base) {
	await runTests([suite], false, base)
	if (!await proxyDied())
		return
	console.error(`cache-tests: cuttle ${exitText(proxy.child)} during ` +
	    `${suite.id}; running its tests again one at a time`)
	for (const t of suite.tests)
		delete testResults[t.id]
	for (const t of suite.tests) {
		if (exited(proxy.child))
			await startProxy()
		await runTests([{ ...suite, tests: [t] }], false, base)
		if (await proxyDied()) {
			deaths[t.id] = exitText(proxy.child)
			testResults[t.id] = ['Crash',
			    `cuttle ${deaths[t.id]} (see cuttle.log)`]
		}
	}
}

const origin = await startOrigin()
const base = `http://127.0.0.1:${origin.port}`
proxy.port = await freePort()
proxy.conf = writeConf(proxy.port)
await startProxy()

const selected = selectSuites()
for (const suite of selected) {
	if (exited(origin.child))
		die(`the origin server ${exitText(origin.child)}; see ` +
		    `${work}/origin.log`)
	if (exited(proxy.child))
		await startProxy()
	await runSuite(suite, base)
}

const results = getResults()
fs.writeFileSync(path.join(work, 'results.json'),
    JSON.stringify(results, null, 2) + '\n')

// Tally as cache-tests.fyi shows them: dependencies honoured, unless one
// test runs alone, as the suite's own client does then.
const alone = selected.length === 1 && selected[0].tests.length === 1
const names = new Map(Object.entries(resultTypes).map(([k, v]) => [v, k]))
const counts = {}
const lists = { fail: [], advisory: [], optional_fail: [], setup_fail: [],
	harness_fail: [], retry: [] }
let total = 0
for (const suite of selected) {
	for (const test of suite.tests) {
		if (!(test.id in results))
			continue
		total++
		const type = names.get(determineTestResult(suites, test.id,
		    results, !alone))
		counts[type] = (counts[type] || 0) + 1
		const r = results[test.id]
		const why = Array.isArray(r) ? r.slice(0, 2).join(': ') : ''
		const line = `  ${test.id}: ${why.replace(/^Assertion(Error)?: /,
		    '')}`
		if (type === 'fail' && advisorySuites.has(suite.id))
			lists.advisory.push(line)
		else if (type in lists)
			lists[type].push(line)
	}
}

const c = k => counts[k] || 0
console.log(`cache-tests: ${total} tests through cuttle: ` +
    `${c('pass')} passed, ${c('fail')} failed, ` +
    `${c('optional_fail')} optional failed, ` +
    `checks ${c('yes')} yes / ${c('no')} no, ` +
    `${c('setup_fail')} setup failed, ${c('harness_fail')} harness ` +
    `failed, ${c('dependency_fail')} dependency failed, ` +
    `${c('retry')} retried`)
if (proxy.starts > 1)
	console.log(`cuttle was started ${proxy.starts} times; it died on: ` +
	    Object.keys(deaths).join(' '))
const show = (title, list) => {
	if (list.length > 0)
		console.log(`${title} (${list.length}):\n${list.join('\n')}`)
}
show('FAILED required', lists.fail)
show('Failed required, CDN-Cache-Control (not counted)', lists.advisory)
show('Failed optional', lists.optional_fail)
show('Setup failed', lists.setup_fail)
show('Harness failed (timeouts)', lists.harness_fail)
show('Retried', lists.retry)
stopChildren()
// A death fails the run whatever the test's kind: no input may end cuttle.
process.exit(lists.fail.length > 0 || proxy.starts > 1 ? 1 : 0)
