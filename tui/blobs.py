"""Binary content (a resource's blob): decoding it, a file name to suggest, and writing it without surprises."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FALLBACK_NAME = "resource"


class BlobError(ValueError):
    """Base64 that does not decode; the message says what is wrong with it."""


def decode(data: str) -> bytes:
    """The bytes of a base64 blob (line breaks and spaces inside it allowed), or BlobError."""
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise BlobError(f"the blob is not valid base64: {error}") from None


def suggested_name(uri: str, mime: str | None) -> str:
    """A file name for saving: the URI's last path segment (made safe), with an extension from the MIME type
    when it has none; "resource" plus that extension when the URI names no file."""
    segment = unquote(PurePosixPath(urlsplit(uri).path).name)
    name = _UNSAFE.sub("-", segment).strip("-.") or FALLBACK_NAME
    if "." not in name:
        name += _extension(mime)
    return name


def write(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write `data` to `path`. FileExistsError when it exists and `overwrite` is False (so nothing is replaced
    without asking); any other OSError as the system reports it."""
    with path.open("wb" if overwrite else "xb") as file:
        file.write(data)


def describe_failure(path: Path, error: OSError) -> str:
    """Why `path` could not be written, in one line for the dialog."""
    if isinstance(error, PermissionError):
        reason = "permission denied"
    elif isinstance(error, IsADirectoryError):
        reason = "it is a directory"
    elif isinstance(error, FileNotFoundError):
        reason = f"the folder {path.parent} does not exist"
    elif isinstance(error, NotADirectoryError):
        reason = "a part of the path is not a folder"
    else:
        reason = error.strerror or str(error)
    return f"cannot write {path}: {reason}"


def _extension(mime: str | None) -> str:
    base = mime.split(";")[0].strip().lower() if mime else ""
    return (mimetypes.guess_extension(base) if base else None) or ".bin"
