"""Every console block of README.md and docs/*.md is marked, and each replayed one shows what its
commands print today.

A replayed block (`<!-- replayed: NAME -->`) names its situation: what the page says the block assumes
(prod.yaml with `protect: false` added to a secret, a pull request on `main`, ...), set up below in a
temporary folder, most often a clone of a git repository whose `main` holds the checkout's files.
tests/console_blocks.py runs the block's commands there through the installed console script and
compares; its docstring lists what the comparison forgives (`...` lines, trailing white space,
durations, recovery dates, cache keys, phase lines), and nothing else.

When a block and the commands differ, the failure shows the difference and the whole printed output:
correct the page to it, unless the output is the bug.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
import yaml

from cli_support import COMMAND, ROOT
from install_support import copy_of_the_checkout
from console_blocks import ConsoleBlock, comparable, console_blocks, difference, every_console_block, matches, replay
from docs_scenarios import SCENARIOS, Scenario, history
from folder_support import split_declaration
from preview_support import ADOPTED_PARTNER_TOKEN

pytestmark = pytest.mark.slow

PROD = (ROOT / "environments" / "prod.yaml").read_text()
PULUMI_TEMPLATE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["template"]["config"]


@dataclass(frozen=True)
class Situation:
    """What a block assumes."""

    setup: Callable[[Path, Path], Path]
    """(an empty folder, the checkout's git copy) -> the folder the block's commands run in."""
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    """A command of the block that cannot run here -> the shell command that stands for it."""


def git(repository: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(repository), "-c", "user.name=docs", "-c", "user.email=docs@example.invalid",
                    *arguments], check=True, capture_output=True)


def clone_of_the_checkout(folder: Path, checkout: Path) -> Path:
    """A clone of the checkout's copy (branch main), with `.venv` leading to this checkout's environment,
    as `.venv/bin/secrets-layout` in a block expects."""
    repository = folder / "repo"
    subprocess.run(["git", "clone", "--quiet", str(checkout), str(repository)], check=True, capture_output=True)
    (repository / ".venv").symlink_to(COMMAND.parent.parent, target_is_directory=True)
    return repository


def edited(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert text.count(old) == 1, f"{file.name} no longer holds {old!r} once: update the situation"
    file.write_text(text.replace(old, new))


# --- the situations ---------------------------------------------------------------------------------

def the_examples(folder: Path, checkout: Path) -> Path:
    """This repository as it is: the four example environments."""
    return clone_of_the_checkout(folder, checkout)


BAD_DECLARATION = """\
environment: prod
security_account: 111111111111
primary_region: us-east-1
accounts:
  prod-app: "222222222222"
secrets:
  - name: prod/database/credentials
    kind: database
    value:
      generate: {key: password, length: 32}
      template: {username: admin, password: hunter2}
    rotation: {managed: rds-postgresql-single-user, every_days: 30, window: 3d}
"""


def a_pull_request(folder: Path, checkout: Path) -> Path:
    """This repository on a branch of `main`, where a pull request's commits go."""
    repository = clone_of_the_checkout(folder, checkout)
    git(repository, "checkout", "--quiet", "-b", "change")
    return repository


def three_mistakes(folder: Path, checkout: Path) -> Path:
    """README "Validating declarations": bad.yaml, with an unquoted account ID, a password written in
    its template and a rotation window in days."""
    repository = clone_of_the_checkout(folder, checkout)
    (repository / "bad.yaml").write_text(BAD_DECLARATION)
    return repository


def prod_with_an_unprotected_secret(folder: Path, checkout: Path) -> Path:
    """README: prod.yaml with `protect: false` added to a secret (the Stripe key), and a copy of prod.yaml,
    prod-rotation.yaml, whose partner token rotates every 120 days."""
    repository = clone_of_the_checkout(folder, checkout)
    stripe_readers = "    readers: [{account: prod-app, roles: [PaymentsRole]}]\n    replicas: []\n"
    edited(repository / "environments" / "prod.yaml", stripe_readers, stripe_readers + "    protect: false\n")
    rotation = repository / "environments" / "prod-rotation.yaml"
    rotation.write_text(PROD)
    edited(rotation, "function:partner-rotator\", every_days: 60}", "function:partner-rotator\", every_days: 120}")
    return repository


def prod_with_a_mistyped_security_account(folder: Path, checkout: Path) -> Path:
    repository = clone_of_the_checkout(folder, checkout)
    edited(repository / "environments" / "prod.yaml", 'security_account: "111111111111"',
           'security_account: "111111111112"')
    return repository


def dev_moved_to_another_region(folder: Path, checkout: Path) -> Path:
    """README "What --base shows": dev protected but for one secret, with a secret adopted by import_id,
    committed; in the working tree, its primary region (and the adopted secret's ARN) moved to us-west-2."""
    repository = clone_of_the_checkout(folder, checkout)
    dev = repository / "environments" / "dev.yaml"
    edited(dev, "  protect: false\n", "  protect: true\n")
    flag_readers = "    readers: [{account: dev-app, roles: [DevAppRole]}]\n"
    edited(dev, flag_readers, flag_readers + "    protect: false\n" + ADOPTED_PARTNER_TOKEN)
    git(repository, "commit", "--quiet", "-am", "dev: protected, a secret adopted")
    edited(dev, "primary_region: us-east-1", "primary_region: us-west-2")
    edited(dev, "arn:aws:secretsmanager:us-east-1:", "arn:aws:secretsmanager:us-west-2:")
    return repository


SEARCH_TEAM_FILE = """\
# yaml-language-server: $schema=../team-file.schema.json
secrets:
  - name: {name}
    kind: generic
    value: {{external: true}}
    rotation: {{every_days: 400, lambda_arn: "arn:aws:lambda:us-east-1:111111111111:function:search-rotator"}}
    readers: [{{account: prod-app, roles: [SearchRole]}}]
"""


def prod_as_a_folder(folder: Path, checkout: Path, search_secret: str) -> Path:
    """README "An environment as a folder": prod.yaml split into environments/prod/ (a file per team),
    and the search team's file, which declares `search_secret` rotating every 400 days."""
    repository = clone_of_the_checkout(folder, checkout)
    declaration = repository / "environments" / "prod.yaml"
    split_declaration(declaration, repository / "environments" / "prod")
    declaration.unlink()
    (repository / "environments" / "prod" / "search.yaml").write_text(SEARCH_TEAM_FILE.format(name=search_secret))
    return repository


def a_stack_made_by_pulumi_new(folder: Path, checkout: Path) -> Path:
    """README "Starting from this repository": `pulumi new` copied the repository and stored its answers
    (environment qa, the other questions' defaults) in Pulumi.qa.yaml, as tests/test_template.py does."""
    repository = clone_of_the_checkout(folder, checkout)
    answers = {key: question["default"] for key, question in PULUMI_TEMPLATE.items()}
    answers["secrets-layout:environment"] = "qa"
    (repository / "Pulumi.qa.yaml").write_text(yaml.safe_dump({"config": answers}, sort_keys=True))
    return repository


def an_empty_folder(folder: Path, checkout: Path) -> Path:
    """README "Using it in your own repository": where a platform team starts (the block makes its repository)."""
    return folder


DECLARE_THE_EXAMPLE = ("sed -i -e '/^secrets: \\[\\]$/d' -e '/^# secrets:$/,/^#       - {account: app/ s/^# //' "
                       "environments/acme.yaml")
"""What the README's `$EDITOR` step does here: the commented example secret `init` writes, uncommented."""
NEW_REPOSITORY = Situation(an_empty_folder, stand_ins={
    "python3 -m venv .venv && . .venv/bin/activate": ":  # this checkout's .venv, first on PATH, stands for it",
    'pip install "secrets-layout[full] @ git+<this repository\'s URL>"': ":  # and for what it installs",
    "$EDITOR environments/acme.yaml        # declare a secret (the file shows an example)": DECLARE_THE_EXAMPLE,
})


def readme_code_block(opening: str) -> str:
    """The README's code block whose first line is `opening` (without its fences)."""
    found = re.search(rf"```\w*\n({re.escape(opening)}\n.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert found, f"README.md has no code block starting with {opening!r}"
    return found.group(1)


def acme_with_a_program_of_its_own(folder: Path, checkout: Path) -> Path:
    """README "Using it in your own repository": the new repository with its example secret declared, and
    the README's infra/__main__.py."""
    repository = folder / "platform-secrets"
    repository.mkdir()
    git(repository, "init", "--quiet")
    subprocess.run([str(COMMAND), "init", "acme", "--security-account", "123456789012",
                    "--account", "app=210987654321"], cwd=repository, check=True, capture_output=True)
    subprocess.run(["bash", "-c", DECLARE_THE_EXAMPLE], cwd=repository, check=True)
    (repository / "infra").mkdir()
    (repository / "infra" / "__main__.py").write_text(
        readme_code_block("# infra/__main__.py: the secrets-layout components plus a secret of our own"))
    return repository


def pull_request(folder: Path, checkout: Path, scenario: Scenario) -> Path:
    """A docs page's scenario: its declaration on `main`, the change on the branch `change`."""
    return history(folder / "repo", scenario)


SITUATIONS: dict[str, Situation] = {
    "the-examples": Situation(the_examples),
    "a-pull-request": Situation(a_pull_request),
    "three-mistakes": Situation(three_mistakes),
    "prod-with-an-unprotected-secret": Situation(prod_with_an_unprotected_secret),
    "prod-with-a-mistyped-security-account": Situation(prod_with_a_mistyped_security_account),
    "dev-moved-to-another-region": Situation(dev_moved_to_another_region),
    "prod-as-a-folder-with-a-name-twice": Situation(partial(prod_as_a_folder,
                                                            search_secret="prod/payments/stripe-api-key")),
    "prod-as-a-folder-with-a-slow-rotation": Situation(partial(prod_as_a_folder,
                                                               search_secret="prod/search/stripe-api-key")),
    "a-stack-made-by-pulumi-new": Situation(a_stack_made_by_pulumi_new),
    "a-new-repository": NEW_REPOSITORY,
    "acme-with-a-program-of-its-own": Situation(acme_with_a_program_of_its_own),
    **{scenario.id: Situation(partial(pull_request, scenario=scenario)) for scenario in SCENARIOS},
}

BLOCKS = every_console_block()
REPLAYED = [block for block in BLOCKS if block.marker and block.marker[0] == "replayed"]


# --- every block is marked, and every mark is honoured -------------------------------------------------

def test_every_console_block_says_whether_it_is_replayed():
    unmarked = [f"{block.where}: a console block without <!-- replayed: NAME --> or <!-- illustrative: REASON --> "
                "on the line before" for block in BLOCKS if block.marker is None]
    assert unmarked == []


def test_every_replayed_block_names_a_situation_and_every_situation_is_used():
    named = {block.marker[1] for block in REPLAYED}
    assert [f"{block.where}: no situation {block.marker[1]!r} in tests/test_console_blocks.py"
            for block in REPLAYED if block.marker[1] not in SITUATIONS] == []
    assert set(SITUATIONS) - named == set(), "situations no block names"


def test_every_stand_in_is_a_command_of_its_blocks():
    for name, situation in SITUATIONS.items():
        commands = {step.command for block in REPLAYED if block.marker[1] == name for step in block.steps}
        assert set(situation.stand_ins) <= commands, name


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The checkout's files (as they are in the working tree), committed as `main` of a new git repository
    that situations clone."""
    copy = copy_of_the_checkout(tmp_path_factory.mktemp("checkout") / "checkout")
    git(copy, "init", "--quiet", "--initial-branch=main")
    git(copy, "add", "--all")
    git(copy, "commit", "--quiet", "-m", "the checkout")
    return copy


@pytest.mark.parametrize("block", REPLAYED, ids=[block.where for block in REPLAYED])
def test_the_block_shows_what_its_commands_print(block: ConsoleBlock, checkout, tmp_path):
    situation = SITUATIONS[block.marker[1]]
    (tmp_path / "situation").mkdir()
    directory = situation.setup(tmp_path / "situation", checkout)
    commands = [situation.stand_ins.get(step.command, step.command) for step in block.steps]
    printed = replay(commands, directory, tmp_path / "outputs")
    report = difference(block, printed)
    if report is not None:
        pytest.fail(f"{block.where} (situation {block.marker[1]}) differs from what its commands print:\n{report}",
                    pytrace=False)


# --- how a block is read and compared (tests/console_blocks.py) ---------------------------------------

PAGE = """\
Text.

<!-- replayed: the-examples -->
```console
$ secrets-layout validate
environments/dev.yaml: valid
```

```console
$ secrets-layout version
```

- a list item:

  <!-- illustrative: no Pulumi CLI here -->
  ```
  $ pulumi up
  ```

```sh
make test
```

```
$ git status
```
"""


def test_a_console_block_is_tagged_console_or_starts_with_a_command_and_its_marker_is_the_line_before():
    blocks = console_blocks("PAGE.md", PAGE)
    assert [(block.line, block.marker, block.lines) for block in blocks] == [
        (4, ("replayed", "the-examples"), ("$ secrets-layout validate", "environments/dev.yaml: valid")),
        (9, None, ("$ secrets-layout version",)),
        (16, ("illustrative", "no Pulumi CLI here"), ("$ pulumi up",)),
        (24, None, ("$ git status",)),
    ]
    assert blocks[0].where == "PAGE.md:4"


SHOWN = ["header", "...", "summary"]


@pytest.mark.parametrize(("shown", "printed", "expected"), [
    (SHOWN, ["header", "a", "b", "summary"], True),
    (SHOWN, ["header", "summary"], True),  # `...` stands for no line too
    (SHOWN, ["header", "a", "summary", "more"], False),  # nothing after the last shown line
    (SHOWN, ["other header", "summary"], False),
    (["...", "x", "...", "x"], ["x", "y", "x"], True),
    (["...", "x", "...", "x"], ["x", "y"], False),
    (["a", "b"], ["a", "b"], True),
    (["a", "b"], ["a", "c"], False),
    (["a"], ["a", "b"], False),
    ([], [], True),
    ([], ["printed"], False),  # a block that shows nothing claims the command prints nothing
    (["a ..."], ["a b"], False),  # `...` inside a line is text, not a wildcard
])
def test_an_ellipsis_line_stands_for_any_number_of_lines_and_nothing_else_is_loose(shown, printed, expected):
    assert matches(shown, printed) is expected


PHASE = "secrets-layout preview: simulating the deployment of environments/dev.yaml: 4.1 s"


@pytest.mark.parametrize(("shown", "printed", "expected"), [
    pytest.param(["row   "], "row\n", True, id="trailing-white-space"),
    pytest.param(["one is recoverable until 2026-12-07"], "one is recoverable until 2027-01-31\n", True,
                 id="recovery-date"),
    pytest.param(["the base deployed until 2026-12-07"], "the base deployed until 2027-01-31\n", False,
                 id="another-date-is-text"),
    pytest.param(["a7616ff3e423132952dee07cf680e68d571c9d0a6b38ba260909e2ce4abb782b.simulation.json"],
                 f"{'0' * 64}.simulation.json\n", True, id="cache-key"),
    pytest.param(["a7616ff3e423132952dee07cf680e68d571c9d0a6b38ba260909e2ce4abb782b"], f"{'0' * 64}\n", False,
                 id="another-digest-is-text"),
    pytest.param([PHASE], PHASE.replace("4.1 s", "12.7 s") + "\n", True, id="duration"),
    pytest.param(["report"], f"report\n{PHASE}\n", True, id="phase-lines-left-out-where-none-is-shown"),
    pytest.param([PHASE, "report"], f"{PHASE}\n{PHASE.replace('dev.yaml', 'prod.yaml')}\nreport\n", False,
                 id="phase-lines-compared-where-one-is-shown"),
    pytest.param(["30 resources: 0.3 s"], "30 resources: 0.4 s\n", False, id="other-durations-are-text"),
    pytest.param([f"{'f' * 64}.simulation.json", f"{'f' * 64}.verdicts.json"],
                 f"{'0' * 64}.verdicts.json\n{'1' * 64}.simulation.json\n", True, id="cache-listing-in-any-order"),
    pytest.param([f"{'f' * 64}.access.json"], f"{'0' * 64}.access.json\n", True, id="access-entry-key"),
    pytest.param([f"{'f' * 64}.access.json"], f"{'0' * 64}.verdicts.json\n", False, id="an-entry-of-another-kind"),
    pytest.param([f"{'f' * 64}.simulation.json", "x", f"{'f' * 64}.verdicts.json"],
                 f"{'0' * 64}.verdicts.json\nx\n{'1' * 64}.simulation.json\n", False,
                 id="only-a-run-of-cache-entries-is-sorted"),
])
def test_only_the_documented_volatile_parts_are_normalised(shown, printed, expected):
    assert matches(*comparable(shown, printed)) is expected


def test_a_stale_block_is_caught_and_the_failure_shows_the_printed_output():
    shown = '  "Resource": "arn:aws:kms:us-east-2:111111111111:key/*"'
    block = ConsoleBlock("PAGE.md", 1, ("replayed", "the-examples"), ("$ secrets-layout consumer-policy x", shown))
    printed = ['  "Resource": "arn:aws:kms:us-east-1:111111111111:key/*"\n']
    report = difference(block, printed)
    assert report is not None and report.startswith("$ secrets-layout consumer-policy x\n--- shown\n+++ printed\n")
    assert report.endswith('--- printed, in full:\n  "Resource": "arn:aws:kms:us-east-1:111111111111:key/*"\n')
