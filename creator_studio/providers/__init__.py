"""Providers hide all I/O behind an interface with a real and a sandbox implementation."""
