"""Schemathesis hooks for .ci/schemathesis: ``POST /v1/import`` also takes NDJSON, which the
spec documents as text (one JSON record a line); send it as such."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
