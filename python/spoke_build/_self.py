"""The PEP 517 / 660 backend that builds spoke_build itself.

spoke_build is plain Python, so its own wheel is a zip of its modules and
a dist-info: this module writes it with the standard library alone, as
flit_core builds itself.  python/pyproject.toml names it, with
backend-path = ["."], so that

    pip install --no-index --no-build-isolation ./python

works in any virtual environment, with or without setuptools and wheel
(a fresh `python3 -m venv` has neither), offline.

The project's name, version and summary come from the [project] table of
python/pyproject.toml; the table is kept to `key = "string"` lines, which
are read here without tomllib (Python 3.8 to 3.10 have none).
"""

import base64
import hashlib
import io
import os
import tarfile
import time
import zipfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)  # python/: pyproject.toml and spoke_build/
_PACKAGE = os.path.basename(_HERE)
_KEYS = ("name", "version", "description", "requires-python", "license")


def _project():
    """The string values of [project] in pyproject.toml."""
    out, table = {}, None
    with open(os.path.join(_ROOT, "pyproject.toml"), encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("["):
                table = line.strip("[]").strip()
                continue
            if table != "project" or "=" not in line or line.startswith("#"):
                continue
            key, value = (x.strip() for x in line.split("=", 1))
            if key in _KEYS and len(value) >= 2 and value[0] == value[-1] \
                    and value[0] in "\"'":
                out[key] = value[1:-1]
    for key in ("name", "version"):
        if key not in out:
            raise RuntimeError("python/pyproject.toml: [project] %s must be "
                               "a plain string" % key)
    return out


def _dist_name(name):
    """The name as file names spell it (PEP 427, PEP 503)."""
    return "".join(c if c.isalnum() else "_" for c in name).lower()


def _metadata(p):
    lines = ["Metadata-Version: 2.4", "Name: " + p["name"],
             "Version: " + p["version"]]
    if "description" in p:
        lines.append("Summary: " + p["description"])
    if "requires-python" in p:
        lines.append("Requires-Python: " + p["requires-python"])
    if "license" in p:
        lines.append("License-Expression: " + p["license"])
    return ("\n".join(lines) + "\n").encode()


def _modules():
    """(path in the wheel, bytes) of every module of the package."""
    out = []
    for name in sorted(os.listdir(_HERE)):
        if name.endswith(".py"):
            with open(os.path.join(_HERE, name), "rb") as f:
                out.append((_PACKAGE + "/" + name, f.read()))
    return out


def _epoch():
    """SOURCE_DATE_EPOCH, so the archives are reproducible; else
    1980-01-01, the earliest time a zip can hold."""
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    return max(int(sde), 315532800) if sde and sde.isdigit() else 315532800


def _write_wheel(directory, files):
    """Writes a py3-none-any wheel holding files and a dist-info;
    returns its file name."""
    p = _project()
    base = "%s-%s" % (_dist_name(p["name"]), p["version"])
    info = base + ".dist-info"
    files = list(files) + [
        (info + "/METADATA", _metadata(p)),
        (info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: spoke_build._self"
                          b"\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = io.StringIO()
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        record.write("%s,sha256=%s,%d\n"
                     % (name, digest.rstrip(b"=").decode(), len(data)))
    record.write(info + "/RECORD,,\n")
    files.append((info + "/RECORD", record.getvalue().encode()))
    whl = base + "-py3-none-any.whl"
    tmp = os.path.join(directory, "." + whl + ".tmp")
    stamp = time.gmtime(_epoch())[:6]
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    os.replace(tmp, os.path.join(directory, whl))
    return whl


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    return _write_wheel(wheel_directory, _modules())


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    """PEP 660: a .pth naming python/, so edits to the backend show at
    once."""
    pth = (_dist_name(_project()["name"]) + ".pth",
           (_ROOT + "\n").encode())
    return _write_wheel(wheel_directory, [pth])


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    p = _project()
    info = "%s-%s.dist-info" % (_dist_name(p["name"]), p["version"])
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "wb") as f:
        f.write(_metadata(p))
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (_dist_name(p["name"]), p["version"])
    members = [("pyproject.toml", os.path.join(_ROOT, "pyproject.toml"))]
    members += [(name, os.path.join(_ROOT, name)) for name, _ in _modules()]
    name = base + ".tar.gz"
    tmp = os.path.join(sdist_directory, "." + name + ".tmp")
    mtime = _epoch()
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as t:
        for arc, path in members:
            with open(path, "rb") as f:
                data = f.read()
            _add(t, base + "/" + arc, data, mtime)
        _add(t, base + "/PKG-INFO", _metadata(p), mtime)
    os.replace(tmp, os.path.join(sdist_directory, name))
    return name


def _add(t, name, data, mtime):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    ti.mtime = mtime
    t.addfile(ti, io.BytesIO(data))
