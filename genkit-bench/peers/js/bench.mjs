// Genkit JS side of the genkit-rs benchmarks: the same workloads as the Rust runner,
// against the same local Gemini-compatible server. Prints one JSON line of results.
//
//   node bench.mjs --base-url URL --workload overhead|loop|stream
//                  [--concurrency N] [--calls N] [--warmup N] [--duration-s S]
//
// Run by `cargo run --release -p genkit-bench`, which installs genkit@1.42.0 and
// @genkit-ai/google-genai@1.42.0 under ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/bench-js
// and points NODE_PATH there.
import { readFileSync } from 'node:fs';
import { genkit, z } from 'genkit';
import { googleAI } from '@genkit-ai/google-genai';

function args() {
  const out = { concurrency: 1, calls: 100, warmup: 20, durationS: 3 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const v = a[i + 1];
    switch (a[i]) {
      case '--base-url': out.baseUrl = v; break;
      case '--workload': out.workload = v; break;
      case '--concurrency': out.concurrency = Number(v); break;
      case '--calls': out.calls = Number(v); break;
      case '--warmup': out.warmup = Number(v); break;
      case '--duration-s': out.durationS = Number(v); break;
      default: throw new Error(`unknown argument ${a[i]}`);
    }
  }
  return out;
}

function peakRssKb() {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}
function cpuS() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
function pct(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const o = args();
const ai = genkit({
  plugins: [googleAI({ apiKey: 'local', baseUrl: o.baseUrl })],
  model: googleAI.model('gemini-2.0-flash'),
});
const Query = z.object({ query: z.string() });
const lookup = ai.defineTool(
  { name: 'lookup', description: 'Look up a topic.', inputSchema: Query, outputSchema: z.string() },
  async ({ query }) => `Results for: ${query}`
);
const search = ai.defineTool(
  { name: 'search', description: 'Search the web for a topic.', inputSchema: Query, outputSchema: z.string() },
  async ({ query }) => `Found: ${query}`
);

async function overheadOnce() {
  const r = await ai.generate({ prompt: 'Look up: rust', tools: [lookup] });
  if (!r.text.includes('Results for: rust')) throw new Error(`unexpected answer: ${r.text}`);
}
async function loopOnce() {
  const r = await ai.generate({ prompt: 'Research: rust', tools: [search, lookup], maxTurns: 5 });
  if (!r.text.startsWith('done after 3 tool turns')) throw new Error(`unexpected answer: ${r.text}`);
}
const LONG = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
async function streamOnce() {
  const t0 = performance.now();
  const { stream, response } = ai.generateStream({ prompt: LONG });
  let first = 0;
  let chunks = 0;
  for await (const c of stream) {
    if (!first && c.text) first = performance.now();
    chunks++;
  }
  await response;
  return { ttfc: first - t0, chunks, total: performance.now() - t0 };
}

const result = { impl: 'genkit-js', workload: o.workload, concurrency: o.concurrency };
if (o.workload === 'overhead') {
  for (let i = 0; i < o.warmup; i++) await overheadOnce();
  const lat = [];
  const c0 = cpuS();
  const w0 = performance.now();
  for (let i = 0; i < o.calls; i++) {
    const t = performance.now();
    await overheadOnce();
    lat.push(performance.now() - t);
  }
  result.wall_s = (performance.now() - w0) / 1000;
  result.cpu_s = cpuS() - c0;
  lat.sort((a, b) => a - b);
  Object.assign(result, { n: lat.length, p50_ms: pct(lat, 50), p99_ms: pct(lat, 99) });
} else if (o.workload === 'loop') {
  for (let i = 0; i < Math.min(o.warmup, 5); i++) await loopOnce();
  const lat = [];
  // Steady state: a warm-up period first (a quarter of the window, 0.2 to 2 s); the
  // window counts the generates that complete inside it.
  const warm = Math.min(2, Math.max(0.2, o.durationS / 4)) * 1000;
  const windowStart = performance.now() + warm;
  const deadline = windowStart + o.durationS * 1000;
  let stop = false;
  const worker = async () => {
    while (!stop && performance.now() < deadline) {
      const t = performance.now();
      await loopOnce();
      const done = performance.now();
      if (done >= windowStart && done <= deadline) lat.push(done - t);
    }
  };
  const workers = Array.from({ length: o.concurrency }, worker);
  await new Promise((res) => setTimeout(res, warm));
  const c0 = cpuS();
  const w0 = performance.now();
  await new Promise((res) => setTimeout(res, o.durationS * 1000));
  stop = true;
  result.wall_s = (performance.now() - w0) / 1000;
  result.cpu_s = cpuS() - c0;
  lat.sort((a, b) => a - b);
  Object.assign(result, { n: lat.length, p50_ms: pct(lat, 50), p99_ms: pct(lat, 99) });
  void workers;
} else if (o.workload === 'stream') {
  await streamOnce();
  const ttfc = [];
  let chunks = 0;
  let total = 0;
  const c0 = cpuS();
  for (let i = 0; i < o.calls; i++) {
    const r = await streamOnce();
    ttfc.push(r.ttfc);
    chunks += r.chunks;
    total += r.total;
  }
  result.cpu_s = cpuS() - c0;
  ttfc.sort((a, b) => a - b);
  Object.assign(result, { n: o.calls, ttfc_ms: pct(ttfc, 50), chunks_per_s: chunks / (total / 1000), chunks });
} else {
  throw new Error(`unknown workload ${o.workload}`);
}
result.rss_kb = peakRssKb();
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
