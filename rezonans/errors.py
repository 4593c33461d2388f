"""The error hierarchy every package raises: a user error exits 2, a runtime or server error exits 1.

Only the faces (`cli/`, `web/`) turn these into a line or a page; library code raises them with a message
that says what went wrong and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class RezonansError(Exception):
    """Base of all errors Rezonans reports to a person; `exit_code` is what the CLI exits with."""

    exit_code = 1

    def display(self) -> str:
        """The text shown to a person (one line, or a short block such as a query with a caret)."""
        return str(self)


class UserError(RezonansError, ValueError):
    """Bad input from the user: arguments, a config, rules, brand or sources file, a query, a date (exit 2)."""

    exit_code = 2


class ServiceError(RezonansError, RuntimeError):
    """A server, the network or the machine failed us (Elasticsearch down, refused credentials, disk) (exit 1)."""

    exit_code = 1


def pydantic_problems(exc: ValidationError, limit: int | None = None) -> str:
    """One line listing a pydantic error's fields and messages: 'a.b: msg; c: msg'."""
    errors = exc.errors()[:limit] if limit else exc.errors()
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)


def read_text_file(path: str | Path, what: str) -> str:
    """Read a UTF-8 text file the user gave us; a missing, unreadable or binary file is a UserError."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} {p} does not exist: check the path") from None
    except IsADirectoryError:
        raise UserError(f"{what} {p} is a folder, not a file") from None
    except PermissionError:
        raise UserError(f"{what} {p} cannot be read (permission denied): check its permissions") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{what} {p} is not UTF-8 text (byte {exc.start}): save it as UTF-8 (is it a binary file?)"
        ) from None
