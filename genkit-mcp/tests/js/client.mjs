// Genkit JS's MCP client (@genkit-ai/mcp) against genkit-mcp's Streamable HTTP server,
// for its tests: `node client.mjs URL TOKEN` prints what it saw as one JSON line.
import { genkit } from 'genkit';
import { createMcpHost } from '@genkit-ai/mcp';

const [url, token] = process.argv.slice(2);
const ai = genkit({});
const host = createMcpHost({
  name: 'js-test',
  mcpServers: {
    rs: { url, requestInit: { headers: { Authorization: `Bearer ${token}` } } },
  },
});
const tools = await host.getActiveTools(ai);
const byName = Object.fromEntries(tools.map((t) => [t.__action.name, t]));
const report = {
  tools: Object.fromEntries(
    tools.map((t) => [
      t.__action.name,
      { description: t.__action.description, inputSchema: t.__action.inputJsonSchema },
    ])
  ),
  search: await byName['rs/web_search']({ query: 'from js' }),
  shout: await byName['rs/shout']({ input: 'hi' }),
  failing: await byName['rs/failing_tool']({ query: 'x' }),
  whoami: await byName['rs/whoami']({ query: 'x' }),
};
await host.close();
process.stdout.write(JSON.stringify(report) + '\n');
process.exit(0);
