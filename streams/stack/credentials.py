"""The secure stack's credentials: made once, kept in ``<data_dir>/credentials.json`` (mode 0600).

``Settings`` loads the file (:func:`streams.settings.load_stack_credentials`); this module decides,
at ``stack up``, whether a data dir is secure and writes the file the first time. Secrets are never
printed or logged: messages name the file, never its content.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from streams.settings import StackCredentials, credentials_path, load_stack_credentials
from streams.stack.process import StackError

KafkaStorage = Literal["fresh", "plain", "secure"]  # not formatted yet / formatted without / with SCRAM users


def generate() -> StackCredentials:
    # token_urlsafe: no ",", "=", "]" or quotes, which StorageTool's --add-scram, the JAAS line and
    # Weaviate's comma-separated key list would each have to escape.
    return StackCredentials(kafka_password=SecretStr(secrets.token_urlsafe(32)),
                            controller_password=SecretStr(secrets.token_urlsafe(32)),
                            weaviate_api_key=SecretStr(secrets.token_urlsafe(32)))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by this user only; atomic, so no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def save(path: Path, creds: StackCredentials) -> None:
    plain = {name: value.get_secret_value() if isinstance(value, SecretStr) else value
             for name, value in creds}
    write_private(path, json.dumps(plain, indent=2) + "\n")


def resolve(data_dir: Path, want_secure: bool, kafka: KafkaStorage) -> StackCredentials | None:
    """The credentials ``stack up`` runs with: loaded, made now for a new secure stack, or None (not secure).

    Raises :class:`StackError` when the data dir and the request disagree in a way only a person can settle.
    """
    path = credentials_path(data_dir)
    creds = load_stack_credentials(data_dir)
    if creds is None and kafka == "secure":
        raise StackError(f"the Kafka storage in {data_dir / 'kafka'} belongs to a secure stack but {path} is "
                         "missing: restore that file, or run `headwater stack down --wipe` and "
                         "`headwater stack up --secure` (deletes the stack's data)")
    if kafka == "plain" and (want_secure or creds is not None):
        raise StackError(f"the stack in {data_dir} was first started without --secure, and Kafka's SCRAM users "
                         "are only written when its storage is formatted: run `headwater stack down --wipe` "
                         "(deletes the stack's data) or use another HEADWATER_STACK__DATA_DIR")
    if creds is None and want_secure:
        creds = generate()
        save(path, creds)
    return creds
