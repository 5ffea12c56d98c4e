# spoke_wheel: a Python wheel made of one extension module (a shared
# library) by `spoke wheel`, spoke's hermetic action: one process, no
# coordinator, no interpreter, and the same inputs give the same bytes.
# README.md documents the rule and its attributes.

SpokeWheelInfo = provider(
    doc = "A wheel spoke_wheel wrote, and the names it was made of.",
    fields = {
        "wheel": "File: the .whl",
        "distribution": "the distribution name, as given",
        "version": "the version, as given",
        "module": "the module the wheel holds",
    },
)

# Bazel's --cpu values (TARGET_CPU) -> the machine part of a platform tag.
_ARCH_OF_CPU = {
    "k8": "x86_64",
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "piii": "i686",
    "i686": "i686",
    "armeabi-v7a": "armv7l",
    "armv7": "armv7l",
    "ppc": "ppc64le",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}

# The legacy names of the first manylinux tags (data/policy.json,
# "aliases"): spoke writes both in the wheel's name, as auditwheel does,
# so that installers older than PEP 600 take the wheel too.
_LEGACY_OF = {
    "manylinux_2_5": "manylinux1",
    "manylinux_2_12": "manylinux2010",
    "manylinux_2_17": "manylinux2014",
}
_CANONICAL_OF = {legacy: tag for tag, legacy in _LEGACY_OF.items()}

_COMPRESSIONS = ["store", "fast", "default", "best"]

def _normalize_distribution(name):
    """The distribution as wheel file names spell it (common/pyname.h,
    dist_normalize): each run of '-', '_', '.' becomes one '_', letters
    are lowercased."""
    out = []
    for i in range(len(name)):
        c = name[i]
        if c in "-_.":
            if i == 0 or name[i - 1] not in "-_.":
                out.append("_")
        else:
            out.append(c.lower())
    return "".join(out)

def _check_chars(what, value, allowed_extra):
    """Fails unless value is non-empty ASCII letters, digits and
    allowed_extra: the file name of the wheel is made of it, so nothing
    may reach the path that spoke would refuse later.  spoke checks the
    full grammar (PEP 508 names, PEP 440 versions) when it runs."""
    if not value:
        fail("%s must not be empty" % what)
    for i in range(len(value)):
        c = value[i]
        if not (c in allowed_extra or ("a" <= c.lower() and c.lower() <= "z") or ("0" <= c and c <= "9")):
            fail("%s '%s': character '%s' cannot be in a wheel name" % (what, value, c))

def spoke_wheel_filename(distribution, version, python_tag, abi_tag, compat, arch):
    """The wheel's file name, computed as spoke computes it
    (common/pyname.h, wheel_filename), so the output can be declared
    before the action runs."""
    _check_chars("distribution", distribution, "-_.")
    _check_chars("version", version, "-_.+!")
    _check_chars("python_tag", python_tag, "_.")
    _check_chars("abi_tag", abi_tag, "_.")
    _check_chars("arch", arch, "_")
    compat = _CANONICAL_OF.get(compat, compat)
    if compat != "linux" and not (compat.startswith("manylinux_") or compat.startswith("musllinux_")):
        fail("compat '%s': give linux (no repair), manylinux_X_Y, musllinux_X_Y " % compat +
             "or a legacy name (manylinux2014), without the arch")
    _check_chars("compat", compat, "_")
    platform = "%s_%s" % (compat, arch)
    if compat in _LEGACY_OF:
        platform += ".%s_%s" % (_LEGACY_OF[compat], arch)
    return "%s-%s-%s-%s-%s.whl" % (
        _normalize_distribution(distribution),
        version.replace("-", "_"),
        python_tag,
        abi_tag,
        platform,
    )

def _arch(ctx):
    if ctx.attr.arch:
        return ctx.attr.arch
    cpu = ctx.var.get("TARGET_CPU", "")
    if cpu not in _ARCH_OF_CPU:
        fail("cannot tell the wheel's machine from --cpu '%s': set arch (x86_64, aarch64, ...)" % cpu)
    return _ARCH_OF_CPU[cpu]

