"""spoke_build: a PEP 517 / PEP 660 build backend that runs spoke.

A project says, in pyproject.toml:

    [build-system]
    requires = []
    build-backend = "spoke_build"

and pip or python -m build call the hooks below in the project folder (the
one with pyproject.toml).  The crate is found as `spoke build` finds it:
[tool.maturin] manifest-path, else Cargo.toml beside pyproject.toml, else
rust/Cargo.toml (maturin's src layout).  The spoke binary is $SPOKE, else
"spoke" on PATH.

Wheels are built for the Python that runs the hook, named to spoke by its
base interpreter (sys._base_executable): pip runs each build in a new
temporary environment, and a PYO3_PYTHON that changed with it would make
cargo rebuild pyo3 every time.  The base interpreter has the same tags.

Extra `spoke build` arguments come from the PEP 517 config setting
"build-args" (also "spoke.build-args"; a string split as a shell would,
or a list), else from $SPOKE_PEP517_ARGS, else $MATURIN_PEP517_ARGS, as
maturin reads its own:

    pip install . --config-settings=build-args="--features simd"
    SPOKE_PEP517_ARGS="--locked --strip" python -m build
"""

import base64
import csv
import hashlib
import io
import json
import os
import shlex
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


def _toml(path):
    """The TOML file at path as a dict; {} when this Python cannot read
    TOML (3.8 to 3.10 without tomli), so that spoke's own reading, which
    uses the target interpreter, decides."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


def _maturin_table():
    if not os.path.isfile("pyproject.toml"):
        return {}
    return _toml("pyproject.toml").get("tool", {}).get("maturin", {}) or {}


def _manifest():
    """The Cargo.toml of the crate this pyproject.toml configures, found
    as spoke build finds it, or None: then spoke runs in this folder and
    says what it found (or that it found no crate)."""
    given = _maturin_table().get("manifest-path")
    if isinstance(given, str) and given:
        return os.path.abspath(given)
    for cand in ("Cargo.toml", os.path.join("rust", "Cargo.toml")):
        if os.path.isfile(cand):
            return os.path.abspath(cand)
    return None


def _manifest_args():
    m = _manifest()
    return ["--manifest-path", m] if m else []


def _build_args(config_settings):
    """The extra `spoke build` arguments (see the module's docstring)."""
    args = None
    if config_settings:
        args = config_settings.get("spoke.build-args",
                                   config_settings.get("build-args"))
    if args is None:
        env = os.environ.get("SPOKE_PEP517_ARGS")
        if env is None:
            env = os.environ.get("MATURIN_PEP517_ARGS", "")
        return shlex.split(env)
    if isinstance(args, str):
        return shlex.split(args)
    return [str(a) for a in args]


def _has_interpreter(args):
    return any(a in ("-i", "--interpreter") or a.startswith("--interpreter=")
               or (a.startswith("-i") and not a.startswith("--"))
               for a in args)


def _interpreter():
    """The base interpreter of the Python running the hook (see the
    module's docstring), else that Python itself."""
    base = getattr(sys, "_base_executable", None)
    if base and os.path.exists(base):
        return os.path.realpath(base)
    return sys.executable


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


def _build(wheel_directory, config_settings=None, editable=False):
    """Builds this project's wheel into wheel_directory; returns its path.
    The user's build-args come first, so that spoke's own -o and --json
    (which this backend needs) win.  An editable build takes
    [tool.maturin] editable-profile (spoke build --editable)."""
    out = os.path.abspath(wheel_directory)
    manifest = _manifest_args()
    user = _build_args(config_settings)
    args = ["build", "-q"] + (["--editable"] if editable else []) + user
    if not manifest or "-m" in user or "--manifest-path" in user:
        manifest = []
    if not _has_interpreter(user):
        args += ["-i", _interpreter()]
    try:
        res = _run(args + manifest + ["-o", out])
    finally:
        # A frontend builds once, often in a folder it then deletes: the
        # coordinator the build started is not left waiting for more.
        subprocess.run([_spoke(), "stop"] + _manifest_args(),
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
    return os.path.basename(_build(wheel_directory, config_settings))


def build_sdist(sdist_directory, config_settings=None):
    out = os.path.abspath(sdist_directory)
    res = _run(["sdist"] + _manifest_args() +
               ["-i", _interpreter(), "-o", out])
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
        whl = _build(tmp, config_settings)
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
    [tool.maturin] python-source, else [package.metadata.spoke]
    python-source, else src/ in maturin's src layout, else the project
    folder; None when top is not there."""
    given = _maturin_table().get("python-source")
    if not given:
        manifest = _manifest()
        cargo = _toml(manifest) if manifest else {}
        given = cargo.get("package", {}).get("metadata", {}) \
            .get("spoke", {}).get("python-source")
        if given:
            given = os.path.join(os.path.dirname(manifest), given)
    if given:
        return os.path.abspath(given)
    manifest = _manifest()
    cands = ["."]
    if manifest and os.path.basename(os.path.dirname(manifest)) == "rust":
        cands.insert(0, "src")
    for root in cands:
        if os.path.isfile(os.path.join(root, top, "__init__.py")):
            return os.path.abspath(root)
    return None


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return [name, "sha256=" + digest.rstrip(b"=").decode(), str(len(data))]


def _write_into(real_root, target, data, mode):
    """Writes data to target, a file of the source tree real_root, as a
    new file under a name nobody could have planted (mkstemp: O_EXCL), then
    renamed over target: a link left at a fixed temporary name, or a
    folder on the way that leads out of the tree, never makes this write
    somewhere else."""
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    real = os.path.realpath(parent)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise SpokeError("refusing to write %r: its folder leads to %r, "
                         "outside the source tree %r"
                         % (target, real, real_root))
    fd, tmp = tempfile.mkstemp(dir=real, prefix=".spoke-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, os.path.join(real, os.path.basename(target)))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    """PEP 660.  A mixed package's extension (and any libraries a repair
    bundled) is copied into its Python source tree, and the wheel holds
    the dist-info and a .pth file naming that tree, so edits to the Python
    code show at once; Rust changes need another install.  A package with
    no Python source gets its normal wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        whl = _build(tmp, config_settings, editable=True)
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
            real_root = os.path.realpath(root)
            for n in payload:
                target = _member(root, n)
                native = n.endswith(".so") or ".libs/" in n
                if n.endswith("/") or (not native and
                                       os.path.exists(target)):
                    continue
                _write_into(real_root, target, z.read(n),
                            0o755 if native else 0o644)
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
