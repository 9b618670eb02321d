"""Marshmallow schemas: they validate requests, shape responses and generate the OpenAPI."""
