"""``@daily``-style macros and the 5/6/7-field layouts."""

from __future__ import annotations

from tickwork.cron.fields import CronSyntaxError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def split_fields(text: str) -> tuple[str, str, str, str, str, str, str | None]:
    """(second, minute, hour, day-of-month, month, day-of-week, year or None).

    5 fields have no seconds (they are 0); 6 put seconds first; 7 add a year last.
    """
    stripped = text.strip()
    if stripped.startswith("@"):
        expanded = MACROS.get(stripped.lower())
        if expanded is None:
            raise CronSyntaxError(
                "expression",
                repr(stripped),
                f"is not a supported macro (use one of {', '.join(MACROS)})",
            )
        stripped = expanded
    parts = stripped.split()
    if len(parts) == 5:
        return ("0", *parts, None)  # type: ignore[return-value]
    if len(parts) == 6:
        return (*parts, None)  # type: ignore[return-value]
    if len(parts) == 7:
        return tuple(parts)  # type: ignore[return-value]
    raise CronSyntaxError(
        "expression",
        repr(stripped),
        f"has {len(parts)} field{'' if len(parts) == 1 else 's'}; expected 5 "
        "(minute hour day-of-month month day-of-week), "
        "6 (seconds first) or 7 (seconds first, year last)",
    )
