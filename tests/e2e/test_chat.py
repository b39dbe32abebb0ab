"""`wikismith chat` through a real pseudo-terminal: prompt_toolkit, slash commands, Ctrl-C, sessions."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import termios
import time

import pytest

from conftest import EPOCH
from fakes import wiki_responder
from fakes.openai_server import FakeOpenAI
from wikicheck import CORPUS, add, as_on_a_terminal, cli

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\r")


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty, so Ctrl-C sends it SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    as_on_a_terminal()


class Terminal:
    """A child process on a pseudo-terminal: send keys, wait for text."""

    def __init__(self, *argv, env=None):
        self.master, slave = pty.openpty()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
        full_env.update({"SOURCE_DATE_EPOCH": EPOCH, "TERM": "xterm", "COLUMNS": "100", "LINES": "40",
                         "PROMPT_TOOLKIT_NO_CPR": "1"}, **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "wikismith", *map(str, argv)], stdin=slave, stdout=slave,
                                     stderr=slave, env=full_env, preexec_fn=_controlling_terminal)
        os.close(slave)
        self.seen = ""

    def read_until(self, pattern: str, timeout: float = 30) -> str:
        """Everything shown until `pattern` (a regex over the text without escape codes, across lines)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = ANSI.sub("", self.seen)
            if re.search(pattern, text, re.S):
                self.seen = ""
                return text
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError(f"never saw {pattern!r}; saw:\n{ANSI.sub('', self.seen)[-2000:]}")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def line(self, text: str) -> None:
        self.send(text + "\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.close(self.master)


@pytest.fixture
def kb(tmp_kb, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copyfile(CORPUS / "book" / "ch04-01-what-is-ownership.md", docs / "ch04-01-what-is-ownership.md")
    assert add(tmp_kb, docs)[0] == 0
    return tmp_kb


def test_an_offline_chat_answers_runs_slash_commands_and_keeps_its_session(kb, tmp_path):
    extra = tmp_path / "extra.md"
    extra.write_text("# Compost\n\nCompost heaps turn kitchen scraps into soil. A compost heap needs air.\n")
    t = Terminal("--kb", kb, "chat")
    t.read_until(r"you>")
    t.line("What are the rules of ownership?")
    out = t.read_until(r"sources/ch04-01-what-is-ownership.*you>")
    assert "owner" in out.lower()
    t.send("/he")
    time.sleep(0.5)
    t.send("\t")  # completion of slash commands
    time.sleep(0.5)
    t.line("")
    t.read_until(r"/save \[NAME\].*you>")  # tab completed /help, which lists the commands
    t.line("/sources")
    t.read_until(r"\[\[sources/ch04-01-what-is-ownership.*you>")
    t.line("/save rules")
    t.read_until(r"saved as wiki/explorations/rules\.md.*you>")
    t.line(f"/add {extra}")
    t.read_until(r"added: .*extra\.md.*you>")
    t.line("/status")
    t.read_until(r"2 document\(s\).*you>")
    t.send("half a line\x03")  # Ctrl-C at the prompt clears the line, it does not end the session
    t.line("/clear")
    t.read_until(r"afresh.*you>")
    t.line("/exit")
    assert t.close() == 0
    assert (kb / "wiki/explorations/rules.md").exists()

    code, out, _ = cli("chat", "--list", "--json", kb=kb)
    (session,) = json.loads(out)["sessions"]
    assert session["messages"] == 2
    t = Terminal("--kb", kb, "chat", "--resume", session["id"])
    t.read_until(rf"chat session {session['id']}.*you>")
    t.line("How do references work?")
    t.read_until(r"\[\[.*you>")
    t.send("\x04")  # Ctrl-D leaves
    assert t.close() == 0
    assert json.loads(cli("chat", "--list", "--json", kb=kb)[1])["sessions"][0]["messages"] == 4
    assert cli("chat", "--delete", session["id"], kb=kb)[0] == 0
    assert json.loads(cli("chat", "--list", "--json", kb=kb)[1])["sessions"] == []
    code, _, err = cli("chat", "--resume", "999", kb=kb)
    assert code != 0 and "no chat session 999" in err


def test_ctrl_c_cancels_a_model_answer_in_progress_not_the_session(kb):
    with FakeOpenAI(default=wiki_responder.respond) as fake:
        for key, value in (("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url), ("max_retries", "0"),
                           ("timeout", "30")):
            assert cli("config", "set", key, value, kb=kb)[0] == 0
        fake.script("answer", [("hang", 20), "Each value has an owner [[sources/ch04-01-what-is-ownership]]."])
        t = Terminal("--kb", kb, "chat", env={"OPENAI_API_KEY": "sk-test-chat"})
        t.read_until(r"you>")
        t.line("What is ownership?")
        deadline = time.time() + 10
        while not fake.requests and time.time() < deadline:
            time.sleep(0.05)
        t.send("\x03")
        t.read_until(r"\(answer cancelled\).*you>")
        t.line("What is ownership, really?")
        t.read_until(r"Each value has an owner.*you>")
        second = fake.requests[-1]["messages"]
        assert not any(m.get("content") == "What is ownership?" for m in second), "a cancelled question is forgotten"
        t.line("/exit")
        assert t.close() == 0