def _spoke_wheel_impl(ctx):
    if ctx.attr.compression not in _COMPRESSIONS:
        fail("compression '%s': one of %s" % (ctx.attr.compression, ", ".join(_COMPRESSIONS)))
    wheel = ctx.actions.declare_file(spoke_wheel_filename(
        ctx.attr.distribution,
        ctx.attr.version,
        ctx.attr.python_tag,
        ctx.attr.abi_tag,
        ctx.attr.compat,
        _arch(ctx),
    ))
    so = ctx.file.so

    args = ctx.actions.args()
    args.add("wheel")
    args.add("--compat", ctx.attr.compat)
    args.add("--module-file", so)
    args.add("--distribution", ctx.attr.distribution)
    args.add("--version", ctx.attr.version)
    args.add("--module", ctx.attr.module)
    args.add("--python-tag", ctx.attr.python_tag)
    args.add("--abi-tag", ctx.attr.abi_tag)
    args.add("--ext-suffix", ctx.attr.ext_suffix)
    args.add("--compression", ctx.attr.compression)
    if ctx.file.metadata:
        args.add("--metadata", ctx.file.metadata)

    # spoke searches libraries only in these folders and through the
    # object's $ORIGIN: each folder holds exactly the declared files in
    # the sandbox, so nothing undeclared can end up in the wheel.
    lib_dirs = []
    for f in ctx.files.libs:
        if f.dirname not in lib_dirs:
            lib_dirs.append(f.dirname)
    for d in lib_dirs:
        args.add("--lib-path", d)
    for pattern in ctx.attr.exclude:
        args.add("--exclude", pattern)
    # spoke names the wheel itself in --out-dir: were its name not the
    # one declared here (an arch attribute that is not the object's),
    # Bazel fails the action for a missing output.  (--wheel-out would do
    # as well: spoke refuses a file name that is not the tags' own.)
    args.add("--out-dir", wheel.dirname)
    args.add("--quiet")

    # The shared library's runfiles hold the libraries it links through
    # $ORIGIN (Bazel's _solib_<cpu> folders), which repair reads.
    so_runfiles = ctx.attr.so[DefaultInfo].default_runfiles
    inputs = depset(
        [so] + ctx.files.libs + ctx.files.metadata_files +
        ([ctx.file.metadata] if ctx.file.metadata else []),
        transitive = [so_runfiles.files] if so_runfiles else [],
    )

    env = {}
    if ctx.attr.source_date_epoch >= 0:
        env["SOURCE_DATE_EPOCH"] = str(ctx.attr.source_date_epoch)

    ctx.actions.run(
        executable = ctx.executable.spoke,
        arguments = [args],
        inputs = inputs,
        outputs = [wheel],
        env = env,
        mnemonic = "SpokeWheel",
        progress_message = "Packaging %s" % wheel.short_path,
    )
    return [
        DefaultInfo(files = depset([wheel])),
        SpokeWheelInfo(
            wheel = wheel,
            distribution = ctx.attr.distribution,
            version = ctx.attr.version,
            module = ctx.attr.module,
        ),
    ]

spoke_wheel = rule(
    implementation = _spoke_wheel_impl,
    doc = "A wheel of one Python extension module, written by `spoke wheel`.",
    attrs = {
        "so": attr.label(
            mandatory = True,
            allow_single_file = True,
            doc = "The extension module: a shared library exporting PyInit_<module>.",
        ),
        "distribution": attr.string(mandatory = True, doc = "Distribution name (PEP 508)."),
        "version": attr.string(mandatory = True, doc = "PEP 440 version."),
        "module": attr.string(mandatory = True, doc = "Python module name, dotted allowed."),
        "python_tag": attr.string(mandatory = True, doc = "Wheel python tag, e.g. cp311."),
        "abi_tag": attr.string(mandatory = True, doc = "Wheel ABI tag, e.g. cp311 or abi3."),
        "ext_suffix": attr.string(
            mandatory = True,
            doc = "The module file's suffix, e.g. .cpython-311-x86_64-linux-gnu.so.",
        ),
        "compat": attr.string(
            mandatory = True,
            doc = "Declared platform: linux (no repair), manylinux_X_Y or musllinux_X_Y.",
        ),
        "arch": attr.string(
            doc = "Machine part of the platform tag; default: from --cpu.",
        ),
        "metadata": attr.label(
            allow_single_file = [".json"],
            doc = "Core metadata as JSON (summary, requires_dist, ...).",
        ),
        "metadata_files": attr.label_list(
            allow_files = True,
            doc = "Files the metadata names (license_files), as inputs.",
        ),
        "libs": attr.label_list(
            allow_files = True,
            doc = "Shared libraries repair may graft; their folders are the only search path.",
        ),
        "exclude": attr.string_list(
            doc = "Sonames (glob patterns) never bundled: left to the target system.",
        ),
        "compression": attr.string(default = "default", doc = "store, fast, default or best."),
        "source_date_epoch": attr.int(
            default = -1,
            doc = "Time of every zip entry; -1: spoke's fixed time (1980-01-01).",
        ),
        "spoke": attr.label(
            default = "@spoke//:spoke",
            executable = True,
            cfg = "exec",
            allow_single_file = True,
            doc = "The spoke binary, built for the machine that runs the action.",
        ),
    },
)
