"""LibreOffice, headless, for the tests that ask "does Excel (or Word) see the same thing":
one way to find it, to say it is missing (a skip, or a failure where PEIXUN_REQUIRE_BROWSER=1
as in CI) and to convert files with it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def office_missing(component: str = "calc") -> str | None:
    """Why LibreOffice cannot open the files ("calc" or "writer"), in Chinese; None if it can."""
    package = f"libreoffice-{component}"
    if SOFFICE is None:
        return f"用办公软件打开导出文件的测试需要 LibreOffice：apt-get install {package}"
    library = {"calc": "libsclo.*", "writer": "libswlo.*"}[component]
    if not any(Path(os.path.realpath(SOFFICE)).parent.glob(library)):
        return f"已安装 LibreOffice，但缺少所需组件：apt-get install {package}"
    return None


def require_office(component: str = "calc", *, module: bool = False) -> None:
    """Skip (the module, with `module`) where LibreOffice cannot open the files; fail
    instead where PEIXUN_REQUIRE_BROWSER=1."""
    missing = office_missing(component)
    if missing is None:
        return
    if os.environ.get("PEIXUN_REQUIRE_BROWSER") == "1":
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing, allow_module_level=module)


def convert(
    files: list[Path], out: Path, profile: Path, target: str, infilter: str | None = None
) -> None:
    """Convert the files to `target` ("xlsx", "txt:Text") in `out`, in a profile of their own
    (so that runs at the same time do not meet)."""
    assert SOFFICE is not None
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        target,
        "--outdir",
        str(out),
        *map(str, files),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(profile.parent)},
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")
