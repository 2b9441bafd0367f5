"""Run folders and recipes do not depend on the folder thau was started from."""

from __future__ import annotations

import os
from pathlib import Path

import thau_tui
from thau_tui import paths
from thau_tui.train.recipe import SHIPPED_RECIPES

PACKAGE_ROOT = Path(thau_tui.__file__).resolve().parent.parent  # the checkout, or site-packages in CI
REPO = Path(__file__).resolve().parents[2]


def test_a_relative_runs_dir_never_resolves_against_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("THAU_HOME")
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    found = paths.runs_dir("train/runs")
    assert found.is_absolute()
    assert found != tmp_path / "train" / "runs"  # the folder thau was started from plays no part
    # From a source checkout: its own train/runs (beside its recipes and data); installed: thau's data folder.
    assert found in (PACKAGE_ROOT / "train" / "runs", paths.data_dir() / "train" / "runs")
    assert (found == PACKAGE_ROOT / "train" / "runs") == (PACKAGE_ROOT / "pyproject.toml").is_file()


def test_with_thau_home_set_relative_runs_go_under_it_even_in_a_checkout(tmp_path, monkeypatch):
    """THAU_HOME is one folder for everything: in a source checkout a relative runs_dir
    still wrote into the checkout's train/runs, so a second install (or a reviewer's
    private home) added runs to the repository and listed the checkout's runs."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    found = paths.runs_dir("train/runs")
    assert found == tmp_path / "home" / "data" / "train" / "runs"
    assert paths.runs_dir(str(tmp_path / "abs")) == tmp_path / "abs"


def test_an_absolute_runs_dir_is_kept(tmp_path):
    assert paths.runs_dir(str(tmp_path / "runs")) == tmp_path / "runs"
    assert paths.runs_dir("~/thau-runs") == Path.home() / "thau-runs"


def test_outside_a_checkout_runs_go_to_thaus_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("THAU_HOME")
    fake_package = tmp_path / "site-packages" / "thau_tui"
    fake_package.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(fake_package / "paths.py"))
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "data")
    assert paths.runs_dir("train/runs") == tmp_path / "data" / "train" / "runs"


def test_the_shipped_recipes_are_the_repositorys_recipes():
    # The package carries copies of train/recipes/ (installed thau has no repository); they must not drift.
    folder = REPO / "train" / "recipes"
    shipped = {
        str(p.relative_to(SHIPPED_RECIPES)): p.read_text(encoding="utf-8") for p in SHIPPED_RECIPES.rglob("*.yaml")
    }
    repo = {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.rglob("*.yaml")}
    assert shipped and shipped == repo
    assert any(name.startswith("history/") for name in shipped)


def test_the_picker_lists_current_recipes_not_the_history():
    """Twenty recipes, most of them one pass of the shipped adapter's history, filled the
    picker: those live in recipes/history/, still readable by path."""
    from thau_tui.train.recipe import available_recipes, load_recipe

    names = [choice.name for choice in available_recipes()]
    assert "smollm2-tools" in names and "tiny-smoke" in names and len(names) <= 8
    assert not [name for name in names if name in {"smollm2-tools-focus2", "smollm2-tools-focus10-full"}]
    old = load_recipe(SHIPPED_RECIPES / "history" / "smollm2-tools-focus2.yaml")
    assert old.name == "smollm2-tools-focus2"


def test_training_children_keep_their_activations_in_the_heap(monkeypatch):
    from thau_tui.train.runs import MALLOC_TUNABLES, trainer_env

    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    env = trainer_env()
    assert env["GLIBC_TUNABLES"] == MALLOC_TUNABLES
    assert "glibc.malloc.mmap_threshold=33554432" in MALLOC_TUNABLES  # 32 MB: the most glibc allows
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    assert trainer_env()["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"  # the user's own setting wins


def test_recipes_are_listed_in_natural_order():
    """The picker listed focus10 before focus2 (helper's UX review)."""
    from thau_tui.train.recipe import available_recipes, natural_order

    names = [choice.name for choice in available_recipes()]
    assert names.index("smollm2-tools-90min") < names.index("smollm2-tools-diverse36-full")
    assert natural_order(Path("focus2.yaml")) < natural_order(Path("focus10-full.yaml"))


def test_a_configured_recipe_never_comes_from_the_workspace(tmp_path, monkeypatch):
    """The config default train/recipes/smollm2-tools.yaml was found in the current folder (the
    workspace) first: a file of that name a tool or a cloned repository left became the recipe,
    with its data_dir (the training and the eval split) from the workspace too. A path the user
    types at `thau train --recipe` still means the file in the current folder."""
    from thau_tui.train.recipe import find_recipe

    planted = tmp_path / "train" / "recipes" / "smollm2-tools.yaml"
    planted.parent.mkdir(parents=True)
    planted.write_text("name: planted\ndata_dir: train/data\n")
    monkeypatch.chdir(tmp_path)
    assert find_recipe("train/recipes/smollm2-tools.yaml") == SHIPPED_RECIPES / "smollm2-tools.yaml"
    assert find_recipe("train/recipes/smollm2-tools.yaml", from_current_folder=True) == planted
    assert find_recipe(str(planted)) == planted  # an absolute path is the user's own choice
    # a bare name typed at --recipe is a named recipe, not a file of that name here (the
    # training review: ./smollm2-tools, with its own base_model and data_dir, was taken)
    (tmp_path / "smollm2-tools").write_text("name: planted\n")
    assert find_recipe("smollm2-tools", from_current_folder=True) == SHIPPED_RECIPES / "smollm2-tools.yaml"


def test_a_recipe_name_cannot_leave_the_runs_folder(tmp_path):
    """`name` is joined to runs_dir for the run folder: '../../x' put a run anywhere."""
    from thau_tui.train.runs import check_recipe

    for name in ("../../escaped/run", "..", "a/b", "/abs"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"name: {name!r}\n")
        problem = check_recipe(bad)
        assert problem and "name" in problem, name
    good = tmp_path / "good.yaml"
    good.write_text("name: my-run_2.b\n")
    assert not check_recipe(good)


def test_a_missing_base_model_is_said_before_any_data_is_built(tmp_path):
    """With no data set yet, a base_model that does not exist was said only after minutes of
    'no data set ...; building it' (training review)."""
    from thau_tui.train.runs import check_recipe

    for base in (tmp_path / "nope.gguf", tmp_path):
        recipe = tmp_path / "r.yaml"
        recipe.write_text(f"name: r\nbase_model: {base}\ndata_dir: {tmp_path / 'no-data-yet'}\n")
        problem = check_recipe(recipe)
        assert problem and "base_model" in problem and "is not a file" in problem, problem
    recipe.write_text(f"name: r\ninit_adapter: {tmp_path / 'gone.gguf'}\n")
    assert "no such GGUF file" in (check_recipe(recipe) or "")


def test_a_shipped_recipe_looks_no_higher_than_the_folder_holding_the_package(tmp_path, monkeypatch):
    """Installed into a project's own .venv, the shipped recipes' folders above site-packages
    are the workspace: its train/data must not become the data set."""
    from thau_tui.train import recipe

    site = tmp_path / "project" / ".venv" / "lib" / "python3" / "site-packages"
    shipped = site / "thau_tui" / "train" / "recipes"
    shipped.mkdir(parents=True)
    (tmp_path / "project" / "train" / "data").mkdir(parents=True)  # the workspace's
    (site / "train" / "data-ok").mkdir(parents=True)  # beside the package: still found
    monkeypatch.setattr(recipe, "SHIPPED_RECIPES", shipped)
    found = recipe.resolve_recipe_path(shipped / "x.yaml", "train/data", fallback=True)
    assert found == paths.data_dir() / "train" / "data"
    assert recipe.resolve_recipe_path(shipped / "x.yaml", "train/data-ok") == site / "train" / "data-ok"


def test_a_user_recipe_does_not_find_its_data_above_thau_s_config_folder(tmp_path, monkeypatch):
    """From the training review: ~/.config/thau/recipes/mine.yaml with the default data_dir
    (train/data) looked in every folder up to /, and found ~/train/data, which a tool can make
    when the home folder is the workspace: the training and eval data came from there."""
    from thau_tui.paths import data_dir
    from thau_tui.train.recipe import load_recipe, user_recipes_dir

    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home" / ".thau"))
    planted = tmp_path / "home" / "train" / "data"
    planted.mkdir(parents=True)
    mine = user_recipes_dir() / "mine.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\n")
    recipe = load_recipe(mine)
    assert Path(recipe.data_dir) != planted  # before: the home folder's train/data
    assert Path(recipe.data_dir) == data_dir() / "train" / "data"


