"""The MCP door: the gateway's own tools over the Model Context Protocol.

`server` builds the official SDK's `MCPServer` with the tools `chat`, `embed`,
`list_models`, `get_health` and `explain_route` (`tools`), whose input and
output schemas are the pydantic models of `shapes`; `http` serves it as
Streamable HTTP at `/mcp` (stateless, JSON answers: any worker can answer any
request), and `manage.py mcp_stdio` serves it over stdio. Every tool call goes
through the one call path (auth, limits, routing, call record) with
`door="mcp"`.
"""
