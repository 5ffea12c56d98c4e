"""spoke_build: a PEP 517 / PEP 660 build backend that runs spoke.

A project says, in pyproject.toml:

    [build-system]
    requires = []
    build-backend = "spoke_build"

and pip or python -m build call the hooks below in the project folder (the
one with Cargo.toml).  The spoke binary is $SPOKE, else "spoke" on PATH.
Wheels are tagged for the Python that runs the hook (sys.executable).
"""

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

__all__ = [
    "build_wheel",
    "build_sdist",
    "build_editable",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
]


class SpokeError(RuntimeError):
    pass


def _spoke():
    exe = os.environ.get("SPOKE") or shutil.which("spoke")
    if not exe:
        raise SpokeError("the spoke program was not found: set SPOKE or put "
                         "spoke on PATH")
    return exe


def _manifest():
    """The project's Cargo.toml: a frontend runs the backend in the folder
    of pyproject.toml, and spoke_build wants the crate beside it."""
    manifest = os.path.abspath("Cargo.toml")
    if not os.path.isfile(manifest):
        raise SpokeError("no Cargo.toml in %s: a project whose build-backend "
                         "is spoke_build keeps its crate's Cargo.toml beside "
                         "pyproject.toml" % os.getcwd())
    return manifest


def _run(args):
    """Runs spoke with --json and returns its result object.  Its events
    and messages go to stderr, where frontends show build output."""
    cmd = [_spoke()] + args + ["--json"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, cwd=os.getcwd())
    result = None
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            sys.stderr.write(line + "\n")
            continue
        if obj.get("type") == "result":
            result = obj
        elif obj.get("event") == "wheel" and obj.get("path"):
            sys.stderr.write("spoke: wrote %s\n" % obj["path"])
    if proc.returncode != 0 or not result or not result.get("ok"):
        msg = (result or {}).get("error") or "exit %d" % proc.returncode
        raise SpokeError("%s failed: %s" % (" ".join(cmd), msg))
    return result


def _inside(folder, path, suffix, what):
    """The real path of the file spoke says it wrote, once it is sure to be
    a regular file of ours directly in folder, the one spoke was asked to
    write to.  What spoke's --json says is not taken on faith: an answer
    from something else than spoke's own coordinator could name any file,
    which build_editable would copy into pip's folder and pip install."""
    if not isinstance(path, str) or not path:
        raise SpokeError("spoke's answer names no %s file: %r" % (what, path))
    want = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.dirname(real) != want or not real.endswith(suffix):
        raise SpokeError("refusing the %s %r that spoke's answer names: it "
                         "is not a %s file in %s, the folder spoke was "
                         "asked to write to" % (what, path, suffix, want))
    try:
        st = os.lstat(real)
    except OSError as e:
        raise SpokeError("refusing the %s %r that spoke's answer names: %s"
                         % (what, path, e.strerror))
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        raise SpokeError("refusing the %s %r that spoke's answer names: it "
                         "is not a regular file owned by uid %d (this user)"
                         % (what, path, os.geteuid()))
    return real


