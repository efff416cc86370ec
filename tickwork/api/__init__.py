"""The HTTP interface: a FastAPI app over one node's services (routes parse, call, render)."""
