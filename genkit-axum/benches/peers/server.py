"""Genkit Python side of `cargo bench -p genkit-axum --bench serve_load`.

The `research` flow (a 2-turn tool loop with a `web_search` tool) served by
genkit-fastapi under uvicorn on 127.0.0.1, its model pointed at the local
Gemini-compatible server.

    python server.py --base-url URL --port N

Uses genkit==0.12.0, genkit-google-genai==0.12.0, genkit-fastapi==0.12.0 and uvicorn
in ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/bench-py. uvicorn logs
"Uvicorn running on ..." once it accepts requests.
"""

import argparse

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from genkit import Genkit
from genkit_fastapi import serve_flow
from genkit_google_genai import GoogleAI


class SearchInput(BaseModel):
    query: str


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--base-url', required=True)
    p.add_argument('--port', type=int, required=True)
    o = p.parse_args()

    ai = Genkit(
        plugins=[GoogleAI(api_key='bench-key', base_url=o.base_url)],
        model='googleai/gemini-2.0-flash',
    )

    # No return annotation: with one, Genkit Python declares the function's `response`
    # schema, a field the local server does not accept (the real API does).
    @ai.tool(name='web_search', description='Search the web for a query.')
    async def web_search(input: SearchInput):  # noqa: ANN202
        return f'Results for: {input.query}'

    @ai.flow(name='research')
    async def research(input: SearchInput) -> str:
        r = await ai.generate(prompt=f'Research: {input.query}', tools=['web_search'])
        return r.text

    app = FastAPI()
    app.include_router(serve_flow(research))
    uvicorn.run(app, host='127.0.0.1', port=o.port, log_level='warning', access_log=False)


if __name__ == '__main__':
    main()
