// Node side of tests/bench/cache_suite.py: what must run inside the suite's own JavaScript.
//
//   node cache_suite.mjs classify SUITE LABEL=RESULTS.json...   -> JSON: the tests and each result file's verdicts
//   node cache_suite.mjs run SUITE BASE ONLY                     -> JSON results, like test-engine/cli.mjs
//
// `classify` calls the suite's own determineTestResult (test-engine/lib/results.mjs, what cache-tests.fyi
// shows) instead of a port of it, so required/optimal/check and depends_on are counted exactly as the
// website counts them, for edge and for the published results alike.
// `run` exists because cli.mjs runs either every test or a single one: with --only GROUP it runs that
// group's tests plus, transitively, the tests they depend on (otherwise they would all read "dependency
// failed"), through the suite's own runner.
import fs from 'fs'
import path from 'path'
import { pathToFileURL } from 'url'

const [command, suite, ...rest] = process.argv.slice(2)
const load = relative => import(pathToFileURL(path.join(suite, relative)).href)
const tests = (await load('tests/index.mjs')).default

if (command === 'classify') {
  const { determineTestResult, resultTypes } = await load('test-engine/lib/results.mjs')
  const typeName = new Map(Object.entries(resultTypes).map(([name, type]) => [type, name]))
  const verdicts = {}
  for (const arg of rest) {
    const cut = arg.indexOf('=')
    const label = arg.slice(0, cut)
    const results = JSON.parse(fs.readFileSync(arg.slice(cut + 1), 'utf8'))
    const byTest = {}
    for (const group of tests) {
      for (const test of group.tests) {
        byTest[test.id] = typeName.get(determineTestResult(tests, test.id, results))
      }
    }
    verdicts[label] = byTest
  }
  const groups = tests.map(group => ({
    id: group.id,
    name: group.name,
    tests: group.tests.map(test => ({
      id: test.id,
      name: test.name,
      kind: test.kind || 'required',
      depends_on: test.depends_on || [],
      browser_only: test.browser_only === true,
      cdn_only: test.cdn_only === true
    }))
  }))
  console.log(JSON.stringify({ groups, verdicts }))
} else if (command === 'run') {
  const [base, only] = rest
  const { runTests, getResults } = await load('test-engine/client/runner.mjs')
  const byId = new Map()
  for (const group of tests) for (const test of group.tests) byId.set(test.id, test)
  const wanted = new Set()
  const want = test => {
    if (wanted.has(test.id)) return
    wanted.add(test.id)
    for (const dep of test.depends_on || []) want(byId.get(dep))
  }
  for (const group of tests) {
    for (const test of group.tests) if (group.id === only || test.id === only) want(test)
  }
  if (wanted.size === 0) {
    console.error(`no group or test named ${only}`)
    process.exit(2)
  }
  const selected = tests
    .map(group => ({ ...group, tests: group.tests.filter(test => wanted.has(test.id)) }))
    .filter(group => group.tests.length)
  await runTests(selected, false, base).catch(err => {
    console.error(err)
    process.exit(1)
  })
  console.log(JSON.stringify(getResults(), null, 2))
} else {
  console.error('usage: cache_suite.mjs classify SUITE LABEL=FILE... | run SUITE BASE ONLY')
  process.exit(2)
}
