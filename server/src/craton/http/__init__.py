"""HTTP layer: Starlette routes, request validation, response shaping, auth middleware."""
