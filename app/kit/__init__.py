"""Mechanisms shared by every domain: problems, responses, pagination, records."""
