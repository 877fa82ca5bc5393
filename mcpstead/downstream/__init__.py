"""Downstream side: the HTTP surface clients and operators talk to."""
