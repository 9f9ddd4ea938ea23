"""Marshmallow schemas: API input/output. The OpenAPI document is generated from them."""
