"""The HTTP layer: FastAPI dependencies (`deps`) and the routers (`routes`)."""
