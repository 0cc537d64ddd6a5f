// Chats with genkit-rs agents served by genkit-axum, using the real Genkit JS client's
// `remoteAgent` (`genkit/beta/client`). Usage: node agent.cjs <base-url>. Prints
// `ok <check>` per check that passed; any failure throws (exit code 1). Run by
// tests/js_client.rs.
'use strict';
const assert = require('node:assert/strict');
const { remoteAgent } = require('genkit/beta/client');

const base = process.argv[2];
const ok = (name) => console.log(`ok ${name}`);
const texts = (messages) => messages.map((m) => m.content.map((p) => p.text ?? '').join('')).join(' | ');

async function main() {
  // Server-managed state: two turns, the second continuing the first's snapshot.
  const agent = remoteAgent({ url: `${base}/myAgent` });
  const chat = agent.chat();
  const r1 = await chat.send('My name is Ada.');
  assert.equal(r1.finishReason, 'stop');
  assert.ok(r1.snapshotId, 'a snapshot id');
  const r2 = await chat.send('What is my name?');
  assert.ok(r2.snapshotId && r2.snapshotId !== r1.snapshotId);
  assert.equal(r2.sessionId, r1.sessionId);
  assert.match(r2.text, /What is my name\?/);
  ok('two_turns');

  // getSnapshot: the server kept both turns.
  const snap = await agent.getSnapshot(r2.snapshotId);
  assert.equal(snap.snapshotId, r2.snapshotId);
  assert.equal(snap.status, 'completed');
  assert.equal(snap.state.messages.length, 4);
  assert.match(texts(snap.state.messages), /My name is Ada\..*What is my name\?/);
  const bySession = await agent.getSnapshot({ sessionId: r1.sessionId });
  assert.equal(bySession.snapshotId, r2.snapshotId);
  const loaded = await agent.loadChat({ snapshotId: r2.snapshotId });
  assert.equal(loaded.messages.length, 4);
  ok('get_snapshot');

  // Streaming a turn: model chunks as they come.
  const turn = chat.sendStream('Stream this please.');
  let streamed = '';
  for await (const c of turn.stream) streamed += c.text;
  const r3 = await turn.response;
  assert.match(streamed, /Stream this please\./);
  assert.equal(r3.text, streamed);
  ok('stream_turn');

  // Abort: a finished turn reports `completed`; a detached turn still running is
  // stopped (`pending` before), and its snapshot reads `aborted`.
  assert.equal(await chat.abort(), 'completed');
  const slow = remoteAgent({ url: `${base}/slowAgent` });
  const task = await slow.chat().detach('A long task.');
  assert.equal(await task.abort(), 'pending');
  const aborted = await slow.getSnapshot(task.snapshotId);
  assert.equal(aborted.status, 'aborted');
  ok('abort');

  // Client-managed state: the client carries the state between turns.
  const notes = remoteAgent({ url: `${base}/notes` });
  const nchat = notes.chat();
  const n1 = await nchat.send('Remember: blue.');
  assert.equal(n1.snapshotId, undefined);
  assert.equal(n1.raw.state.messages.length, 2);
  const n2 = await nchat.send('Which colour?');
  assert.equal(n2.raw.state.messages.length, 4);
  assert.match(texts(n2.raw.state.messages), /Remember: blue\..*Which colour\?/);
  ok('client_state');

  // Auth: the secured agent refuses a client without the key, and serves one with it.
  await assert.rejects(remoteAgent({ url: `${base}/secure/myAgent` }).chat().send('hi'), /401/);
  const secured = remoteAgent({ url: `${base}/secure/myAgent`, headers: { Authorization: 'Bearer k' } });
  const s1 = await secured.chat().send('hi');
  assert.equal(s1.finishReason, 'stop');
  ok('auth');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