def test_the_trainers_pythonpath_never_names_the_folder_thau_started_in(tmp_path, monkeypatch):
    """Attacker review (2026-12-06): `PYTHONPATH=src` in the user's shell put a planted
    src/yaml.py ahead of the real one in the trainer, which runs outside the sandbox. Relative
    entries and entries in the current folder (the workspace) are dropped; the rest stay."""
    from thau_tui.paths import package_import_folder
    from thau_tui.train.runs import trainer_env

    workspace, elsewhere = tmp_path / "ws", tmp_path / "lib"
    (workspace / "src").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["src", str(workspace / "src"), "", str(elsewhere)]))
    assert trainer_env()["PYTHONPATH"].split(os.pathsep) == [str(package_import_folder()), str(elsewhere)]


def test_the_trainers_pythonpath_never_names_the_configured_workspace(tmp_path, monkeypatch):
    """Started elsewhere with tools.workspace set, an entry in that workspace stayed, and a
    sitecustomize.py there ran in the trainer (final review)."""
    from thau_tui import KEEP_OUT_VARIABLE
    from thau_tui.paths import package_import_folder
    from thau_tui.train.runs import trainer_env

    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    (workspace / "src").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv(KEEP_OUT_VARIABLE, str(workspace.resolve()))
    monkeypatch.setenv("PYTHONPATH", str(workspace / "src"))
    assert trainer_env()["PYTHONPATH"].split(os.pathsep) == [str(package_import_folder())]


