"""The KB's settings: read them, and change one through a transaction (the config file is part of the KB's state)."""

from __future__ import annotations

from dataclasses import dataclass

from wikismith import clock, config
from wikismith.store import layout
from wikismith.store.mutation import Mutation
from wikismith.wiki import scaffold


@dataclass
class SettingsReport:
    values: dict[str, object]  # the settings asked for, by name
    unset: list[str]  # optional settings asked for by name that have no value
    changed: str | None = None  # the setting a `set` changed

    def as_dict(self) -> dict:
        return {"values": dict(sorted(self.values.items())), "unset": self.unset, "changed": self.changed}


def get(store, key: str | None = None) -> SettingsReport:
    values = config.load(store.root)
    if key is None:
        return SettingsReport(values, [])
    config.check_key(key)
    if key in values:
        return SettingsReport({key: values[key]}, [])
    return SettingsReport({}, [key])


def set_(store, key: str, text: str) -> SettingsReport:
    typed = config.coerce(key, text)

    def build(view) -> Mutation:
        values = config.parse(view.config_text())
        values[key] = typed
        mutation = Mutation(label=f"config {key}")
        mutation.writes[layout.CONFIG] = config.render(values).encode("utf-8")
        mutation.appends["wiki/log.md"] = scaffold.log_line(clock.now_iso(), "config", f"{key} = {typed}").encode()
        return mutation

    store.change(build)
    return SettingsReport({key: typed}, [], changed=key)
