"""An MCP server built with the official Python SDK (PyPI `mcp`), for genkit-mcp's
client tests. `server.py stdio` serves over stdin/stdout; `server.py http PORT TOKEN`
serves Streamable HTTP at http://127.0.0.1:PORT/mcp, answering 401 to requests
without `Authorization: Bearer TOKEN`."""

import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer(name="py-fixture", version="0.1.0")


@server.tool(description="Search the web for a query.")
def web_search(query: str) -> str:
    return f"Python results for: {query}"


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> dict:
    return {"sum": a + b}


@server.tool(description="Always fails.")
def broken(reason: str) -> str:
    raise ToolError(f"broken on purpose: {reason}")


@server.tool(description="Registers the tool 'late' and says the tool list changed.")
async def add_late_tool(ctx: Context) -> str:
    def late(word: str) -> str:
        """Added after the start."""
        return f"late {word}"

    server.add_tool(late, name="late", description="Added after the start.")
    await ctx.session.send_tool_list_changed()
    return "added"


@server.tool(description="Ends this server process.")
def crash() -> str:
    os._exit(3)


@server.tool(description="The process id of this server.")
def pid() -> int:
    return os.getpid()


@server.resource("fixture://greeting", name="greeting", description="A greeting.", mime_type="text/plain")
def greeting() -> str:
    return "Hello from Python"


@server.prompt(description="Ask for a summary.")
def summarize(topic: str) -> str:
    return f"Summarize {topic} in one line."


def main() -> None:
    if sys.argv[1] == "stdio":
        server.run("stdio")
        return
    import uvicorn
    from starlette.responses import JSONResponse

    port, token = int(sys.argv[2]), sys.argv[3]
    app = server.streamable_http_app()

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    uvicorn.run(guarded, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