def _member(root, name):
    """Where wheel entry name goes under root, refusing a name that would
    land outside it (absolute, or with a '..' component)."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts:
        raise SpokeError("refusing the wheel entry %r: it would be written "
                         "outside %s" % (name, root))
    return os.path.join(root, *parts)


def _build(wheel_directory):
    """Builds this project's wheel into wheel_directory; returns its path."""
    out = os.path.abspath(wheel_directory)
    manifest = _manifest()
    try:
        res = _run(["build", "-q", "--manifest-path", manifest, "-i",
                    sys.executable, "-o", out])
    finally:
        # A frontend builds once, often in a folder it then deletes: the
        # coordinator the build started is not left waiting for more.
        subprocess.run([_spoke(), "stop", "--manifest-path", manifest],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wheels = res.get("wheels")
    if not isinstance(wheels, list) or \
            not all(isinstance(w, dict) for w in wheels):
        raise SpokeError("spoke's answer has no list of wheels: %r" % wheels)
    if len(wheels) != 1:
        raise SpokeError("spoke built %d wheels, a PEP 517 build needs "
                         "exactly one: %s"
                         % (len(wheels), [w.get("path") for w in wheels]))
    return _inside(out, wheels[0].get("path"), ".whl", "wheel")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    return os.path.basename(_build(wheel_directory))


def build_sdist(sdist_directory, config_settings=None):
    out = os.path.abspath(sdist_directory)
    res = _run(["sdist", "--manifest-path", _manifest(),
                "-i", sys.executable, "-o", out])
    return os.path.basename(_inside(out, res.get("sdist"), ".tar.gz",
                                    "sdist"))


def _dist_info(names):
    dirs = {n.split("/", 1)[0] for n in names
            if n.split("/", 1)[0].endswith(".dist-info")}
    if len(dirs) != 1:
        raise SpokeError("the wheel has %d .dist-info folders" % len(dirs))
    return dirs.pop()


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """Builds the wheel (cargo's next run is then a no-op) and extracts its
    .dist-info, RECORD excepted: PEP 517 lets the backend omit it."""
    with tempfile.TemporaryDirectory() as tmp:
        whl = _build(tmp)
        with zipfile.ZipFile(whl) as z:
            info = _dist_info(z.namelist())
            for name in z.namelist():
                if name.startswith(info + "/") and \
                        name != info + "/RECORD":
                    z.extract(name, metadata_directory)
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def _python_root(top):
    """The folder holding the top-level package top, as spoke finds it:
    [package.metadata.spoke] python-source, else the project folder."""
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib
    with open("Cargo.toml", "rb") as f:
        cargo = tomllib.load(f)
    spoke = cargo.get("package", {}).get("metadata", {}).get("spoke", {})
    root = os.path.abspath(spoke.get("python-source", "."))
    if os.path.isfile(os.path.join(root, top, "__init__.py")) or \
            "python-source" in spoke:
        return root
    return None


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return [name, "sha256=" + digest.rstrip(b"=").decode(), str(len(data))]


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    """PEP 660.  A mixed package's extension (and any libraries a repair
    bundled) is copied into its Python source tree, and the wheel holds
    the dist-info and a .pth file naming that tree, so edits to the Python
    code show at once; Rust changes need another install.  A package with
    no Python source gets its normal wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        whl = _build(tmp)
        with zipfile.ZipFile(whl) as z:
            names = z.namelist()
            info = _dist_info(names)
            payload = [n for n in names if not n.startswith(info + "/")]
            tops = {n.split("/", 1)[0] for n in payload
                    if "/" in n and not n.split("/", 1)[0].endswith(".libs")}
            root = _python_root(sorted(tops)[0]) if len(tops) == 1 else None
            dest = os.path.join(os.path.abspath(wheel_directory),
                                os.path.basename(whl))
            if root is None:
                shutil.copyfile(whl, dest)
                return os.path.basename(whl)
            for n in payload:
                target = _member(root, n)
                native = n.endswith(".so") or ".libs/" in n
                if n.endswith("/") or (not native and
                                       os.path.exists(target)):
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target + ".tmp", "wb") as f:
                    f.write(z.read(n))
                os.chmod(target + ".tmp", 0o755)
                os.replace(target + ".tmp", target)
            files = [(n, z.read(n)) for n in names
                     if n.startswith(info + "/") and n != info + "/RECORD"]
        pth = info[:-len(".dist-info")].split("-")[0] + ".pth"
        files.insert(0, (pth, (root + "\n").encode()))
        record = io.StringIO()
        w = csv.writer(record, lineterminator="\n")
        with zipfile.ZipFile(dest + ".tmp", "w",
                             zipfile.ZIP_DEFLATED) as out:
            for n, data in files:
                out.writestr(n, data)
                w.writerow(_record_line(n, data))
            w.writerow([info + "/RECORD", "", ""])
            out.writestr(info + "/RECORD", record.getvalue())
        os.replace(dest + ".tmp", dest)
        return os.path.basename(dest)
