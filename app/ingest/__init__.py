"""Bulk writes: upserts of mixed records keyed by slug, url or external_ref."""
