"""The official MCP Python SDK's client against genkit-mcp's server, for its tests.

`client.py REPORT stdio` speaks MCP over its own stdin/stdout (the test serves on the
other ends of those pipes); `client.py REPORT http URL TOKEN` connects to a Streamable
HTTP endpoint with `Authorization: Bearer TOKEN`. Either way it lists the tools, calls
some, and writes what it saw to the file REPORT as JSON."""

import json
import os
import sys

import anyio
import httpx2
from mcp import ClientSession


def block(result):
    return {
        "isError": bool(result.is_error),
        "text": "".join(c.text for c in result.content if c.type == "text"),
        "structured": result.structured_content,
    }


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        tools = (await session.list_tools()).tools
        report = {
            "server": init.server_info.name,
            "protocol": init.protocol_version,
            "hasTools": init.capabilities.tools is not None,
            "tools": {t.name: {"description": t.description, "inputSchema": t.input_schema} for t in tools},
            "search": block(await session.call_tool("web_search", {"query": "from python"})),
            "shout": block(await session.call_tool("shout", {"input": "hi"})),
            "failing": block(await session.call_tool("failing_tool", {"query": "x"})),
            "badInput": block(await session.call_tool("web_search", {"q": 1})),
            "whoami": block(await session.call_tool("whoami", {"query": "x"})),
        }
        try:
            await session.call_tool("no_such_tool", {})
            report["unknown"] = "no error"
        except Exception as e:  # an MCP error answer
            report["unknown"] = str(e)
        return report


async def main():
    out = sys.argv[1]
    if sys.argv[2] == "stdio":
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            report = await exercise(read, write)
            with open(out, "w") as f:
                json.dump(report, f)
            # Leave now: the SDK's stdin reader thread would wait for stdin to close,
            # and the server (the test) waits for our stdout to close.
            os._exit(0)
    else:
        from mcp.client.streamable_http import streamable_http_client

        url, token = sys.argv[3], sys.argv[4]
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                read, write = streams[0], streams[1]
                report = await exercise(read, write)
    with open(out, "w") as f:
        json.dump(report, f)


anyio.run(main)
