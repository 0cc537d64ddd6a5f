// Calls genkit-rs flows served by genkit-axum with the real Genkit JS client
// (`genkit/beta/client`). Usage: node flows.cjs <base-url>. Prints `ok <check>` per
// check that passed; any failure throws (exit code 1). Run by tests/js_client.rs.
'use strict';
const assert = require('node:assert/strict');
const { runFlow, streamFlow } = require('genkit/beta/client');

const base = process.argv[2];
const ok = (name) => console.log(`ok ${name}`);
const answer = (q) => `Based on web_search: Results for: ${q}`;

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return String(e && e.message ? e.message : e);
  }
  throw new Error('expected a rejection');
}

// Reads a stream to its end, swallowing its error (the output promise carries it): an
// unread errored stream would be an unhandled rejection.
async function drain(s) {
  try {
    for await (const _ of s.stream) {
    }
  } catch (_) {}
  return s;
}

async function main() {
  // Plain.
  assert.equal(await runFlow({ url: `${base}/research`, input: { query: 'rust' } }), answer('rust'));
  assert.equal(await runFlow({ url: `${base}/research_flow`, input: { query: 'go' } }), answer('go'));
  ok('run_flow');

  // Streaming: chunks, then the output.
  const { stream, output } = streamFlow({ url: `${base}/research_stream`, input: { query: 'deno' } });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.equal(await output, answer('deno'));
  assert.ok(chunks.length > 1, `chunks: ${JSON.stringify(chunks)}`);
  assert.ok(chunks.join('').includes('Results for: deno'), chunks.join(''));
  ok('stream_flow');

  // Bad input: 400 naming the field; in a stream, an error frame.
  let msg = await rejects(runFlow({ url: `${base}/research`, input: { qurey: 'x' } }));
  assert.match(msg, /Server returned: 400/);
  assert.match(msg, /INVALID_ARGUMENT/);
  assert.match(msg, /query/);
  const bad = await drain(streamFlow({ url: `${base}/research`, input: {} }));
  msg = await rejects(bad.output);
  assert.match(msg, /^INVALID_ARGUMENT: .*query/);
  ok('bad_input');

  // Internal errors are hidden.
  msg = await rejects(runFlow({ url: `${base}/boom`, input: null }));
  assert.match(msg, /Server returned: 500/);
  assert.match(msg, /Internal Error/);
  assert.doesNotMatch(msg, /hunter2/);
  ok('internal_error');

  // Auth: /secure requires `Authorization: Bearer k`.
  msg = await rejects(runFlow({ url: `${base}/secure/whoami`, input: null }));
  assert.match(msg, /Server returned: 401/);
  assert.match(msg, /UNAUTHENTICATED/);
  msg = await rejects(
    runFlow({ url: `${base}/secure/whoami`, input: null, headers: { Authorization: 'Bearer nope' } }),
  );
  assert.match(msg, /Server returned: 403/);
  msg = await rejects((await drain(streamFlow({ url: `${base}/secure/research_stream`, input: { query: 'x' } }))).output);
  assert.match(msg, /Server returned: 401/);
  const me = await runFlow({
    url: `${base}/secure/whoami`,
    input: null,
    headers: { Authorization: 'Bearer k' },
  });
  assert.deepEqual(me, { auth: { apiKey: 'Bearer k' } });
  const secured = streamFlow({
    url: `${base}/secure/research_stream`,
    input: { query: 'auth' },
    headers: { Authorization: 'Bearer k' },
  });
  for await (const _ of secured.stream) {
  }
  assert.equal(await secured.output, answer('auth'));
  ok('auth');

  // Client disconnect: abort after the first chunk.
  const controller = new AbortController();
  const hang = streamFlow({ url: `${base}/hang`, input: null, abortSignal: controller.signal });
  const first = await hang.stream[Symbol.asyncIterator]().next();
  assert.equal(first.value, 'started');
  controller.abort();
  await drain(hang);
  await rejects(hang.output);
  ok('disconnect');

  // Concurrent requests, plain and streaming.
  const calls = [];
  for (let i = 0; i < 20; i++) {
    if (i % 2 === 0) {
      calls.push(runFlow({ url: `${base}/research`, input: { query: `q${i}` } }));
    } else {
      const s = streamFlow({ url: `${base}/research_stream`, input: { query: `q${i}` } });
      calls.push((async () => {
        for await (const _ of s.stream) {
        }
        return s.output;
      })());
    }
  }
  const results = await Promise.all(calls);
  results.forEach((r, i) => assert.equal(r, answer(`q${i}`)));
  ok('concurrent');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
