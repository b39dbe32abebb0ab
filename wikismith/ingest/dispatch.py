"""`convert()`: one source file → a ConvertedDocument, within the size, text and time limits.

Markdown, RST and text are read in this process: reading them is bounded by the file size. Every other kind is
converted in a forked child process that is killed (SIGKILL, with its process group) when the time limit passes;
the result comes back pickled through a pipe. The child also arms `alarm()` as a backstop, so it dies by itself
should this process be killed first.
"""

from __future__ import annotations

import math
import os
import signal
import stat

from wikismith.ingest import html, office, pdf, text
from wikismith.ingest.document import ConversionError, ConvertedDocument, Limits
from wikismith.ingest.sniff import KIND_BY_SUFFIX, sniff
from wikismith.ingest.structure import add_structure

IN_PROCESS_KINDS = frozenset({"markdown", "rst", "text"})

# kind -> converter(path, kind, limits). Tests replace entries to simulate hanging or crashing converters.
CONVERTERS = {
    "pdf": lambda path, kind, limits: pdf.convert_pdf(path, limits.max_text_chars),
    "html": lambda path, kind, limits: html.convert_html(path),
    **{kind: (lambda path, kind, limits: text.read_text(path, kind)) for kind in IN_PROCESS_KINDS},
    **{kind: (lambda path, kind, limits: office.convert_office(path, kind)) for kind in office.OFFICE_KINDS},
}

_FILE_TYPES = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO (named pipe)"),
    (stat.S_ISSOCK, "is a socket"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
)


def convert(path: str, limits: Limits = Limits()) -> ConvertedDocument:
    """Convert the file at `path`. Raises ConversionError, whose message names the file and the reason."""
    path = os.fspath(path)
    info = _stat(path)
    if info.st_size > limits.max_file_bytes:
        raise ConversionError(
            path, f"is {_size(info.st_size)}, over the limit of {_size(limits.max_file_bytes)} (max_file_mb)")
    if info.st_size == 0:
        raise ConversionError(path, "is empty")
    try:
        kind = sniff(path)
    except OSError as exc:
        raise ConversionError(path, f"cannot be read ({exc.strerror or exc})") from None
    if kind == "unknown":
        suffix = os.path.splitext(path)[1]
        raise ConversionError(path, f"unsupported file type{f' ({suffix})' if suffix else ''}")
    if kind in IN_PROCESS_KINDS:
        doc = _convert_here(path, kind, limits)
    else:
        _preload(kind)
        doc = _convert_in_child(path, kind, limits)
    named = KIND_BY_SUFFIX.get(os.path.splitext(path)[1].lower())
    if named and named != kind:
        doc.warnings.append(f"content is {kind} although the name says {named}")
    return doc


def _preload(kind: str) -> None:
    """Import the converter's libraries here, once, so that each forked child starts warm."""
    if kind in office.OFFICE_KINDS:
        office.preload()
    elif kind == "pdf":
        import pypdfium2  # noqa: F401
    elif kind == "html":
        import trafilatura  # noqa: F401


def _stat(path: str) -> os.stat_result:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConversionError(path, "does not exist") from None
    except OSError as exc:
        raise ConversionError(path, f"cannot be read ({exc.strerror or exc})") from None
    for test, reason in _FILE_TYPES:
        if test(info.st_mode):
            raise ConversionError(path, f"{reason}, not a regular file; refused without reading it")
    if not stat.S_ISREG(info.st_mode):
        raise ConversionError(path, "is not a regular file; refused without reading it")
    return info


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def _convert_here(path: str, kind: str, limits: Limits) -> ConvertedDocument:
    """Run the converter and the structure pass; every failure becomes a ConversionError."""
    try:
        doc = CONVERTERS[kind](path, kind, limits)
        doc.kind = kind
        if len(doc.markdown) > limits.max_text_chars:
            raise ConversionError(path, f"extracted text is {len(doc.markdown):,} characters, over the limit of "
                                        f"{limits.max_text_chars:,} characters (max_text_mb)")
        return add_structure(doc, limits)
    except ConversionError:
        raise
    except OSError as exc:
        raise ConversionError(path, f"cannot be read ({exc.strerror or exc})") from None
    except MemoryError:
        raise ConversionError(path, "ran out of memory while converting") from None
    except RecursionError:
        raise ConversionError(path, "structure nested too deeply to convert") from None
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise ConversionError(
            path, f"the {kind} converter failed ({type(exc).__name__}{': ' + detail if detail else ''})") from None


def _convert_in_child(path: str, kind: str, limits: Limits) -> ConvertedDocument:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(writer, path, kind, limits), daemon=True)
    process.start()
    writer.close()
    try:
        if not reader.poll(limits.timeout_s):
            raise ConversionError(path, f"conversion took longer than {limits.timeout_s:g} s and was stopped "
                                        f"(convert_timeout)")
        try:
            status, payload = reader.recv()
        except (EOFError, OSError):
            process.join(5)
            raise ConversionError(path, _death_reason(process.exitcode)) from None
    finally:
        _stop(process)
        reader.close()
    if status != "ok":
        raise ConversionError(path, payload)
    return payload


def _child_main(writer, path: str, kind: str, limits: Limits) -> None:
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(math.ceil(limits.timeout_s) + 5)
        os.setpgid(0, 0)
    except (OSError, ValueError):
        pass
    try:
        message = ("ok", _convert_here(path, kind, limits))
    except ConversionError as exc:
        message = ("error", exc.reason)
    try:
        writer.send(message)
    except Exception as exc:
        writer.send(("error", f"the result could not be passed back ({type(exc).__name__})"))
    writer.close()
    # Leave at once: multiprocessing's exit path flushes stdio, which could block on a lock that another thread of
    # the parent held at fork time.
    os._exit(0)


def _stop(process) -> None:
    if process.is_alive():
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            process.kill()
        except OSError:
            pass
    process.join(10)


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the converter crashed ({name})"
    return f"the converter ended without a result (exit code {exitcode})"
