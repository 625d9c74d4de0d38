"""`tsforge keys`: long-lived API keys of your tenant, for service accounts and scripts."""

from __future__ import annotations

from datetime import timedelta

import click
from google.protobuf import json_format
from rich.table import Table

from tsforge.cli.client import Client, client_options, stderr


def _key_name(text: str) -> str:
    """apiKeys/ID from ID, apiKeys/ID or a key's prefix (tsf_ID_)."""
    if text.startswith("tsf_"):
        text = text[4:].partition("_")[0]
    return text if text.startswith("apiKeys/") else f"apiKeys/{text}"


def _time(stamp, present: bool) -> str:
    return stamp.ToJsonString() if present else "-"


@click.group()
def keys() -> None:
    """API keys of your tenant: create, list and revoke.

    A key (tsf_...) works wherever a token does, by every service, until it expires or
    is revoked: set it as TSFORGE_TOKEN, or send 'authorization: Bearer tsf_...'.
    tsforge keeps only its hash, so it is shown once, when created.
    """


@keys.command("create")
@click.argument("name")
@click.option(
    "--expires-in", type=click.IntRange(1, 36_500), metavar="DAYS", help="Days until it expires (default: never)."
)
@client_options
def create(client: Client, name: str, expires_in: int | None) -> None:
    """Create a key called NAME and print it, this once (needs a token, not a key)."""
    key, text = client.api.create_api_key(name, timedelta(days=expires_in) if expires_in else None)
    if client.json_output:
        client.emit_json({"apiKey": json_format.MessageToDict(key), "key": text})
        return
    expires = key.expire_time.ToJsonString() if key.HasField("expire_time") else "never"
    click.echo(text)  # alone on stdout: KEY=$(tsforge keys create NAME)
    stderr.print(f"{key.name} ({key.display_name}), expires {expires}: store it now, it is not shown again")


@keys.command("list")
@client_options
def list_keys(client: Client) -> None:
    """List your keys, newest first, revoked ones included (never their secrets)."""
    found = list(client.api.api_keys())
    if client.json_output:
        client.emit_json({"apiKeys": [json_format.MessageToDict(k) for k in found]})
        return
    table = Table("name", "display name", "prefix", "created", "last used", "expires", "revoked")
    for k in found:
        table.add_row(
            k.name,
            k.display_name,
            k.prefix,
            k.create_time.ToJsonString(),
            _time(k.last_use_time, k.HasField("last_use_time")),
            _time(k.expire_time, k.HasField("expire_time")),
            _time(k.revoke_time, k.revoked),
        )
    client.people.print(table if found else "no API keys")


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@client_options
def revoke(client: Client, key_id: str) -> None:
    """Revoke key ID (apiKeys/ID, ID or its tsf_ID_ prefix); revoking twice is harmless."""
    key = client.api.revoke_api_key(_key_name(key_id))
    if client.json_output:
        client.emit_json({"apiKey": json_format.MessageToDict(key)})
        return
    client.people.print(f"revoked {key.name} ({key.display_name}) at {key.revoke_time.ToJsonString()}")
