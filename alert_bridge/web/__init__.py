"""The HTTP side: app factory, control API, auth, errors, OpenAPI, status, reports and dashboard."""
