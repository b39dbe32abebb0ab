"""`wikismith chat`: a REPL over query, with slash commands, history, and sessions kept in the KB's database."""

from __future__ import annotations

import click

from wikismith.cli.common import console, open_kb, print_json
from wikismith.errors import WikismithError

COMMANDS = {
    "/help": "this list",
    "/sources": "the pages the last answer came from",
    "/save [NAME]": "keep the last answer as a page (wiki/explorations/)",
    "/add PATH": "add a file, folder or URL to the knowledge base",
    "/status": "what the knowledge base holds",
    "/clear": "start afresh (the model no longer sees what was said before)",
    "/exit": "leave (Ctrl-D too)",
}


@click.command()
@click.option("--resume", "resume", is_flag=False, flag_value=-1, default=None, type=int, metavar="[ID]",
              help="Go on with a session (the latest when no ID is given).")
@click.option("--list", "list_", is_flag=True, help="List the chat sessions.")
@click.option("--delete", "delete", type=int, metavar="ID", help="Delete a chat session.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@click.pass_context
def chat(ctx: click.Context, resume: int | None, list_: bool, delete: int | None, as_json: bool) -> None:
    """Ask questions in a row; each is answered like `wikismith query`, from a fresh snapshot of the KB.

    \b
    Slash commands: /help /sources /save [NAME] /add PATH /status /clear /exit.
    Ctrl-C cancels the answer in progress, not the session; Ctrl-D leaves.
    Sessions are kept in the KB's database (conversation state, not wiki pages).
    """
    kb = open_kb(ctx)
    out = console()
    if list_:
        report = kb.chat_sessions()
        if as_json:
            print_json(report.as_dict())
            return
        for s in report.sessions:
            out.print(f"{s['id']:>4}  {s['updated_at']}  {s['messages']} message(s)", markup=False)
        if not report.sessions:
            out.print("no chat session yet")
        return
    if delete is not None:
        if not kb.chat_delete(delete):
            raise click.ClickException(f"no chat session {delete}")
        out.print(f"deleted chat session {delete}")
        return
    if resume == -1:
        sessions = kb.chat_sessions().sessions
        resume = sessions[0]["id"] if sessions else None
    try:
        session = kb.chat(resume=resume)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    _repl(kb, session, out)


def _repl(kb, session, out) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import InMemoryHistory

    history = InMemoryHistory()
    for turn in session.turns:
        if turn["role"] == "user":
            history.append_string(turn["content"])
    prompt = PromptSession(history=history, completer=WordCompleter(
        [c.split()[0] for c in COMMANDS], sentence=True, match_middle=False))
    out.print(f"chat session {session.session}" + (" (model: offline)" if session.client is None else "") +
              " - /help for commands, Ctrl-D to leave", markup=False)
    while True:
        try:
            line = prompt.prompt("you> ").strip()
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line, as in a shell
        except EOFError:
            break
        if not line:
            continue
        if line.startswith("/"):
            if not _slash(kb, session, line, out):
                break
            continue
        try:
            _answer(session, line, out)
        except WikismithError as exc:  # a failed answer ends the answer, not the session
            out.print(f"wikismith: {exc}", markup=False)


def _answer(session, question: str, out) -> None:
    """Answer in a worker thread, so that Ctrl-C here drops the answer in progress (whatever the HTTP client does
    with the signal) and the session goes on; a dropped answer is not remembered."""
    import threading

    from rich.live import Live
    from rich.markdown import Markdown

    streamed: list[str] = []
    dropped = False
    live = Live(Markdown(""), console=out, refresh_per_second=12)

    def on_delta(piece: str) -> None:
        if dropped:
            return
        if not streamed:
            live.start()
        streamed.append(piece)
        live.update(Markdown("".join(streamed)))

    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["report"] = session.answer(question, on_delta if out.is_terminal else None)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    # A daemon thread: a dropped answer's request may still be waiting on the network; leaving must not wait for it.
    threading.Thread(target=work, daemon=True, name="chat-answer").start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        dropped = True
        if streamed:
            live.stop()
        out.print("\n(answer cancelled)", markup=False)
        return
    if "error" in outcome:
        if streamed:
            live.stop()
        raise outcome["error"]
    report = outcome["report"]
    if streamed:
        live.stop()
    session.remember(question, report)
    if not streamed:
        out.print(Markdown(report.answer) if out.is_terminal else report.answer, markup=False)


def _slash(kb, session, line: str, out) -> bool:
    """Run one slash command; False to leave."""
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name in ("/exit", "/quit"):
        return False
    if name == "/help":
        for command, what in COMMANDS.items():
            out.print(f"  {command:14} {what}", markup=False)
    elif name == "/sources":
        last = session.last
        if last is None or not last.sources:
            out.print("no sources yet", markup=False)
        for s in last.sources if last else []:
            out.print(f"  {s.cite()}" + (f" — {s.heading}" if s.heading else ""), markup=False)
    elif name == "/save":
        if session.last is None:
            out.print("nothing to save yet: ask a question first", markup=False)
        else:
            out.print(f"saved as {kb.save_answer(session.last, rest or None)}", markup=False)
    elif name == "/add":
        if not rest:
            out.print("usage: /add PATH", markup=False)
        else:
            report = kb.add([rest])
            for o in report.outcomes:
                out.print(f"{o.status}: {o.path}" + (f": {o.detail}" if o.detail else ""), markup=False)
    elif name == "/status":
        info = kb.status().as_dict()
        out.print(f"{info['documents']} document(s), {info['pages_total']} page(s)", markup=False)
    elif name == "/clear":
        session.clear()
        out.print("(the conversation starts afresh)", markup=False)
    else:
        out.print(f"unknown command {name}; /help lists them", markup=False)
    return True
