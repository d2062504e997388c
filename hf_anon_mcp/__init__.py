"""hf-anon-mcp: scan and anonymize datasets for LLM fine-tuning, as a library, a CLI and an MCP server."""

__version__ = "0.1.0"
