"""Shared helpers for tests that run real processes on 127.0.0.1."""
