"""Issue 12: "allow for the session" must not approve more than the user saw.

Each attack names only a program the user already allowed (`ls`, `git`), yet
runs other code. The old shlex reading saw plain `ls` or `git` and
auto-approved them; bashlex now reads the command and every one of them asks.
The expansion attacks are also run through a real bash, once directly (they
create PWNED: this is why it matters) and once gated the way thau gates a
call (run only when the approval book says "auto": nothing is created).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from thau_tui.engine.approvable_programs import approvable_by_name
from thau_tui.engine.approvals import ApprovalBook, describe_session_scope, programs_of
from thau_tui.engine.events import Decision
from thau_tui.tools.base import ToolCall

SESSION = "s1"
PROMPT_EXPANSION = r"ls ${x:=\$\(touch PWNED\)} ${x@P}"
SUBSCRIPT_ARITHMETIC = r"ls ${y:=b[\$\(touch PWNED\)]} ${a[y]}"


def shell(command: str) -> ToolCall:
    return ToolCall("run_shell", {"command": command})


def book_allowing(*commands: str) -> ApprovalBook:
    """A real in-memory book where the user pressed `a` (allow for the session) on each command."""
    book = ApprovalBook(None)
    for command in commands:
        assert book.remember(shell(command), "exec", Decision("session"), SESSION), command
    return book


def run_in_bash(command: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(cwd)}
    subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, timeout=30)


def run_as_thau_would(book: ApprovalBook, command: str, cwd: Path) -> str:
    """Run `command` only if it would run without asking; return the decision."""
    verdict = book.decide(shell(command), "exec", SESSION)
    if verdict == "auto":
        run_in_bash(command, cwd)
    return verdict


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("attack", [PROMPT_EXPANSION, SUBSCRIPT_ARITHMETIC], ids=["prompt-expansion", "subscript"])
def test_expansion_that_runs_code_is_not_covered_by_allowing_ls(attack, dirs):
    ungated, gated = dirs
    run_in_bash(attack, ungated)
    assert (ungated / "PWNED").exists(), "bash runs the hidden `touch`: an approval of `ls` must not cover it"

    book = book_allowing("ls")
    assert run_as_thau_would(book, "ls -la", gated) == "auto"  # the approval itself still works
    assert run_as_thau_would(book, attack, gated) == "ask"
    assert not (gated / "PWNED").exists()
    assert programs_of(attack) is None
    assert "this call only" in describe_session_scope(shell(attack))


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_path_prefix_runs_a_planted_ls_and_now_asks(dirs):
    for folder in dirs:
        planted = folder / "ls"
        planted.write_text("#!/bin/sh\n: > PWNED\n")  # no `touch`: PATH is only "." in there
        planted.chmod(0o755)
    ungated, gated = dirs
    run_in_bash("PATH=. ls", ungated)
    assert (ungated / "PWNED").exists()
    assert run_as_thau_would(book_allowing("ls"), "PATH=. ls", gated) == "ask"
    assert not (gated / "PWNED").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_config_alias_runs_a_command_and_now_asks(dirs):
    attack = "git -c alias.pw='!touch PWNED' pw"
    ungated, gated = dirs
    run_in_bash(attack, ungated)
    assert (ungated / "PWNED").exists()
    book = book_allowing("git status")
    assert run_as_thau_would(book, attack, gated) == "ask"
    assert not (gated / "PWNED").exists()


@pytest.mark.parametrize("attack", ["LD_PRELOAD=./x.so ls", "PATH=. ls", "X=1 ls -la"])
def test_assignment_prefix_is_not_covered(attack):
    book = book_allowing("ls")
    assert book.decide(shell(attack), "exec", SESSION) == "ask"
    assert book.remember(shell(attack), "exec", Decision("session"), SESSION) == []


@pytest.mark.parametrize(
    "attack",
    [
        "GIT_PAGER='touch PWNED;cat' git -p version",
        "git -c alias.pw='!touch PWNED' pw",
        "git -p version",
        "git --paginate log",
        "git --config-env=alias.pw=X pw",
        "git --exec-path=. status",
        "git -C planted status",
        "git fetch --upload-pack='touch PWNED' origin",
        "git fetch --upload-p='touch PWNED' origin",  # git accepts abbreviated long options
        "git push --receive-pack=x origin",
        "git push ./vendor/mirror.git main",  # runs the hooks of a repository a tool wrote
        "git push mirror main",  # a bare name is a path when no remote has it
        "git send-pack ./vendor/mirror.git main",
        "git clone -u 'touch PWNED' repo copy",
        "git archive --remote=x --exec=y HEAD",
        "git grep -O'touch PWNED' x",
        "git config core.pager 'touch PWNED'",
        "git rebase -x 'touch PWNED' HEAD~1",
        "git submodule foreach 'touch PWNED'",
        "git bisect run ./x",
        "git difftool -y",
        "git filter-branch --tree-filter x",
    ],
)
def test_git_arguments_that_run_code_ask_even_with_git_allowed(attack):
    book = book_allowing("git status", "git log", "git fetch", "git archive", "git grep", "git clone")
    assert book.decide(shell("git log --oneline -5"), "exec", SESSION) == "auto"
    assert book.decide(shell(attack), "exec", SESSION) == "ask"


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("find . -name x", "find . -exec touch PWNED ;"),
        ("find . -name x", "find . -execdir touch PWNED ;"),
        ("find . -name x", "find . -ok touch PWNED ;"),
        ("find . -name x", "find . -delete"),
        ("find . -name x", "find . -fprint out"),
        ("tar -tf a.tar", "tar -xf a.tar --to-command='touch PWNED'"),
        ("tar -tf a.tar", "tar --use-compress-program='touch PWNED' -xf a.tar"),
        ("tar -tf a.tar", "tar -I 'touch PWNED' -xf a.tar"),
        ("tar -tf a.tar", "tar xIf 'touch PWNED' a.tar"),
        ("tar -tf a.tar", "tar --checkpoint=1 --checkpoint-action=exec='touch PWNED' -cf a.tar ."),
        ("tar -tf a.tar", "tar -F 'touch PWNED' -cf a.tar ."),
        ("rsync -a a b", "rsync -e 'sh -c touch' a host:b"),
        ("rsync -a a b", "rsync -avze 'sh -c touch' a host:b"),
        ("rsync -a a b", "rsync --rsync-path='touch PWNED' a host:b"),
        ("zip -r a.zip d", "zip a.zip d -T -TT 'touch PWNED'"),
        ("zip -r a.zip d", "zip a.zip d --unzip-command='touch PWNED'"),
        ("man ls", "man -P 'touch PWNED' ls"),
        ("man ls", "man --pager='touch PWNED' ls"),
        ("man ls", "man -H'touch PWNED' ls"),
        ("man ls", "man -C ./m.conf -l ./x.1"),  # a man-db config's DEFINE nroff lines are commands
        ("man ls", "man --config-file=./m.conf ls"),
        ("scp a host:b", "scp -D ./prog host:a b"),
        ("git status", "git clone -c core.sshCommand='touch PWNED' ssh://h/r d"),
        ("git status", "git clone --config protocol.ext.allow=always 'ext::sh -c touch% PWNED' d"),
        ("less README", "less '+!touch PWNED' README"),
        ("more README", "more '+!touch PWNED' README"),
        ("ls", "ls > notes.txt"),
        ("ls", "ls >> notes.txt"),
        ("ls", "ls >& notes.txt"),
        ("cat f", "cat < notes.txt"),
        ("cat f", "cat <<< hi"),
        ("ls", "ls *.py"),
        ("ls", "ls {a,b}"),
        ("git status", "git {-c,alias.pw=!touch\\ PWNED} pw"),  # brace expansion would rebuild `-c`
        # helper's attacker review, 2026-12-04: each ran with the session approval before
        ("split -l 1000 data.txt part_", "split -n 1 --filter='touch PWNED' data.txt"),
        ("gcc -c main.c", "gcc -wrapper '/bin/sh,-c,touch PWNED' -c main.c"),
        ("gcc -c main.c", "gcc @flags.txt -c main.c"),
        ("gcc -c main.c", "gcc -fplugin=./p.so -c main.c"),
        ("gcc -c main.c", "gcc -B./tools -c main.c"),
        ("clang-17 -c main.c", "clang-17 --specs=./x.specs -c main.c"),
        ("install -m 644 a b", "install -s --strip-program=/usr/bin/touch a PWNED"),
        ("ld -o a a.o", "ld -plugin ./p.so -o a a.o"),
        # second attacker review, 2026-12-04 evening: each ran with the session approval before
        ("jobs", "jobs -x bash -c 'touch PWNED'"),
        ("jobs -l", "jobs -lx bash -c 'touch PWNED'"),
        ("test -d src", "test -v 'DIRSTACK[PATH=0]'"),  # the subscript is arithmetic: it assigns PATH
        ("test -d src", "'[' -v 'DIRSTACK[PROMPT_COMMAND=0]' ']'"),
        ("test -d src", "test -R 'x[PATH=0]'"),
        ("gcc -c main.c", "gcc -Wl,-plugin,./ld.so -o a main.c"),
        ("gcc -c main.c", "gcc -Xlinker --plugin -Xlinker ./ld.so -o a main.c"),
        ("clang -c main.c", "clang -fpass-plugin=./x.so -c main.c"),
        ("clang -c main.c", "clang -Xclang -load -Xclang ./x.so -c main.c"),
        ("openssl version", "openssl rand -engine ./ossl.so 4"),
        ("openssl version", "openssl rand -provider-path . -provider x 4"),
        ("openssl version", "openssl req -config ./x.cnf -new"),
        ("rg TODO", "rg --pre=bash TODO"),
        ("rg TODO", "rg --pre-glob '*' --pre ./x TODO"),
        ("fd main", "fd -x touch PWNED"),
        ("fd main", "fd --exec-batch touch PWNED"),
        ("sort notes.txt", "sort -o Makefile notes.txt"),
        ("sort notes.txt", "sort --output=Makefile notes.txt"),
        ("history", "history -w Makefile"),
        ("uniq notes.txt", "uniq notes.txt Makefile"),
        ("uniq -c notes.txt", "uniq -c notes.txt conftest.py"),
        ("uniq notes.txt", "uniq - Makefile"),  # "-" is standard input: Makefile is written (emptied)
        ("uniq notes.txt", "uniq -- notes.txt -Makefile"),
        ("uniq notes.txt", "uniq -f 2 notes.txt Makefile"),
        ("uniq notes.txt", "uniq -cf2 notes.txt Makefile"),
        ("history", "history -s 'all:' '; touch PWNED'"),
        # review of 2026-12-05: each ran with the session approval before
        ("git log -1", "git log -1 '--format=format:import os' --output=conftest.py"),
        ("git diff", "git diff --output=Makefile"),
        ("git log", "git log --outp Makefile"),  # git takes an unambiguous abbreviation
        ("git archive HEAD", "git archive -o Makefile HEAD"),
        ("git archive HEAD", "git archive --output=Makefile HEAD"),
        ("shuf notes.txt", "shuf -e all: -o Makefile"),
        ("shuf notes.txt", "shuf --output=Makefile notes.txt"),
        ("sdiff a.txt b.txt", "sdiff -o Makefile a.txt b.txt"),
        ("xxd notes.bin", "xxd notes.bin Makefile"),
        ("xxd -c 8 notes.bin", "xxd -c 8 -s 4 notes.bin conftest.py"),
        # options stop at the first file where uniq does not permute (POSIXLY_CORRECT, BSD):
        # "-/../Makefile" is then an output file, and a cloned repository can hold a folder "-"
        ("uniq notes.txt", "uniq notes.txt -/../Makefile"),
        # second review of 2026-12-05: each wrote the file it names with the session approval
        ("curl https://example.com", "curl -o Makefile file:///tmp/payload"),
        ("curl https://example.com", "curl --output conftest.py file:///tmp/payload"),
        ("curl https://example.com", "curl -K cfg https://example.com"),  # cfg: output = "Makefile"
        ("curl https://example.com", "curl -D Makefile https://example.com"),
        ("curl -s https://example.com", "curl -sc conftest.py https://example.com"),
        ("tree", "tree -o Makefile"),
        ("cat notes.txt | less", "cat payload | less -F -o Makefile"),
        ("less notes.txt", "less -F --log-file=Makefile -"),
        ("dd if=notes.txt", "dd if=payload of=Makefile"),
        ("iconv -f latin1 -t utf8 notes.txt", "iconv -f latin1 -t utf8 -o Makefile payload"),
        ("wget https://example.com/a.txt", "wget -O Makefile https://example.com/a.txt"),
        ("tar -tf a.tar", "tar -xf a.tar"),
        ("tar -tzf a.tgz", "tar xzf a.tgz"),
        ("unzip -l a.zip", "unzip a.zip"),  # extracts whatever paths the archive holds
        ("unzip -l a.zip", "unzip -o a.zip -d ."),
        ("unzip -l a.zip", "unzip a.zip conftest.py -l"),  # after the archive, -l is a member name
        ("gpg --list-keys", "gpg --photo-viewer 'touch PWNED' --list-options show-photos --list-keys"),
        # the approvals review of 2026-12-06: each was "auto" before
        ("git log", "git --bare log -p"),  # the current folder as a repository: its config's textconv
        ("git archive --format=zip HEAD", "git archive --remote=./evil.git --format=evil HEAD"),
        ("tar -tf a.tar", "tar -tf a.tar --index-file=conftest.py"),  # member names into conftest.py
        ("tar -tf a.tar", "tar -cf README.md x"),
        ("tar -tf a.tar", "tar cf README.md x"),
        ("tar -tf a.tar", "tar -cf /dev/null --remove-files victim"),
        ("tar -tf a.tar", "tar -tf a.tar -g snap"),
        ("openssl x509 -in c.pem -noout -text", "openssl base64 -d -in p.txt -out conftest.py"),
        ("yq .a f.yaml", "yq -i -y '\"import os\"' conf.py"),
        ("gpg --list-keys", "gpg --agent-program ./evil.sh --batch -c f"),
        ("curl file:///etc/hostname", "curl -w '%output{conftest.py}import os' file:///etc/hostname"),
        ("rg TODO", "rg --hostname-bin=./x --hyperlink-format=default TODO"),
        ("clang -c a.c", "clang --config=evil.cfg -c a.c"),
        # the read-through of those fixes: other spellings that got past them
        ("tar -tf x.tar", "tar -cfout.tar --remove-files src"),  # the "t" is in the file name
        ("openssl x509 -in c.pem -noout -text", "openssl rand --provider-path . --provider evil 8"),
        ("yq .a f.yaml", "yq --inplace '.a = 1' conf.yaml"),  # mikefarah's yq
        ("gcc -c m.c", "gcc --prefix=bx/ -c m.c"),  # gcc's long -B: runs bx/as
        # sixth review: bashlex kept the quotes of a word that starts with a double-quoted part
        ("find . -name x", "find . -maxdepth 0 \"-\"'exec' touch PWNED ';'"),
        ("git ls-remote .", "git ls-remote \"--\"'upload-pack=touch PWNED;git-upload-pack' ."),
        ("tar -tf a.tar", "tar -tf a.tar \"--\"'to-command=sh'"),
        ("rm old.log", "\"r\"'m' -rf src"),  # rm -r asks every time, however it is spelt
        # the sandbox review: other archivers' listings covered their extraction, which writes
        # whatever names the archive holds; zstd -o and gzip -N write a file of the attacker's name
        ("ar t lib.a", "ar x lib.a"),
        ("ar tv lib.a", "ar xv lib.a"),
        ("ar t lib.a", "ar rcs conftest.py x.o"),
        ("cpio -t -F a.cpio", "cpio -idv -F a.cpio"),
        ("cpio -it -F a.cpio", "cpio -p -F list dest"),
        ("7z l a.7z", "7z x a.7z"),
        ("7z l a.7z", "7z e a.7z -o."),
        ("bsdtar -tf a.tar", "bsdtar -xf a.tar"),
        ("jar tf a.jar", "jar xf a.jar"),
        ("unrar l a.rar", "unrar x a.rar"),
        ("pax -f a.tar", "pax -rf a.tar"),
        ("zstd -d notes.zst", "zstd -d payload.zst -o conftest.py"),
        ("gzip -d notes.gz", "gzip -dN payload.gz"),
        ("gunzip notes.gz", "gunzip -N payload.gz"),
        # the attacker re-review of those: a mode letter inside an option's value, a switch
        # before the command word, the JVM's own options, lz4's second file
        ("cpio -t -F a.cpio", "cpio -i -Ftx.a"),
        ("cpio -t -F a.cpio", "cpio -idm -Htar -F a.cpio"),
        ("cpio -t -F a.cpio", "cpio -i -F -t"),
        ("7z l a.7z", "7z -slt x a.7z"),
        ("unrar l a.rar", "unrar -ol x a.rar"),
        ("jar tf lib.jar", "jar tf agent.jar -J-javaagent:agent.jar"),
        ("lz4 -d a.lz4", "lz4 -d a.lz4 conftest.py"),
        ("sort f.txt", ">/dev/null PATH=."),
        # the shell review of 2026-12-07: each ran unasked under the first's approval
        ("groff -Tascii plain.roff", "groff -U -Tascii doc.roff"),  # runs doc.roff's .sy requests
        ("nroff plain.roff", "nroff -U doc.roff"),
        ("troff plain.roff", "troff -aU doc.roff"),
        # a repository made during the chat is writable: its config runs at the user's next git
        ("cp notes.txt notes.bak", "cp settings.ini tools/.git/config"),
        ("cp notes.txt notes.bak", "cp -t tools/.GIT settings.ini"),
        ("mv a b", "mv settings.ini --target-directory=tools/.hg"),
        ("cp notes.txt notes.bak", "cp settings.ini tools/.sl/config"),  # Sapling (attacker review, 2026-12-07 night)
        ("ln -s a b", "ln -s ../../hooks tools/.jj/repo"),
        ("info coreutils", "info -o conftest.py coreutils"),
        ("pdfroff plain.roff", "pdfroff -U doc.roff"),
        # the attacker re-review: pic's `sh` command under -U, and groff's wrappers passing it on
        ("pic a.pic", "pic -U evil.pic"),
        ("gpic a.pic", "gpic -U evil.pic"),
        ("roff2pdf a.roff", "roff2pdf -U evil.roff"),
        ("mmroff a.roff", "mmroff -U evil.roff"),
        # the attacker review of 2026-12-07 (night): a security key provider is a shared library
        ("ssh-keygen -l -f key.pub", "ssh-keygen -t ed25519-sk -w ./evil.so -f k -N ''"),
        ("ssh-keygen -l -f key.pub", "ssh-keygen -qw./evil.so -t ed25519-sk -f k"),
        ("gpgsm --version", "gpgsm --agent-program ./evil --list-keys"),
        ("pygmentize -V", "pygmentize -x -l evil.py:L notes.txt"),
        ("dpkg-architecture -qDEB_HOST_ARCH", "dpkg-architecture -c sh -c 'touch PWNED'"),
        ("opt-14 --version", "opt-14 -load ./evil.so a.ll"),
        ("rpcgen -h", "rpcgen -Y ./dir a.x"),
        ("kubectl version", "kubectl --kubeconfig evil.yaml get pods"),
        ("c99-gcc a.c", "c99-gcc -wrapper ./evil a.c"),
        ("javadoc A.java", "javadoc -docletpath . -doclet Evil A.java"),
    ],
)
def test_other_code_running_forms_ask(allowed, attack):
    """A program on the list of those approvable by name (approvable_programs.py) is
    remembered, and its risky form still asks; one off the list is not remembered at all."""
    book = ApprovalBook(None)
    remembered = book.remember(shell(allowed), "exec", Decision("session"), SESSION)
    on_the_list = approvable_by_name(allowed.split()[0])
    assert bool(remembered) == on_the_list, allowed
    assert book.decide(shell(allowed), "exec", SESSION) == ("auto" if on_the_list else "ask")
    assert book.decide(shell(attack), "exec", SESSION) == "ask", attack
    assert programs_of(attack) is None, attack


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("pydoc3 json", "pydoc3 evilmod"),  # imports evilmod.py from the folder
        ("javac A.java", "javac A.java"),  # runs annotation processors the folder declares
        ("setarch x86_64 uname -m", "setarch x86_64 touch PWNED"),
        ("linux64 uname -m", "linux64 touch PWNED"),
        ("run-parts --test d", "run-parts d"),  # every script in d
        ("perf stat ls", "perf stat touch PWNED"),
        ("umask", "umask 000"),  # every later file 666, and nothing asked again
        ("ulimit -a", "ulimit -n 3"),
        ("stty -a", "stty kill Q"),  # the terminal then drops the start of thau's next command line
        # an assignment after a redirection was read as the program, and the rest went unchecked
        ("2>&1 LC_ALL=C sort f.txt", "2>&1 LC_ALL=C bash -c 'touch PWNED'"),
        # the shell review of 2026-12-07: the loader runs any ELF; TeX writes files, LuaTeX runs Lua
        ("ld.so --help", "ld.so ./prog"),
        ("/lib64/ld-linux-x86-64.so.2 --list /bin/ls", "/lib64/ld-linux-x86-64.so.2 ./prog"),
        ("pdflatex a.tex", "pdflatex evil.tex"),
        ("lualatex a.tex", "lualatex evil.tex"),
        # the diff review of 2026-12-07: forms the option lists missed; each call asks now
        ("pandoc a.md -t html", "pandoc --lua-filter x.lua a.md"),
        ("pandoc a.md -t html", "pandoc a.md -t writer.lua"),
        ("pandoc a.md -t html", "pandoc a.md --pdf-engine ./evil"),
        ("pandoc a.md -t html", "pandoc --log=conftest.py a.md"),
        ("convert a.png b.jpg", "convert '|touch PWNED' out.png"),
        ("convert a.png b.jpg", "convert 'png:|touch PWNED' out.png"),
        ("convert a.png b.jpg", "convert msl:evil.msl"),
        ("magick a.png b.jpg", "magick @list.txt out.png"),
        ("grog doc.roff", "grog --run -U doc.roff"),
        ("ld64.so.2 --help", "ld64.so.2 ./prog"),
        ("gm convert a.png b.png", "gm convert '|touch PWNED' out.png"),
        ("display a.png", "display '|touch PWNED'"),
        ("texlua -v", "texlua evil.lua"),
        ("platex a.tex", "platex evil.tex"),
        ("pandoc-lua -v", "pandoc-lua evil.lua"),
        # the attacker review of 2026-12-07 (night): each ran unasked under the first's approval
        ("pdb3 --help", "pdb3 -c continue evil.py"),
        ("start-stop-daemon --version", "start-stop-daemon --start --exec /bin/sh -- -c 'touch PWNED'"),
        ("gpg-connect-agent --version", "gpg-connect-agent -E /bin/sh -c 'touch PWNED'"),
        ("gpgtar --version", "gpgtar --gpg ./evilgpg.sh --list-archive x.tar.gpg"),
        ("prove --version", "prove t"),
        ("capsh --print", "capsh -- -c 'touch PWNED'"),
        ("idle3 --help", "idle3 -r evil.py"),
        # the diff review of the same night: each ran `touch PWNED` (or the workspace's code) unasked
        ("fstab-decode --help", "fstab-decode sh -c 'touch PWNED'"),
        ("logsave --help", "logsave /dev/null sh -c 'touch PWNED'"),
        ("msgexec --version", "msgexec -i x.po sh -c 'touch PWNED'"),
        ("memusage --help", "memusage sh -c 'touch PWNED'"),
        ("sotruss --help", "sotruss sh -c 'touch PWNED'"),
        ("gpg-agent --version", "gpg-agent --homedir ./gh --daemon sh -c 'touch PWNED'"),
        ("make-first-existing-target --help", "make-first-existing-target all"),
        ("lli-14 --version", "lli-14 evil.ll"),
        ("gio help", "gio launch x.desktop"),
        ("dpkg-buildpackage --help", "dpkg-buildpackage -b"),
    ],
)
def test_what_the_approvals_review_found_is_never_remembered(allowed, attack):
    """From the approvals review of 2026-12-06: allowing the first command for the session
    covered the second, which runs other code or changes the shell. No approval by name holds
    for these programs now: each call asks."""
    book = ApprovalBook(None)
    assert book.remember(shell(allowed), "exec", Decision("session"), SESSION) == []  # before: remembered
    assert book.decide(shell(attack), "exec", SESSION) == "ask"


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("git apply --check x.patch", "git apply x.patch"),  # wrote conftest.py from the patch
        ("git apply --stat x.patch", "git apply --unsafe-paths --directory=/tmp/out x.patch"),
        ("git am --show-current-patch", "git am x.mbox"),
        ("patch --dry-run -i x.patch", "patch -i x.patch"),
        ("patch --dry-run -i x.patch", "patch -o Makefile notes.txt x.patch"),
    ],
)
def test_what_writes_the_files_a_patch_names_always_asks(allowed, attack):
    """A patch file decides which files git apply, git am and patch write: approving a dry
    run (or a --check) for the session covered the real run, which wrote conftest.py."""
    book = ApprovalBook(None)
    assert book.remember(shell(allowed), "exec", Decision("session"), SESSION) == []  # nothing to cover
    assert book.decide(shell(allowed), "exec", SESSION) == "ask"
    assert book.decide(shell(attack), "exec", SESSION) == "ask", attack


@pytest.mark.parametrize(
    "attack",
    [
        "cat <<EOF\nhi\nEOF",
        "ls `touch PWNED`",
        "ls $(touch PWNED)",
        "ls <(touch PWNED)",
        "ls $((1+1))",
        "(ls)",
        "{ ls; }",
        "if true; then ls; fi",
        "for x in a; do ls; done",
        "ls() { touch PWNED; }",
        "ls 'unbalanced",
    ],
)
def test_forms_the_old_reader_refused_still_ask(attack):
    """Regression guard: these asked before the bashlex rewrite too, and must keep asking."""
    book = book_allowing("ls", "cat f")
    assert book.decide(shell(attack), "exec", SESSION) == "ask", attack


INTERPRETERS = [
    "python3 x.py",
    "bash -c 'ls'",
    "env ls",
    "xargs ls",
    "timeout 5 ls",
    "sh x.sh",
    "python3.12 -c 'print(1)'",
    "/usr/bin/python3 x.py",
    "node x.js",
    "perl -e 1",
    "sudo ls",
    "nohup ls",
    "watch ls",
    "awk '{print}' f",
    "sed -n '1e id' f",  # a plain sed (-n p) is approvable since 2026-12-08: e runs the line
    "eval ls",
    "source x",
    ". x",
    "command ls",
    "exec ls",
    "ssh host ls",
    "Bash -c ls",
    "ipython -c 1",
    "pyenv exec python -c 1",
    "pyenv versions",
    "micromamba run ls",
    "mamba run ls",
    "xonsh -c ls",
    "hy -c 1",
    "graalpy -c 1",
    "micropython -c 1",
]


@pytest.mark.parametrize("command", INTERPRETERS)
@pytest.mark.parametrize("kind", ["session", "always"])
def test_interpreters_and_launchers_are_never_remembered(command, kind, tmp_path):
    assert "this call only" in assert_never_remembered(command, kind, tmp_path)


def assert_never_remembered(command: str, kind: str, tmp_path: Path) -> str:
    """`a`/`A` on `command` records nothing, in memory or in the file, and it asks again;
    returns what the card says `a` covers."""
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    assert book.remember(shell(command), "exec", Decision(kind), SESSION) == []
    assert book.entries() == []
    assert not path.exists()
    assert book.decide(shell(command), "exec", SESSION) == "ask"
    assert programs_of(command) is None
    return describe_session_scope(shell(command))


def test_an_interpreter_in_an_old_approvals_file_approves_nothing(tmp_path):
    """A file written before this fix may hold `bash` or `env`: they cover nothing now."""
    path = tmp_path / "approvals.json"
    rows = [{"tool": "run_shell", "program": name} for name in ("bash", "env", "ls", "python3")]
    path.write_text(json.dumps({"version": 1, "approvals": rows}))
    book = ApprovalBook(path)
    assert book.decide(shell("ls -la"), "exec", SESSION) == "auto"
    for command in ("bash -c 'touch PWNED'", "env touch PWNED", "python3 -c 1", "ls && bash x"):
        assert book.decide(shell(command), "exec", SESSION) == "ask", command


@pytest.mark.parametrize(
    ("command", "programs"),
    [
        ("ls -la", ["ls"]),
        ("ls | grep x", ["ls", "grep"]),
        ("git status", ["git status"]),
        ("git log --oneline -5 2>&1", ["git log"]),
        ("ls > /dev/null", ["ls"]),
        ("ls 2>/dev/null >&2", ["ls"]),
        ("git --no-pager log -p", ["git log"]),
        ("git --version", ["git"]),
        ("git diff && wc -l a && ls; echo done\nhead a", ["git diff", "wc", "ls", "echo", "head"]),
        ("grep -rn 'a;b|c' src", ["grep"]),
        ("find . -name '*.py'", ["find"]),
        ("tar -tzf a.tar.gz", ["tar"]),
        ("unzip -l a.zip", ["unzip"]),
        ("unzip -p a.zip notes.txt", ["unzip"]),
        ("ar t lib.a", ["ar"]),
        ("ar tv lib.a", ["ar"]),
        ("7z l a.7z", ["7z"]),
        ("jar tf a.jar", ["jar"]),
        ("cpio -it -F a.cpio", ["cpio"]),
        ("cpio -itv --file=a.cpio", ["cpio"]),
        ("7z l -slt a.7z", ["7z"]),
        ("unrar lt a.rar", ["unrar"]),
        ("bsdtar -tzf a.tgz", ["bsdtar"]),
        ("zstd -d notes.zst", ["zstd"]),
        ("gzip -d notes.gz", ["gzip"]),
        ("ls ~/notes", ["ls"]),
        ("gcc -DDEBUG -O2 -Wall -c main.c -o main.o", ["gcc"]),  # -DDEBUG is not a -B
        ("uniq -f 2 notes.txt", ["uniq"]),  # 2 is -f's value, not a file uniq writes
        ("uniq --skip-chars 3 -c notes.txt", ["uniq"]),
        ("xxd -c 8 notes.bin", ["xxd"]),
        ("shuf -n 3 notes.txt", ["shuf"]),
        ("curl -s https://example.com", ["curl"]),
        ("tar -tzf a.tgz", ["tar"]),
        ("dd if=notes.txt bs=1 count=4", ["dd"]),
    ],
)
def test_ordinary_commands_stay_covered(command, programs):
    assert programs_of(command) == programs
    book = ApprovalBook(None)
    book.remember(shell(command), "exec", Decision("session"), SESSION)
    assert book.decide(shell(command), "exec", SESSION) == "auto"
    assert describe_session_scope(shell(command)) == "run_shell: " + ", ".join(dict.fromkeys(programs))


@pytest.mark.parametrize(
    "attack",
    ["git clean -fdx", "git checkout -- .", "git apply fix.patch", "git diff --output=Makefile", "git reset --hard"],
)
def test_allowing_git_status_allows_that_subcommand_only(attack):
    """Second attacker review: the card said "run_shell: git" for `git status`, read as the
    subcommand, but the approval covered every git subcommand: `git clean -fdx` (which deletes
    untracked files) then ran without a card."""
    book = book_allowing("git status")
    assert describe_session_scope(shell("git status")) == "run_shell: git status"
    assert book.decide(shell("git status --short"), "exec", SESSION) == "auto"
    assert book.decide(shell("git --no-pager status"), "exec", SESSION) == "auto"
    assert book.decide(shell(attack), "exec", SESSION) == "ask"


def test_a_push_is_never_approved_by_name(tmp_path):
    """An approval of `git push --dry-run origin main` covered `git push ./vendor/mirror.git
    main`, and a push runs the receiving repository's hooks: a bare repository planted in
    the workspace ran its pre-receive (attacker review). A push now asks every time."""
    workspace = tmp_path / "ws"
    subprocess.run(["git", "init", "-q", "-b", "main", str(workspace)], check=True)
    (workspace / "a.txt").write_text("a\n")
    run_in_bash("git add a.txt && git -c user.name=u -c user.email=u@x commit -qm init", workspace)
    run_in_bash("git init -q --bare vendor/mirror.git", workspace)
    hook = workspace / "vendor" / "mirror.git" / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\necho pwned > "$GIT_DIR/../../PWNED"\n')
    hook.chmod(0o755)
    run_in_bash("git push -q ./vendor/mirror.git main", workspace)
    assert (workspace / "PWNED").exists(), "a push runs the receiving repository's hooks"

    book = ApprovalBook(None)
    assert book.remember(shell("git push --dry-run origin main"), "exec", Decision("session"), SESSION) == []
    assert book.decide(shell("git push ./vendor/mirror.git main"), "exec", SESSION) == "ask"
    assert book.decide(shell("git push"), "exec", SESSION) == "ask"


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        # the system's editor and pager, by their alternatives' names (vim -c, less +!)
        ("editor --version", "editor -es -c '!touch PWNED' -c qa"),
        ("sensible-pager notes.txt", "sensible-pager '+!touch PWNED' notes.txt"),
        ("vim.basic --version", "vim.basic -es -c '!touch PWNED' -c qa"),
        # binutils load a plugin library, or read options from an @file
        ("nm a.o", "nm --plugin ./p.so a.o"),
        ("nm a.o", "nm --pl ./p.so a.o"),
        ("nm a.o", "nm @opts a.o"),
        ("ar t lib.a", "ar --plugin ./p.so t lib.a"),
        ("x86_64-linux-gnu-nm a.o", "x86_64-linux-gnu-nm --plugin ./p.so a.o"),
        # compilers by their other names
        ("x86_64-linux-gnu-gcc -c a.c", "x86_64-linux-gnu-gcc -wrapper ./evil -c a.c"),
        ("c99 -c a.c", "c99 -wrapper ./evil -c a.c"),
        ("ssh-keygen -l -f key.pub", "ssh-keygen -D ./p.so"),
        # programs that import the project's modules, or run a toolchain the workspace names
        ("flask --version", "flask --app evil routes"),
        ("uvicorn --version", "uvicorn evil:app"),
        ("django-admin --version", "django-admin check --settings=evil"),
        ("rustc --version", "rustc --version"),
        # a runner named by its full path is still a runner
        ("/usr/bin/make --version", "/usr/bin/make"),
    ],
)
def test_programs_that_run_code_under_other_names_ask(allowed, attack):
    """Each was approvable by name, and the second form then ran unasked (attacker review):
    a program is judged by all its names now, and more runners and plugin options are known."""
    book = ApprovalBook(None)
    book.remember(shell(allowed), "exec", Decision("session"), SESSION)
    assert book.decide(shell(attack), "exec", SESSION) == "ask"


def test_a_program_is_judged_by_the_file_it_resolves_to(tmp_path, monkeypatch):
    """`editor` is /etc/alternatives' link to vim.basic on Debian: a link named innocently
    on PATH is judged as the program it is."""
    from thau_tui.engine.code_running import identities

    (tmp_path / "python3.12").write_text("#!/bin/sh\n")
    (tmp_path / "python3.12").chmod(0o755)
    (tmp_path / "lister").symlink_to(tmp_path / "python3.12")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert "python" in identities("lister")
    assert ApprovalBook(None).remember(shell("lister -V"), "exec", Decision("session"), SESSION) == []
    assert identities("nosuchprogram") == ["nosuchprogram"]  # not on PATH: its own name only
    assert "invoke" not in identities("deb-systemd-invoke")  # only a cross toolchain's target is cut off
    # fourth review: a listed program's file under another name, and a version in the middle
    (tmp_path / "rlwrap-real").write_text("#!/bin/sh\n")
    (tmp_path / "rlwrap-real").chmod(0o755)
    (tmp_path / "rlwrap").symlink_to(tmp_path / "rlwrap-real")  # as /etc/alternatives does
    assert "rlwrap" in identities("rlwrap-real")
    assert ApprovalBook(None).remember(shell("rlwrap-real --version"), "exec", Decision("session"), SESSION) == []
    assert "perl" in identities("perl5.36-x86_64-linux-gnu")
    assert identities("arm-none-eabi-gcc")[:2] == ["arm-none-eabi-gcc", "gcc"]


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("rm old.log", "rm -rf src"),
        ("git clean -n", "git clean -fdx"),
        ("git reset --soft HEAD~1", "git reset --hard HEAD~1"),
        ("git stash list", "git stash drop"),
        ("git checkout main", "git checkout -- ."),
        ("git branch -v", "git branch -D main"),
        ("git rm --cached notes.txt", "git rm -r src"),
        ("shred --version", "shred -u notes.txt"),
        ("truncate --help", "truncate -s0 notes.txt"),
        # fourth review: abbreviations git and getopt accept, and what else throws work away
        ("rm notes.txt", "rm --rec src"),
        ("git reset HEAD f", "git reset --ha"),
        ("git clean -n", "git clean --fo -dx"),
        ("git clean -n", "git clean -dx"),  # clean.requireForce may be off
        ("git checkout main", "git checkout src"),
        ("git switch main", "git switch --discard-changes other"),
        ("git restore --staged f", "git restore -S --work f"),
        ("git branch", "git branch --del --forc feat"),
        ("git branch", "git branch -M feat main"),
        ("git worktree list", "git worktree remove --force wt"),
        ("git reflog", "git reflog expire --expire=now --all"),
        ("git update-ref refs/heads/x HEAD", "git update-ref -d refs/heads/main"),
        ("git read-tree HEAD", "git read-tree -u --reset HEAD"),
        ("git checkout-index a", "git checkout-index -f -a"),
        ("rsync -a a/ b/", "rsync -a --del a/ b/"),
    ],
)
def test_an_approval_never_covers_a_command_that_destroys_work(allowed, attack):
    """An approval of `git clean -n` (a dry run) for the session covered `git clean -fdx`,
    and one of `rm old.log` covered `rm -rf src`: what throws work away asks each time."""
    book = ApprovalBook(None)
    book.remember(shell(allowed), "exec", Decision("session"), SESSION)
    assert book.decide(shell(attack), "exec", SESSION) == "ask"
    assert book.remember(shell(attack), "exec", Decision("session"), SESSION) == []


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        (ToolCall("run_python", {"code": "print(1)"}), ToolCall("run_python", {"code": "import os; os.remove('a')"})),
        (ToolCall("debug_code", {"code": "1/0"}), ToolCall("debug_code", {"code": "open('a', 'w').write('x')"})),
        (ToolCall("run_tests", {"path": "tests"}), ToolCall("run_tests", {"path": "tests"})),
    ],
)
def test_a_tool_that_runs_code_is_never_allowed_for_the_session(allowed, attack):
    """`a` on run_python's print(1) let any later code run unasked, though the shell never
    approves an interpreter by name (fifth attacker review). Code tools ask every time."""
    from thau_tui.engine.approvals import describe_session_scope

    book = ApprovalBook(None)
    assert book.remember(allowed, "exec", Decision("session"), SESSION) == []
    assert book.remember(allowed, "exec", Decision("always"), SESSION) == []
    assert book.decide(attack, "exec", SESSION) == "ask"
    assert describe_session_scope(allowed).startswith("this call only (once: it runs")
    assert ApprovalBook(None, {attack.name: "auto"}).decide(attack, "exec", SESSION) == "auto"  # the config may
