// Genkit JS side of `cargo bench -p genkit-axum --bench serve_load`: the `research` flow
// (a 2-turn tool loop with a `web_search` tool) served by @genkit-ai/express on
// 127.0.0.1, its model pointed at the local Gemini-compatible server.
//
//   node server.mjs --base-url URL --port N
//
// serve_load copies this file into ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/bench-js
// (ESM resolves packages next to the script), where genkit@1.42.0,
// @genkit-ai/google-genai@1.42.0 and @genkit-ai/express@1.42.0 are installed.
// It prints `listening on PORT` once it accepts requests.
import { genkit, z } from 'genkit';
import { googleAI } from '@genkit-ai/google-genai';
import express from 'express';
import { expressHandler } from '@genkit-ai/express';

const a = process.argv.slice(2);
const arg = (name) => {
  const i = a.indexOf(name);
  if (i < 0 || i + 1 >= a.length) throw new Error(`missing ${name}`);
  return a[i + 1];
};
const baseUrl = arg('--base-url');
const port = Number(arg('--port'));

const ai = genkit({
  plugins: [googleAI({ apiKey: 'bench-key', baseUrl })],
  model: googleAI.model('gemini-2.0-flash'),
});
const SearchInput = z.object({ query: z.string() });
const webSearch = ai.defineTool(
  { name: 'web_search', description: 'Search the web for a query.', inputSchema: SearchInput, outputSchema: z.string() },
  async ({ query }) => `Results for: ${query}`
);
const research = ai.defineFlow(
  { name: 'research', inputSchema: SearchInput, outputSchema: z.string() },
  async ({ query }) => {
    const r = await ai.generate({ prompt: `Research: ${query}`, tools: [webSearch] });
    return r.text;
  }
);

// The @genkit-ai/express handler on an express app bound to loopback only, on an
// OS-chosen port when --port is 0.
const app = express();
app.use(express.json());
app.post('/research', expressHandler(research));
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