def test_training_cosmetics_name_what_they_mean(tmp_path):
    """From the training review: the recipe picker cut the reason after the path ('is not
    val'); the status line said 'adapter adapter.gguf' for every run; a huge max_steps was taken
    (an ETA of 10^17 hours)."""
    import pytest

    from thau_tui.train.recipe import RecipeChoice, RecipeError, parse_recipe
    from thau_tui.ui.model_loading import adapter_label
    from thau_tui.ui.screens.training import RecipePicker

    deep = tmp_path / "a" / "long" / "folder" / "of" / "recipes"
    deep.mkdir(parents=True)
    broken = deep / "broken.yaml"
    broken.write_text("name: broken\nrank: lots\n")
    label = RecipePicker._label(RecipeChoice("broken", broken, False))
    assert "rank: Input should be a valid integer" in label, label
    assert adapter_label(str(tmp_path / "runs" / "tiny-20261207-0100" / "adapter.gguf")) == (
        "tiny-20261207-0100/adapter.gguf"
    )
    assert adapter_label("/m/thau-smollm2-135m-tools.lora.gguf") == "thau-smollm2-135m-tools.lora.gguf"
    with pytest.raises(RecipeError, match="max_steps"):
        parse_recipe("name: r\nmax_steps: 99999999999999999999\n")


def test_following_thau_keeps_a_hangup_nohup_ignores_and_works_off_the_main_thread():
    """`nohup thau train` was cancelled by the hangup nohup is there to block: thau and its
    trainer replaced the ignored SIGHUP with a cancel; and trainer.main() run on another
    thread raised 'signal only works in main thread' instead of its error event (rereview2)."""
    import subprocess
    import sys
    import threading

    code = (
        "import signal, threading\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from thau_tui.train.runs import follow_parent\n"
        "follow_parent(threading.Event())\n"
        "hup, term = signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGTERM)\n"
        "print(hup is signal.SIG_IGN, term is not signal.SIG_DFL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "True"], done.stdout + done.stderr
    from thau_tui.train import trainer

    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(trainer.main(["--recipe", "/nonexistent/r.yaml"])))
    worker.start()
    worker.join(60)
    assert codes == [1]


def test_a_data_folder_with_one_of_its_two_files_is_refused_not_rebuilt(tmp_path):
    """Building the missing eval.jsonl replaced the train.jsonl beside it, the user's own
    (headless review follow-up)."""
    from thau_tui.train.runs import check_recipe, needs_data

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"messages": []}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: mine\ndata_dir: {data}\n")
    problem = check_recipe(recipe) or ""
    assert f"the data folder {data} holds train.jsonl but no eval.jsonl" in problem
    (data / "eval.jsonl").write_text('{"messages": []}\n')
    assert check_recipe(recipe) is None and not needs_data(recipe)
