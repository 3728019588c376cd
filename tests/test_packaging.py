"""The package works as users get it: an installed wheel, run outside the source tree; a light CLI start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "sklearn", "lifelines", "scipy", "matplotlib")


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from underwriting.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    marker = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY:")]
    assert marker == ["HEAVY:"], f"--help imported heavy libraries: {marker}"


@pytest.mark.slow
def test_wheel_installs_and_quotes_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheel = next(dist.glob("underwriting-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())  # the workbench's files that are not Python
    assert {"underwriting/service/static/terms_editor.js", "underwriting/service/templates/_terms.html",
            "underwriting/locale/ja/LC_MESSAGES/underwriting.po"} <= names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # pip --python below installs into it (no ensurepip run)
    py = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    # Dependencies come from this test environment (no network needed); the package itself only
    # from the wheel. A .pth line adds the directory without running its own .pth files, so the
    # editable install of the checkout stays invisible to the fresh environment.
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                           "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([str(py), "-c", "import underwriting, sys; print(underwriting.__file__)"],
                           cwd=outside, capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert str(env_dir) in where and str(ROOT) not in where

    script = env_dir / "bin" / "underwriting"
    proc = subprocess.run([str(script), "demo", "--json"], cwd=outside, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    q = json.loads(proc.stdout)
    assert q["exchange"].startswith("Sakura") and q["premium"] > 0 and q["reserve"]["requirement"] > 0
    # the Japanese catalogue ships as its .po source and is compiled on first use, from the wheel too
    ja = subprocess.run([str(py), "-c", "from underwriting.i18n import use_lang, _\n"
                         "with use_lang('ja'):\n    print(_('premium'), _('Reserve'))"],
                        cwd=outside, capture_output=True, text=True, env=env, timeout=300)
    assert ja.returncode == 0 and ja.stdout.split() == ["保険料", "責任準備金"], ja.stderr
