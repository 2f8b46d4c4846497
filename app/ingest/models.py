from pydantic import BaseModel, ConfigDict, Field

_COUNTS = {"actor": 0, "source": 0, "incident": 0, "exercise": 0, "channel": 0, "channel_status": 0}


class ImportResult(BaseModel):
    """What an import did (or, in a dry run, would do), per record type."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": {**_COUNTS, "incident": 3, "channel_status": 1},
                    "updated": {**_COUNTS, "actor": 1},
                    "unchanged": {**_COUNTS, "actor": 2},
                    "dry_run": False,
                }
            ]
        }
    )

    created: dict[str, int] = Field(description="Records created, by type (every type, 0 included).")
    updated: dict[str, int] = Field(description="Existing records that differed and were written over, by type.")
    unchanged: dict[str, int] = Field(description="Existing records that already matched, by type.")
    dry_run: bool
