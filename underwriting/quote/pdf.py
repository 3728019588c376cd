"""The quote letter as a PDF: the same HTML printed by headless Chromium (A4, page numbers).

Why Chromium: it is the renderer the suite already drives (``.ci/run`` installs Debian's
``chromium`` for the browser tests), it lays out the flexbox summary page and embedded PNGs exactly
as the HTML shows on screen, and since Chromium 131 it prints CSS ``@page`` margin boxes, so the page
numbers ("3 / 5") come from the document's own style sheet, with no header or footer of the
browser's. WeasyPrint would need Pango and its own system libraries for a second layout engine.
Japanese text is drawn with IPAexGothic from ``matplotlib-fontja``: Chromium is given a fontconfig
file that adds the package's font folder to the system's, so no system CJK font is needed. (A web
font in ``@font-face`` was tried first: Chromium printed some glyph runs before the font had
loaded, as empty boxes.)

``chromium`` must be on ``PATH`` (or named by ``UNDERWRITING_CHROMIUM``); without it writing a PDF
is refused with exit 2 and the reason, before the quote is computed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from underwriting.errors import InputError

__all__ = ["find_chromium", "require_chromium", "html_to_pdf", "font_dirs", "fontconfig_file", "PDF_TIMEOUT_S"]

#: Longest a print may take (seconds) before it is abandoned.
PDF_TIMEOUT_S = 120


def find_chromium() -> str | None:
    """Path of the Chromium executable (``$UNDERWRITING_CHROMIUM``, ``chromium``, ``chromium-browser``), or None."""
    env = os.environ.get("UNDERWRITING_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium(field: str = "--report") -> str:
    """The Chromium path, or an input error saying how to get one (checked before any work)."""
    exe = find_chromium()
    if exe is None:
        raise InputError("writing a PDF needs headless Chromium: install Debian's `chromium` (apt-get install "
                         "chromium) or set UNDERWRITING_CHROMIUM; or write the .html and print it", field=field)
    return exe


def font_dirs() -> list[Path]:
    """Folders of the fonts the letter names that are shipped by Python packages (IPAexGothic)."""
    try:
        from matplotlib_fontja import get_font_ttf_path
    except ImportError:  # pragma: no cover - a dependency of the package
        return []
    path = Path(get_font_ttf_path())
    return [path.parent] if path.exists() else []


def fontconfig_file(folder: Path) -> Path:
    """Write a fontconfig file in ``folder`` that adds :func:`font_dirs` to the system configuration."""
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs())
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f"{dirs}<cachedir>{folder / 'fontcache'}</cachedir></fontconfig>", encoding="utf-8")
    return conf


def html_to_pdf(html: str, *, chromium: str | None = None, timeout: float = PDF_TIMEOUT_S) -> bytes:
    """Print ``html`` to PDF bytes with headless Chromium (A4 from the page's ``@page`` rule, no browser header).

    Parameters
    ----------
    html : str
        A self-contained HTML document (the quote letter).
    chromium : str, optional
        Executable; default :func:`find_chromium`.
    timeout : float
        Seconds before the print is abandoned (an internal error: exit 1).

    Returns
    -------
    bytes
        The PDF file's bytes.
    """
    exe = chromium or require_chromium()
    with tempfile.TemporaryDirectory(prefix="underwriting-pdf-") as d:
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(Path(d)))}
        page, out = Path(d) / "letter.html", Path(d) / "letter.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--allow-file-access-from-files",
               f"--user-data-dir={Path(d) / 'profile'}", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
               f"--print-to-pdf={out}", page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, env=env)
        if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise RuntimeError(f"chromium could not print the PDF (exit {proc.returncode}): "
                               f"{proc.stderr.decode('utf-8', 'replace')[-500:]}")
        return out.read_bytes()
