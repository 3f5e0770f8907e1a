"""One module per resource; each declares its wire details and reuses http.resources."""
