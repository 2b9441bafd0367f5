"""The arguments that make an otherwise approvable program run other code or write a file it
names (`CODE_RUNNING_ARGUMENTS`), for code_running.py: git `-c`, `find -exec`, `tar
--to-command`, a compiler's plugins, the options that write (`curl -o`, `dd of=`), an
archiver's modes besides listing, and the options never_approved.py's `RISKY_OPTIONS` lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .never_approved import RISKY_OPTIONS


@dataclass(frozen=True)
class CodeRunningArguments:
    """Arguments that make an otherwise approved program run code the user did not see.

    Options match in every form the program accepts: `--opt`, `--opt=value`
    and abbreviations (`--upload-p`); a one-letter `-x` anywhere in a cluster
    (`-avze`); a longer single-dash option (`-exec`, `-TT`) as a prefix; a
    `+` entry as a prefix (`less +!cmd`).
    """

    options: tuple[str, ...] = ()  # risky anywhere after the program
    subcommands: frozenset[str] = frozenset()  # `git rebase`; `name-...` helpers too
    subcommand_options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # With subcommands: the only options allowed before one (others may take a
    # value, which would hide the real subcommand).
    global_flags: frozenset[str] = frozenset()
    bundled_first_argument: bool = False  # tar's old `tar xIf prog archive`
    # Options match as prefixes only (a compiler's -B/dir): no bundled single-letter flags,
    # so -DDEBUG is not a -B.
    prefixes_only: bool = False
    # Operands (arguments not starting with "-") past this many name a file the program
    # writes: `uniq IN OUT` writes OUT (a Makefile, a conftest.py). None: no such limit.
    read_operands: int | None = None
    # Options whose value is the next argument (`uniq -f 2`): not operands when counting them.
    value_options: tuple[str, ...] = ()
    # Covered only with one of these (unzip -l lists; without it, it extracts whatever paths
    # the archive holds): an approval of the listing must not cover the extraction.
    only_with: tuple[str, ...] = ()
    # The program's own safe long options that a risky one begins with: given in full they
    # are not an abbreviation of it (tar's --list is not --listed-incremental).
    exact: tuple[str, ...] = ()
    # Covered only when its first word that is no switch is one of these (7z's and unrar's
    # command: `l` lists, `x` extracts).
    command_words: frozenset[str] | None = None
    # What the program does without `only_with` (for the card: "ln without -s makes hard links").
    without_only: str = "writes files"
    # It builds the names of the files it writes from a prefix: one whose name starts with a
    # dot can end as a repository folder (`split -a 1 lines sub/.gi` writes sub/.git).
    builds_names: bool = False

    @property
    def has_subcommands(self) -> bool:
        return bool(self.subcommands or self.subcommand_options)


_SEVEN_ZIP = CodeRunningArguments(command_words=frozenset({"l"}))

CODE_RUNNING_ARGUMENTS: dict[str, CodeRunningArguments] = {
    "git": CodeRunningArguments(
        # --output (log, show, diff, format-patch) writes the output to the file it names: a
        # --format of the attacker's text into conftest.py.
        options=("--upload-pack", "--receive-pack", "--exec", "--template", "--open-files-in-pager", "--output"),
        subcommands=frozenset(
            {
                "config",
                "difftool",
                "mergetool",
                "filter-branch",
                "bisect",
                "submodule",
                "rebase",
                "credential",
                "daemon",
                "instaweb",
                "send-email",
                "hook",
                "maintenance",
                "for-each-repo",
                "shell",
                "upload-pack",
                "receive-pack",
                "http-backend",
                "remote-ext",
                "web--browse",
                # apply and am write whatever files the patch names (conftest.py, and with
                # --unsafe-paths --directory outside the workspace): asked every time
                "apply",
                "am",
                # a push to a repository named by path (`git push ./vendor/mirror.git`, or a
                # bare name git takes for a path when no remote has it) runs that repository's
                # hooks, which a tool can write: asked every time (attacker review)
                "push",
                "send-pack",
                # makes a repository (with --separate-git-dir, anywhere a tool chose)
                "init",
            }
        ),
        # clone -c/--config sets the new repository's config before it fetches (core.sshCommand,
        # protocol.ext.allow=always for an `ext::` command).
        subcommand_options={
            "clone": ("-u", "-c", "--config"),
            "grep": ("-O",),
            # -o writes the archive to the file it names; --remote=./x.git runs git
            # upload-archive in a repository a tool made, which runs its tar.NAME.command
            "archive": ("-o", "--output", "--remote", "--exec"),
            "format-patch": ("-o", "--output-directory"),
        },
        # No -c, -C, -p, --git-dir, --exec-path...: config, pager or a planted repo run code.
        global_flags=frozenset(
            {
                "--no-pager",
                "--no-replace-objects",
                "--literal-pathspecs",
                "--glob-pathspecs",
                "--noglob-pathspecs",
                "--icase-pathspecs",
                "--no-optional-locks",
                "--no-advice",
                "--no-lazy-fetch",
                "-P",
                "--version",
                "-v",
                "--help",
                "-h",
            }
        ),
    ),
    "find": CodeRunningArguments(
        options=("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"),
    ),
    "tar": CodeRunningArguments(
        options=(
            "--to-command",
            "--use-compress-program",
            "-I",
            "--checkpoint-action",
            "-F",
            "--info-script",
            "--new-volume-script",
            "--rsh-command",
            "--rmt-command",
            # extraction writes whatever paths the archive holds: `tar -tf` must not cover it
            "-x",
            "--extract",
            "--get",
            # a listing that writes: member names (the archive's author's text) into a file
            # (conftest.py), a snapshot or volume number file
            "--index-file",
            "-g",
            "--listed-incremental",
            "--volno-file",
            # the modes that write, and deleting: matched as letters anywhere in a cluster, so
            # `-cfout.tar` (whose "t" is in the file name) is not taken for a listing
            "-c",
            "--create",
            "-r",
            "--append",
            "-u",
            "--update",
            "-A",
            "--catenate",
            "--concatenate",
            "--delete",
            "--remove-files",
        ),
        bundled_first_argument=True,
        # only the listing: -c/-r/-u write the archive (any file), --remove-files deletes
        only_with=("-t", "--list"),
        exact=("--list",),
    ),
    # --suffix names the backups it makes (`-b --suffix=t` on sub/.gi makes sub/.git); --link-dest
    # hard-links files, which stay writable by their other name once one is kept read-only
    "rsync": CodeRunningArguments(options=("-e", "--rsh", "--rsync-path", "--daemon", "--suffix", "--link-dest")),
    "scp": CodeRunningArguments(options=("-S", "-o", "-F", "-J", "-D")),
    "zip": CodeRunningArguments(options=("-T", "-TT", "--unzip-command")),
    "man": CodeRunningArguments(options=("-P", "--pager", "-H", "--html", "-C", "--config-file")),
    # less -o/--log-file copies what it shows (piped text) into the file it names.
    "less": CodeRunningArguments(
        options=(
            "+",
            "-k",
            "--lesskey-file",
            "--lesskey-src",
            "--lesskey-content",
            "-o",
            "-O",
            "--log-file",
            "--LOG-FILE",
        )
    ),
    "more": CodeRunningArguments(options=("+",)),
    # sort -o writes the file it names (a Makefile, a conftest.py) with whatever it sorted.
    "sort": CodeRunningArguments(options=("--compress-program", "-o", "--output")),
    "shuf": CodeRunningArguments(options=("-o", "--output")),
    "unzip": CodeRunningArguments(only_with=("-l", "-t", "-v", "-Z", "-p", "-c")),
    # Other archivers: an approval of the listing must not cover the extraction, which writes
    # whatever names the archive holds (`ar t` then `ar x` wrote a conftest.py: sandbox review).
    # The key or command comes first, bundled as tar's (`ar tv`, `7z l`, `jar tf`).
    "ar": CodeRunningArguments(
        options=("-x", "-r", "-q", "-d", "-m", "-s", "--output", "--plugin", "-plugin", "@"),
        bundled_first_argument=True,
        only_with=("-t", "-p"),
    ),
    "cpio": CodeRunningArguments(
        options=("-p", "--pass-through", "-o", "--create", "--rsh-command"),
        only_with=("-t", "--list"),
        value_options=("-F", "-H", "-E", "-I", "-O", "-M", "-R", "-C", "-D", "--file", "--format", "--directory"),
    ),
    "jar": CodeRunningArguments(
        # -J passes options to the JVM: -J-javaagent:agent.jar runs the agent's code
        options=("-x", "--extract", "-c", "--create", "-u", "--update", "-i", "--generate-index", "-J"),
        bundled_first_argument=True,
        only_with=("-t", "--list"),
    ),
    "unrar": CodeRunningArguments(command_words=frozenset({"l", "lt", "lta", "lb", "v", "vt", "vta", "vb"})),
    # lz4 IN OUT writes OUT, as uniq does
    "lz4": CodeRunningArguments(read_operands=1),
    "pax": CodeRunningArguments(options=("-r", "-w")),  # without them pax lists
    # gzip -N restores the name stored in the archive (the archive's author's choice) on -d;
    # zstd and brotli -o write the file they name, as sort -o does.
    # -S picks the suffix they add or take away: `gzip -S tx sub/.gi`, then `gzip -dS x sub/.gitx`
    # made sub/.git without the name being typed (attacker review of 2026-12-08).
    "gzip": CodeRunningArguments(options=("-N", "--name", "-S", "--suffix")),
    "gunzip": CodeRunningArguments(options=("-N", "--name", "-S", "--suffix")),
    "zstd": CodeRunningArguments(options=("-o", "--output-dir-flat", "--output-dir-mirror")),
    "brotli": CodeRunningArguments(options=("-o", "--output", "-S", "--suffix")),
    "iconv": CodeRunningArguments(options=("-o", "--output")),
    "tree": CodeRunningArguments(options=("-o",)),
    "dd": CodeRunningArguments(options=("of=",)),
    # curl file:///... works offline: -o writes any file, -K reads options (output = ...) from one.
    "curl": CodeRunningArguments(
        options=(
            "-o",
            "--output",
            "-O",
            "--remote-name",
            "--remote-name-all",
            "--output-dir",
            "--create-dirs",
            "-D",
            "--dump-header",
            "-c",
            "--cookie-jar",
            "--trace",
            "--trace-ascii",
            "--libcurl",
            "--stderr",
            "-K",
            "--config",
            "--etag-save",
            "--hsts",
            "--alt-svc",
            "-T",
            "--upload-file",
            "--engine",
            # curl 8.3+: -w '%output{conftest.py}...' writes any text to a file; 8.12+ saves TLS sessions
            "-w",
            "--write-out",
            "--ssl-sessions",
            # a Unix socket is a host daemon's door even with the network off: Docker's is root
            # (attacker review of 2026-12-08), and a proxy can name one (socks5h://localhost/path)
            "--unix-socket",
            "--abstract-unix-socket",
            "-x",
            "--proxy",
            "--preproxy",
            "--socks4",
            "--socks4a",
            "--socks5",
            "--socks5-hostname",
            # curl 8.3+: --expand-<option> is that option with {{variables}} expanded
            "--expand-",
        )  # fmt: skip
    ),
    "gpg": CodeRunningArguments(
        options=("--photo-viewer", "--exec-path", "-o", "--output", "--agent-program", "--dirmngr-program")
        + ("--options", "--homedir", "--load-extension", "--keyserver-options")
    ),
    "uniq": CodeRunningArguments(
        read_operands=1, value_options=("-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars")
    ),
    # xxd IN OUT writes OUT.
    "xxd": CodeRunningArguments(read_operands=1, value_options=("-c", "-g", "-l", "-o", "-s", "-n", "-cols", "-len")),
    "sdiff": CodeRunningArguments(options=("--diff-program", "-o", "--output")),
    "diff3": CodeRunningArguments(options=("--diff-program",)),
    "wget": CodeRunningArguments(
        options=("-e", "--execute", "--use-askpass", "--config", "-O", "--output-document", "-o", "--output-file")
        + ("-a", "--append-output", "-P", "--directory-prefix")
    ),
    # patch -o writes the file it names; plain patch writes what the patch names (a --dry-run
    # approval must not cover it): patch is in NEVER_APPROVED.
    # `printf -v NAME` and `wait -p NAME` assign a variable: PROMPT_COMMAND, PS1 or PATH set
    # this way run code at the next prompt or command.
    "printf": CodeRunningArguments(options=("-v",)),
    "wait": CodeRunningArguments(options=("-p",)),
    "conda": CodeRunningArguments(subcommands=frozenset({"run"})),
    # split --filter runs each piece through a shell command; install -s strips with any program.
    "split": CodeRunningArguments(options=("--filter",), builds_names=True),
    "csplit": CodeRunningArguments(builds_names=True),
    "install": CodeRunningArguments(options=("--strip-program", "-S", "--suffix")),
    # a hard link stays writable by its other name after thau keeps the first read-only (a made
    # repository's config: attacker review of 2026-12-08); -S names the backup (sub/.gi + t)
    "ln": CodeRunningArguments(
        options=("-S", "--suffix"), only_with=("-s", "--symbolic"), without_only="makes hard links"
    ),
    # `jobs -x CMD` runs CMD (in this shell: a builtin it names can change it).
    "jobs": CodeRunningArguments(options=("-x",)),
    # `test -v 'a[PATH=0]'`: bash evaluates the subscript as arithmetic, which can assign.
    "test": CodeRunningArguments(options=("-v", "-R")),
    "[": CodeRunningArguments(options=("-v", "-R")),
    # history -w/-a write its lines (any text -s added) to a file; -r/-n read one in.
    "history": CodeRunningArguments(options=("-w", "-a", "-r", "-n", "-s")),
    "openssl": CodeRunningArguments(
        # OpenSSL 3 takes each with two dashes too (--provider-path . --provider evil loads ./evil.so)
        options=tuple(
            dash + name
            for name in ("engine", "provider", "provider-path", "config", "out", "keyout", "certout", "writerand")
            + ("sess_out", "keylogfile", "CAcreateserial", "CAserial")
            for dash in ("-", "--")
        )
    ),
    # yq -i rewrites the file it reads with what the expression makes (Python in conf.py, a
    # hook in .pre-commit-config.yaml); go-yq -s writes a file per document.
    "yq": CodeRunningArguments(options=("-i", "--in-place", "--inplace", "-s", "--split-exp")),
    # ripgrep's --pre runs a program on every file it searches; -z runs decompressors from PATH.
    # ripgrep 14's --hostname-bin runs a program to name the host in hyperlinks.
    "rg": CodeRunningArguments(options=("--pre", "--pre-glob", "-z", "--search-zip", "--hostname-bin")),
    **dict.fromkeys(("fd", "fdfind"), CodeRunningArguments(options=("-x", "-X", "--exec", "--exec-batch"))),
}
# libarchive's tar, cpio and unzip read their own programs' options (sandbox review).
CODE_RUNNING_ARGUMENTS.update({f"bsd{name}": CODE_RUNNING_ARGUMENTS[name] for name in ("tar", "cpio", "unzip")})
CODE_RUNNING_ARGUMENTS.update(dict.fromkeys(("7z", "7za", "7zr", "7zz"), _SEVEN_ZIP))
# Compilers run what -wrapper names, load -fplugin libraries, take their subprograms (as, ld,
# cc1) from -B folders and spec files from -specs, and read more options from @files, which
# the card would not show. -Wl, and -Xlinker pass options on to ld (-plugin); -Xclang passes
# them to the compiler proper (-load); -fpass-plugin loads an LLVM pass.
_COMPILER = CodeRunningArguments(
    options=(
        "-wrapper",
        "-fplugin",
        "-fpass-plugin",
        "-B",
        "@",
        "-specs",
        "--specs",
        "-iplugindir",
        "-fuse-ld",
        "--ld-path",
        "-Wl,",
        "-Xlinker",
        "-Xclang",
        "-Xassembler",
        "-Wa,",
        "-Xpreprocessor",
        "-Wp,",
        "--config",  # clang reads more options (-fplugin...) from the file it names
        "--prefix",  # gcc's long -B
        "--for-linker",  # gcc's long -Xlinker
    ),
    prefixes_only=True,
)
CODE_RUNNING_ARGUMENTS.update(
    dict.fromkeys(("gcc", "g++", "cc", "c++", "c89", "c99", "cpp", "gfortran", "gccgo", "clang", "clang++"), _COMPILER)
)
CODE_RUNNING_ARGUMENTS.update(dict.fromkeys(("c89-gcc", "c99-gcc"), _COMPILER))  # diff review: c99-gcc -wrapper
# binutils load a BFD or linker plugin (a shared library it runs) and read more options from
# an @file the card does not show (attacker review: `nm --plugin ./p.so a.o`). getopt_long
# takes abbreviations: --pl is --plugin.
_BINUTILS = CodeRunningArguments(options=("--plugin", "-plugin", "@"))
CODE_RUNNING_ARGUMENTS.update(
    dict.fromkeys(
        ("ld", "ranlib", "nm", "objdump", "objcopy", "strip", "readelf", "size", "strings", "addr2line", "as"),
        _BINUTILS,
    )
)


CODE_RUNNING_ARGUMENTS.update({name: CodeRunningArguments(options=risky) for name, risky in RISKY_OPTIONS.items()})
